//
// RateLimitResponder.cpp — the `rate-limit` plugin, a chain filter: passes messages on unchanged
// and closes a connection with 1008 when it sends more than plugin.rate-limit.per_second messages
// within one second.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>
#include <charconv>
#include <chrono>
#include <stdexcept>
#include <unordered_map>

namespace {

const parley::SettingInfo kSettings[] = {
	{"per_second", "100", "messages one connection may send in one second; more closes it with 1008"},
};

} // namespace

class RateLimitResponder: public parley::Responder
{
public:
	void configure(const parley::Settings& settings) override
	{
		auto it = settings.find("per_second");
		if (it == settings.end()) return;
		const std::string& text = it->second;
		unsigned long value = 0;
		auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
		if (ec != std::errc() || end != text.data() + text.size() || value == 0)
			throw std::invalid_argument("per_second: '" + text + "' is not a positive whole number");
		_perSecond = value;
	}

	void onClose(parley::ConnectionId connection) override { _windows.erase(connection); }

	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		const auto now = std::chrono::steady_clock::now();
		Window& window = _windows[message.connection];
		if (window.count == 0 || now - window.start >= std::chrono::seconds(1))
		{
			window.start = now;
			window.count = 0;
		}
		if (++window.count > _perSecond)
		{
			reply.close(1008, "rate limit exceeded");
			return;
		}
		reply.echo(message);
	}

private:
	struct Window
	{
		std::chrono::steady_clock::time_point start;
		unsigned long count = 0;
	};
	unsigned long _perSecond = 100;
	std::unordered_map<parley::ConnectionId, Window> _windows;
};

PARLEY_DECLARE_PLUGIN(RateLimitResponder, "rate-limit", "1.0.0",
	"Chain filter: closes a connection with 1008 above per_second messages", kSettings)
