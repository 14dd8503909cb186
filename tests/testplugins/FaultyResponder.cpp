//
// FaultyResponder.cpp — test plugin `faulty`: echoes, except for "stall <ms>" (sleeps that long
// first; "stall forever" never returns), "crash" (writes through a pointer into the unmapped
// first page), "abort" (abort()) and "overflow" (recurses until the stack overflows).
// plugin.faulty.blocking = true runs it on the workers.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>

namespace {
const parley::SettingInfo kSettings[] = {{"blocking", "false", "run on the worker threads"}};

// Not inlined, not a tail call: each level keeps a frame of its own. `limit` is never reached
// (the stack is not that deep), it only tells the compiler that the recursion may end.
__attribute__((noinline)) unsigned recurse(volatile unsigned depth, unsigned limit)
{
	volatile char frame[4096];
	frame[0] = static_cast<char>(depth);
	if (depth >= limit) return frame[0];
	return recurse(depth + 1, limit) + frame[0];
}
}

class FaultyResponder: public parley::Responder
{
public:
	void configure(const parley::Settings& settings) override
	{
		auto it = settings.find("blocking");
		if (it != settings.end()) _blocking = it->second == "true";
	}

	bool blocking() const override { return _blocking; }

	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		const std::string_view text = message.payload;
		if (text == "stall forever")
		{
			for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
		}
		if (text.substr(0, 6) == "stall ")
			std::this_thread::sleep_for(std::chrono::milliseconds(std::stoul(std::string(text.substr(6)))));
		else if (text == "crash")
			*static_cast<volatile int*>(_nowhere) = 1;
		else if (text == "abort")
			std::abort();
		else if (text == "overflow")
			reply.payload = std::to_string(recurse(0, _depthLimit));
		reply.echo(message);
	}

private:
	bool _blocking = false;
	// In the unmapped first page, like a null pointer's member, but not null: UBSan would stop a
	// store through null itself before the fault (the sanitizer build runs this test too).
	void* volatile _nowhere = reinterpret_cast<void*>(std::uintptr_t(8));
	volatile unsigned _depthLimit = ~0u;
};

PARLEY_DECLARE_PLUGIN(FaultyResponder, "faulty", "1.2.3", "Test: stalls, crashes or aborts on request", kSettings)
