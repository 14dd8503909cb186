// A complete Parley gate: admits clients from listed addresses, and with a key when one is set.
// Route it with `route./mine.gates = my-gate`; it runs on the host's workers before the 101.
#include "parley/Gate.h"
#include <Poco/ClassLibrary.h>
#include <set>
#include <stdexcept>
#include <string>

class MyGate: public parley::Gate
{
public:
	void configure(const parley::Settings& settings) override
	{
		auto it = settings.find("allow"); // plugin.my-gate.allow = 127.0.0.1, ::1
		std::string list = it != settings.end() ? it->second : "127.0.0.1, ::1";
		_allowed.clear();
		for (std::size_t start = 0; start <= list.size();)
		{
			std::size_t end = list.find(',', start);
			if (end == std::string::npos) end = list.size();
			const std::size_t first = list.find_first_not_of(" \t", start);
			const std::size_t last = list.find_last_not_of(" \t", end - 1);
			if (first < end && last != std::string::npos && last >= first) _allowed.insert(list.substr(first, last - first + 1));
			start = end + 1;
		}
		if (_allowed.empty()) throw std::invalid_argument("allow: lists no address (use * for any)");
		it = settings.find("key");
		_key = it != settings.end() ? it->second : "";
	}

	void check(const parley::GateRequest& request, parley::GateVerdict& verdict) override
	{
		const std::string address(request.remoteAddress);
		if (!_allowed.count("*") && !_allowed.count(address))
		{
			verdict.refuse(403, "address not allowed");
			return;
		}
		if (!_key.empty())
		{
			std::string given(request.header("X-Api-Key")); // headers: case-insensitive names
			if (given.empty()) given = request.parameter("api_key"); // ?api_key=..., percent-decoded
			if (!sameKey(given))
			{
				verdict.refuse(401, "wrong or missing key");
				verdict.headers.emplace_back("WWW-Authenticate", "ApiKey realm=\"my-gate\"");
				return;
			}
		}
		verdict.admit("guest@" + address);                                   // the connection's identity
		verdict.attributes["my-gate.port"] = std::to_string(request.remotePort); // responders see it too
	}

private:
	/// Compares with the key in constant time (no early exit that would leak how much matched).
	bool sameKey(const std::string& given) const
	{
		unsigned char difference = given.size() == _key.size() ? 0 : 1;
		for (std::size_t i = 0; i < given.size(); ++i) difference |= given[i] ^ _key[i % _key.size()];
		return difference == 0;
	}

	std::set<std::string> _allowed;
	std::string _key;
};

static const parley::SettingInfo kSettings[] = {
	{"allow", "127.0.0.1, ::1", "client addresses admitted, comma-separated (* for any)"},
	{"key", "", "when set, clients must also send it as X-Api-Key or ?api_key="},
};
PARLEY_DECLARE_PLUGIN(MyGate, "my-gate", "0.1.0", "Admits listed addresses (and a key, when set)", kSettings)
