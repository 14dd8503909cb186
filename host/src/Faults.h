//
// Faults.h — plugin faults contained: which plugin each loop and worker thread is running (a
// PluginMark per thread, read by the stall watchdog and by the fatal-signal handler), the
// precomputed records that name them, and the handler for SIGSEGV, SIGBUS, SIGFPE, SIGILL and
// SIGABRT.
//
#ifndef PARLEY_HOST_FAULTS_INCLUDED
#define PARLEY_HOST_FAULTS_INCLUDED

#include "parley/PluginMark.h"
#include <atomic>
#include <string>

namespace parley {

class PluginRegistry;

namespace host {

struct Connection;

/// One plugin on one route: what a PluginMark's site points to while the plugin runs. Made once
/// per (kind, plugin, version, file, route) and never freed, so that another thread (the
/// watchdog) or a signal handler may read one at any time.
struct PluginSite
{
	std::string kind;      ///< "responder" or "gate"
	std::string plugin;
	std::string version;
	std::string file;      ///< the library it came from
	std::string route;
	std::string text;      ///< "plugin 'x' 1.0 (file /p/x.so) on route /r", for the signal handler

	/// The record of `plugin` (its current version and file in `registry`) on `route`.
	static const PluginSite* get(const std::string& kind, const std::string& plugin, const std::string& route,
		const PluginRegistry& registry);
};

/// The mark of one thread that calls plugins, with what the watchdog needs to name the call.
struct ThreadMark
{
	PluginMark mark;
	/// Event loops: the connection of the call in progress (stored before every enter on a loop
	/// thread; null on workers). Read by the watchdog only while `inspecting`, see inspect().
	std::atomic<const Connection*> connection{nullptr};
	/// Set by the watchdog while it reads `connection`; the loop waits for it before deleting
	/// connections (beforeDelete).
	std::atomic<bool> inspecting{false};
	char name[32] = {};    ///< "event loop 0", "worker 3" (for the signal handler)
	/// The end of the signal handler's line: what happens next.
	const char* fate = "the host dies with the signal";
	bool loop = false;
	unsigned index = 0;

	void setName(bool isLoop, unsigned i);

	/// The loop is about to delete connections: waits while the watchdog reads one (loop thread;
	/// a fence and a load, once per turn that deletes connections).
	void beforeDelete() noexcept
	{
		std::atomic_thread_fence(std::memory_order_seq_cst);
		while (inspecting.load(std::memory_order_seq_cst)) {}
	}
};

/// Installs the fatal-signal handler (SA_ONSTACK) for SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT.
/// In plugin code it writes one line to stderr naming the plugin, its version and file, the
/// route and the thread; then (anywhere) it restores the default action and raises the signal
/// again, so the process dies by it (with a core) as it would have.
void installFatalSignalHandler();

/// Makes `mark` the calling thread's mark (what the signal handler reads) and gives the thread
/// an alternate signal stack (so that a stack overflow is reported too), freed at thread exit.
void attachThread(ThreadMark& mark);

} // namespace host
} // namespace parley

#endif
