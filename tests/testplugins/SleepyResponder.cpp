//
// SleepyResponder.cpp — test plugin `sleepy`, a blocking responder: sleeps
// plugin.sleepy.sleep_ms (default 50) before echoing, like a slow database call.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>
#include <chrono>
#include <string>
#include <thread>

namespace {
const parley::SettingInfo kSettings[] = {{"sleep_ms", "50", "milliseconds to sleep per message"}};
}

class SleepyResponder: public parley::Responder
{
public:
	void configure(const parley::Settings& settings) override
	{
		auto it = settings.find("sleep_ms");
		if (it != settings.end()) _sleep = std::chrono::milliseconds(std::stoul(it->second));
	}

	bool blocking() const override { return true; }

	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		std::this_thread::sleep_for(_sleep);
		reply.echo(message);
	}

private:
	std::chrono::milliseconds _sleep{50};
};

PARLEY_DECLARE_PLUGIN(SleepyResponder, "sleepy", "1.0.0", "Test: blocking responder that sleeps", kSettings)
