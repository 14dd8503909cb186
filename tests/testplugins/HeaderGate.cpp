//
// HeaderGate.cpp — test gate `header-gate`: admits a request whose X-Token header (or `token`
// query parameter) equals plugin.header-gate.token, as the user named by X-User; refuses the
// others with plugin.header-gate.status (default 401), a reason and a WWW-Authenticate header.
// It adds the attribute "seen-by" = "header-gate" and "ip" = the remote address, and admits
// until the Unix time in X-Expires if there is one.
//
#include "parley/Gate.h"
#include <Poco/ClassLibrary.h>
#include <string>

namespace {
const parley::SettingInfo kSettings[] = {
	{"token", "secret", "the token that admits"},
	{"status", "401", "the status of a refusal"},
};
}

class HeaderGate: public parley::Gate
{
public:
	void configure(const parley::Settings& settings) override
	{
		auto it = settings.find("token");
		if (it != settings.end()) _token = it->second;
		it = settings.find("status");
		if (it != settings.end()) _status = std::stoi(it->second);
	}

	void check(const parley::GateRequest& request, parley::GateVerdict& verdict) override
	{
		std::string offered(request.header("X-Token"));
		if (offered.empty()) offered = request.parameter("token");
		if (offered != _token)
		{
			verdict.refuse(_status, offered.empty() ? "no token" : "wrong token");
			verdict.headers.emplace_back("WWW-Authenticate", "Token realm=\"test\"");
			// A careless gate: the host must keep framing the answer itself.
			verdict.headers.emplace_back("Content-Length", "999");
			verdict.headers.emplace_back("Transfer-Encoding", "chunked");
			return;
		}
		verdict.admit(std::string(request.header("X-User")));
		verdict.attributes["seen-by"] = "header-gate";
		verdict.attributes["ip"] = std::string(request.remoteAddress);
		const std::string expires(request.header("X-Expires"));   // Unix time: the host closes with 1008 then
		if (!expires.empty()) verdict.expiresAt = std::stoll(expires);
	}

private:
	std::string _token = "secret";
	int _status = 401;
};

PARLEY_DECLARE_PLUGIN(HeaderGate, "header-gate", "1.0.0", "Test: admits requests with the right X-Token", kSettings)
