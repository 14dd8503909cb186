//
// Watchdog.h — one thread that notices a plugin call (a responder on an event loop or a worker,
// a gate on a worker) running longer than engine.stall_timeout_ms, by reading the threads'
// PluginMarks every TickMs: no cost on the per-message path beyond the marks' stores.
//
#ifndef PARLEY_HOST_WATCHDOG_INCLUDED
#define PARLEY_HOST_WATCHDOG_INCLUDED

#include "Faults.h"
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace parley {
namespace host {

class HostContext;
struct HostCounts;

/// A stall: one line naming the plugin, its route, the connection (on a loop) and the thread;
/// /health answers 503 "stalled" while a loop is stalled, and the other loops take its new
/// connections; when the call returns, one line says after how long. engine.stall_action =
/// abort writes the line, then abort()s. Reads engine.stall_timeout_ms and engine.stall_action
/// from the configuration in force on every tick (they are live on SIGHUP).
class Watchdog
{
public:
	static constexpr unsigned TickMs = 100;

	/// `marks`: every loop's and worker's mark (they outlive the watchdog); `onLoopStall(loop,
	/// stalled)` is called when a loop stalls and when it recovers (watchdog thread).
	Watchdog(HostContext& context, HostCounts& counts, std::vector<ThreadMark*> marks,
		std::function<void(unsigned loop, bool stalled)> onLoopStall);
	~Watchdog();
	Watchdog(const Watchdog&) = delete;
	Watchdog& operator=(const Watchdog&) = delete;

	void start();
	/// Stops and joins the thread. Idempotent.
	void stop();

	std::uint64_t stalls() const noexcept { return _stalls.load(std::memory_order_relaxed); }
	unsigned loopsStalled() const noexcept { return _loopsStalled.load(std::memory_order_relaxed); }
	unsigned workersStalled() const noexcept { return _workersStalled.load(std::memory_order_relaxed); }

	/// The threads inside a plugin call that have not left it within `graceMs` (those the
	/// watchdog found stalled are not waited for), each described in one line. For a stop that
	/// cannot join them. Any thread; call after stop().
	std::vector<std::string> stuck(unsigned graceMs);

private:
	struct Watch
	{
		ThreadMark* mark;
		const void* site = nullptr;
		std::uint64_t progress = 0;
		std::uint64_t sinceMs = 0;   // when the watchdog first saw this call
		bool stalled = false;
	};

	void run();
	void check(Watch& w, std::uint64_t nowMs, unsigned timeoutMs, bool abortOnStall);
	/// "plugin 'x' 1.0 on route /r (event loop 0, connection 256 from 127.0.0.1:5000)", if the
	/// thread is still in the call (`progress`) it was seen in; else "".
	std::string describe(ThreadMark& mark, const void* site, std::uint64_t progress);

	HostContext& _context;
	HostCounts& _counts;
	std::vector<Watch> _watches;
	std::function<void(unsigned, bool)> _onLoopStall;
	std::atomic<std::uint64_t> _stalls{0};
	std::atomic<unsigned> _loopsStalled{0};
	std::atomic<unsigned> _workersStalled{0};
	std::mutex _mutex;
	std::condition_variable _wake;
	bool _stopping = false;
	std::thread _thread;
};

} // namespace host
} // namespace parley

#endif
