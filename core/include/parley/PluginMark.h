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
/// plugin, leave() after it: one plain store each (no locked instruction, no system call).
struct PluginMark
{
	/// What runs now: an opaque record of the host naming the plugin and its route; null when
	/// the thread is outside plugin code.
	std::atomic<const void*> site{nullptr};
	/// Bumped by the thread's owner at the start of every loop turn or job (not per call, to
	/// keep the per-message cost at the two stores): a reader that sees the same site and value
	/// twice knows the thread spent the whole time between in that plugin, within one turn.
	std::atomic<std::uint64_t> progress{0};

	void enter(const void* what) noexcept { site.store(what, std::memory_order_release); }
	void leave() noexcept { site.store(nullptr, std::memory_order_relaxed); }
	/// A new loop turn or job (owner thread only).
	void advance() noexcept { progress.store(progress.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
};

} // namespace parley

#endif
