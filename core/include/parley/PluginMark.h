//
// PluginMark.h — where a thread records which plugin code it is running, for the host's stall
// watchdog (another thread reads it) and its fatal-signal handler (the same thread reads it).
//
#ifndef PARLEY_PLUGINMARK_INCLUDED
#define PARLEY_PLUGINMARK_INCLUDED

#include <atomic>
#include <cstdint>

namespace parley {

/// One per thread that calls plugins (an event loop, a worker). enter() before a call into a
/// plugin, leave() after it: two relaxed stores and an add that only this thread writes (no
/// locked instruction, no system call).
struct PluginMark
{
	/// What runs now: an opaque record of the host naming the plugin and its route; null when
	/// the thread is outside plugin code.
	std::atomic<const void*> site{nullptr};
	/// Calls entered so far: a reader that sees the same site and count twice knows the thread
	/// spent the whole time between in one call.
	std::atomic<std::uint64_t> calls{0};

	void enter(const void* what) noexcept
	{
		calls.store(calls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
		site.store(what, std::memory_order_release);
	}
	void leave() noexcept { site.store(nullptr, std::memory_order_relaxed); }
};

} // namespace parley

#endif
