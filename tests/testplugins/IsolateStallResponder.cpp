//
// IsolateStallResponder.cpp — test plugin `isolate-stall`: sleeps plugin.isolate-stall.sleep_ms
// (default 60000) on the message "stall", echoes anything else.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>
#include <chrono>
#include <string>
#include <thread>

namespace {
const parley::SettingInfo kSettings[] = {{"sleep_ms", "60000", "milliseconds to sleep on the message 'stall'"}};
}

class IsolateStallResponder: public parley::Responder
{
public:
	void configure(const parley::Settings& settings) override
	{
		auto it = settings.find("sleep_ms");
		if (it != settings.end()) _sleep = std::chrono::milliseconds(std::stoul(it->second));
	}

	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		if (message.payload == "stall") std::this_thread::sleep_for(_sleep);
		reply.echo(message);
	}

private:
	std::chrono::milliseconds _sleep{60000};
};

PARLEY_DECLARE_PLUGIN(IsolateStallResponder, "isolate-stall", "1.0.0", "Test: sleeps on the message 'stall'", kSettings)
