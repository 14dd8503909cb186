//
// Watchdog.cpp
//
#include "Watchdog.h"
#include "EventLoop.h"
#include "HostContext.h"
#include "LoopState.h"
#include <chrono>
#include <cstdlib>

namespace parley {
namespace host {

Watchdog::Watchdog(HostContext& context, HostCounts& counts, std::vector<ThreadMark*> marks,
	std::function<void(unsigned loop, bool stalled)> onLoopStall):
	_context(context),
	_counts(counts),
	_onLoopStall(std::move(onLoopStall))
{
	for (ThreadMark* mark : marks) _watches.push_back(Watch{mark});
}

Watchdog::~Watchdog()
{
	stop();
}

void Watchdog::start()
{
	if (_thread.joinable()) return;
	_thread = std::thread([this] { run(); });
}

void Watchdog::stop()
{
	{
		std::lock_guard<std::mutex> lock(_mutex);
		_stopping = true;
	}
	_wake.notify_all();
	if (_thread.joinable()) _thread.join();
}

void Watchdog::run()
{
	std::unique_lock<std::mutex> lock(_mutex);
	while (!_wake.wait_for(lock, std::chrono::milliseconds(TickMs), [this] { return _stopping; }))
	{
		lock.unlock();
		const auto config = _context.config();
		const std::uint64_t now = EventLoop::clockMs();
		for (Watch& w : _watches) check(w, now, config->engine.stallTimeoutMs, config->engine.stallAbort);
		lock.lock();
	}
}

std::string Watchdog::describe(ThreadMark& mark, const void* site, std::uint64_t progress)
{
	const auto* s = static_cast<const PluginSite*>(site);
	std::string text = (s->kind == "gate" ? "gate '" : "plugin '") + s->plugin + "' " + s->version + " on route " + s->route +
		" (" + mark.name;
	// The connection may be read only while the loop is still in this call: the loop waits for
	// `inspecting` to drop before it deletes connections (ThreadMark::beforeDelete).
	mark.inspecting.store(true, std::memory_order_seq_cst);
	if (mark.mark.site.load(std::memory_order_seq_cst) != site ||
		mark.mark.progress.load(std::memory_order_seq_cst) != progress)
	{
		mark.inspecting.store(false, std::memory_order_seq_cst);
		return std::string();
	}
	if (const Connection* c = mark.connection.load(std::memory_order_acquire))
		text += ", connection " + std::to_string(c->id) + " from " + peerText(c->peer);
	mark.inspecting.store(false, std::memory_order_seq_cst);
	return text + ")";
}

void Watchdog::check(Watch& w, std::uint64_t now, unsigned timeoutMs, bool abortOnStall)
{
	ThreadMark& mark = *w.mark;
	const void* site = mark.mark.site.load(std::memory_order_acquire);
	const std::uint64_t progress = mark.mark.progress.load(std::memory_order_relaxed);
	if (site != nullptr && site == w.site && progress == w.progress)
	{
		if (w.stalled || timeoutMs == 0 || now - w.sinceMs < timeoutMs) return;
		const std::string what = describe(mark, site, progress);
		if (what.empty()) return;   // it just returned
		w.stalled = true;
		_stalls.fetch_add(1, std::memory_order_relaxed);
		(mark.loop ? _loopsStalled : _workersStalled).fetch_add(1, std::memory_order_relaxed);
		const std::string line = "stall: " + what + " has not returned for " + std::to_string(now - w.sinceMs) +
			" ms (engine.stall_timeout_ms = " + std::to_string(timeoutMs) + ")";
		if (abortOnStall)
		{
			_context.logger().fatal(line + "; engine.stall_action = abort: aborting");
			std::abort();
		}
		_counts.logLimits.log(LogStall, Poco::Message::PRIO_ERROR, now, [&] {
			return line + (mark.loop ? "; /health answers 503 stalled and the loop takes no new connection until it returns"
									 : "; the worker takes no other job until it returns");
		});
		if (mark.loop && _onLoopStall) _onLoopStall(mark.index, true);
		return;
	}
	if (w.stalled)
	{
		const auto* s = static_cast<const PluginSite*>(w.site);
		w.stalled = false;
		(mark.loop ? _loopsStalled : _workersStalled).fetch_sub(1, std::memory_order_relaxed);
		if (mark.loop && _onLoopStall) _onLoopStall(mark.index, false);
		_counts.logLimits.log(LogStallOver, Poco::Message::PRIO_WARNING, now, [&] {
			return "stall over: " + std::string(s->kind == "gate" ? "gate '" : "plugin '") + s->plugin + "' on route " +
				s->route + " returned after about " + std::to_string(now - w.sinceMs) + " ms (" + mark.name + ")" +
				(mark.loop ? "; the loop serves again" : "");
		});
	}
	w.site = site;
	w.progress = progress;
	w.sinceMs = now;
}

std::vector<std::string> Watchdog::stuck(unsigned graceMs)
{
	struct Seen
	{
		Watch* w;
		const void* site;
		std::uint64_t progress;
	};
	std::vector<Seen> inside;
	for (Watch& w : _watches)
	{
		const void* site = w.mark->mark.site.load(std::memory_order_acquire);
		if (site) inside.push_back(Seen{&w, site, w.mark->mark.progress.load(std::memory_order_relaxed)});
	}
	const std::uint64_t start = EventLoop::clockMs();
	std::vector<std::string> lines;
	for (;;)
	{
		bool waiting = false;
		for (const Seen& s : inside)
		{
			if (s.w->mark->mark.site.load(std::memory_order_acquire) != s.site ||
				s.w->mark->mark.progress.load(std::memory_order_relaxed) != s.progress)
				continue;
			if (!(s.w->stalled && s.w->site == s.site && s.w->progress == s.progress)) waiting = true;
		}
		if (!waiting || EventLoop::clockMs() - start >= graceMs) break;
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	const std::uint64_t now = EventLoop::clockMs();
	for (const Seen& s : inside)
	{
		const std::string what = describe(*s.w->mark, s.site, s.progress);
		if (what.empty()) continue;
		const bool known = s.w->site == s.site && s.w->progress == s.progress;
		lines.push_back(what + " has not returned for " + std::to_string(now - (known ? s.w->sinceMs : start)) + " ms");
	}
	return lines;
}

} // namespace host
} // namespace parley
