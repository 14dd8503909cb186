//
// HostLoop.h — one event loop thread of the host with its layers: the loop accepts, the
// Upgrader takes a connection through TLS and its request head to the 101, the WebSocket layer
// runs the connection, the Dispatch runs the route's responders.
//
#ifndef PARLEY_HOST_HOSTLOOP_INCLUDED
#define PARLEY_HOST_HOSTLOOP_INCLUDED

#include "Dispatch.h"
#include "EventLoop.h"
#include "LoopState.h"
#include "Upgrader.h"
#include "WebSocketLayer.h"
#include "WorkerPool.h"
#include "parley/host/Metrics.h"
#include <atomic>
#include <cstdint>
#include <string_view>
#include <vector>

namespace parley {
namespace host {

class HostContext;
class TlsContexts;

class HostLoop final : public EventLoop::Handler
{
public:
	/// Creates the loop and its chains; `tls`: null for plain connections. Throws ConfigError as Dispatch does and
	/// std::system_error if epoll or eventfd cannot be created.
	HostLoop(unsigned id, HostContext& context, WorkerPool& workers, IsolatedPool& isolated, HostCounts& counts,
		const TlsContexts* tls);

	/// Stops the loop (if running).
	~HostLoop() override;

	HostLoop(const HostLoop&) = delete;
	HostLoop& operator=(const HostLoop&) = delete;

	/// Starts the loop thread; it accepts from `listener` (the host's listening socket, shared
	/// by all loops) from then on.
	void start(int listener)
	{
		_loop.setListener(listener);
		_loop.start(*this);
	}

	/// Stops accepting, closes every connection (1001 for WebSockets, one write each) and joins.
	void stop() { _loop.stop(); }

	/// Stops accepting for good (any thread; see EventLoop::stopAccepting).
	void stopAccepting() { _loop.stopAccepting(); }

	/// Graceful stop (any thread): on its next turn the loop gives every WebSocket its 1001 after
	/// the replies to what it has read (WebSocketLayer::closeForDrain).
	void drain()
	{
		_drainRequested.store(true, std::memory_order_release);
		_loop.wake();
	}

	/// After drain(): true once the loop has started closing its connections; `closing` is the
	/// number of WebSockets it closes.
	bool drainStarted(std::size_t& closing) const
	{
		closing = _drainClosing.load(std::memory_order_relaxed);
		return _drainStarted.load(std::memory_order_acquire);
	}

	/// See Dispatch::push / Dispatch::broadcast (thread-safe).
	bool push(ConnectionId connection, std::uint16_t route, PayloadKind kind, std::string_view payload)
	{
		return _dispatch.push(connection, route, kind, payload);
	}
	void broadcast(std::uint16_t route, PayloadKind kind, std::string_view payload)
	{
		_dispatch.broadcast(route, kind, payload);
	}

	/// The plugin call in progress on this loop (for the Watchdog).
	ThreadMark& mark() { return _s.mark; }
	/// Wakes the loop so that it looks at the registry's and the configuration's generations now.
	void poke() { _loop.wake(); }

	/// Adds this loop's counters to `metrics` and its per-route ones to `routes` (by route id,
	/// grown as needed) (thread-safe).
	void collect(Metrics& metrics, std::vector<RouteMetrics>& routes) const;
	/// Adds this loop's open connections per route id to `counts` (any thread).
	void routeConnections(std::vector<std::size_t>& counts) const;

private:
	void onThreadStart() override { attachThread(_s.mark); }
	void onTurnStart() override
	{
		_s.bind();
		_s.mark.mark.advance();   // for the Watchdog: a new turn
		_dispatch.checkGenerations();
	}
	void onAccept(int fd, const sockaddr_storage& peer) override
	{
		_upgrader.accept(fd, peer);
		balance();
	}
	void onReady(void* tag, std::uint32_t events) override;
	void onWake() override
	{
		_dispatch.takeInbox();
		if (_drainRequested.load(std::memory_order_acquire) && !_drainStarted.load(std::memory_order_relaxed)) startDrain();
		if (_loop.acceptingHeld()) balance();
	}
	void startDrain();
	void onTick() override;
	void onTurnEnd() override;
	bool hasWork() const override { return _ws.hasReadsPending(); }
	void onStop() override;
	/// Publishes this loop's connection count, then holds accepting while the loop has clearly
	/// more connections than the least loaded loop, so that a burst of long-lived connections
	/// spreads over the loops (the least loaded loop always accepts).
	void balance();

	std::atomic<bool> _drainRequested{false};
	std::atomic<bool> _drainStarted{false};
	std::atomic<std::size_t> _drainClosing{0};
	EventLoop _loop;
	LoopState _s;
	WebSocketLayer _ws;
	Dispatch _dispatch;
	Upgrader _upgrader;
};

} // namespace host
} // namespace parley

#endif
