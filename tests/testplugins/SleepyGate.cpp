//
// SleepyGate.cpp — test gate `sleepy-gate`: sleeps plugin.sleepy-gate.sleep_ms (default 200),
// like a database lookup, then admits, appending "+sleepy" to the identity earlier gates gave
// (so a test sees the order gates ran in).
//
#include "parley/Gate.h"
#include <Poco/ClassLibrary.h>
#include <chrono>
#include <string>
#include <thread>

namespace {
const parley::SettingInfo kSettings[] = {{"sleep_ms", "200", "milliseconds to sleep per request"}};
}

class SleepyGate: public parley::Gate
{
public:
	void configure(const parley::Settings& settings) override
	{
		auto it = settings.find("sleep_ms");
		if (it != settings.end()) _sleep = std::chrono::milliseconds(std::stoul(it->second));
	}

	void check(const parley::GateRequest& request, parley::GateVerdict& verdict) override
	{
		std::this_thread::sleep_for(_sleep);
		verdict.admit(std::string(request.identity) + "+sleepy");
		verdict.attributes["slept-ms"] = std::to_string(_sleep.count());
	}

private:
	std::chrono::milliseconds _sleep{200};
};

PARLEY_DECLARE_PLUGIN(SleepyGate, "sleepy-gate", "1.0.0", "Test: a slow gate that admits", kSettings)
