//
// EventLoopPool.h — the host's event loops, its worker pool and its connection counts.
//
#ifndef PARLEY_HOST_EVENTLOOPPOOL_INCLUDED
#define PARLEY_HOST_EVENTLOOPPOOL_INCLUDED

#include "HostLoop.h"
#include "IsolatedPool.h"
#include "LoopState.h"
#include "Watchdog.h"
#include "WorkerPool.h"
#include "parley/host/Metrics.h"
#include <memory>
#include <string_view>
#include <vector>

namespace parley {
namespace host {

class HostContext;
class TlsContexts;

/// Owns engine.threads loops; all of them accept from the one listening socket.
class EventLoopPool
{
public:
	/// Creates plugins.workers worker threads and `loops` loops (each with its own chains).
	/// Throws ConfigError as Dispatch does.
	EventLoopPool(unsigned loops, HostContext& context, const TlsContexts* tls);

	/// Stops the loops.
	~EventLoopPool();

	EventLoopPool(const EventLoopPool&) = delete;
	EventLoopPool& operator=(const EventLoopPool&) = delete;

	/// Starts every loop's thread: they accept from `listener` (non-blocking) from then on.
	void start(int listener);

	/// Closes every connection (1001 for WebSockets) and joins the loops, then the workers.
	void stop();

	/// Graceful stop, first step: no loop accepts any more (see EventLoop::stopAccepting).
	void stopAccepting();

	/// Graceful stop, second step: every loop closes its WebSockets with 1001 after the replies
	/// to what they sent (HostLoop::drain).
	void drain();

	/// After drain(): true once every loop has started; `closing` = WebSockets being closed.
	bool drainStarted(std::size_t& closing) const;

	/// Returns the number of open sockets (WebSockets and handshakes, closing ones included).
	std::size_t sockets() const { return _counts.sockets.load(std::memory_order_relaxed); }

	/// Returns the number of open WebSocket connections.
	std::size_t open() const { return _counts.websockets.load(std::memory_order_relaxed); }

	/// Returns the counters of all loops.
	Metrics metrics() const;

	/// Queues a pushed message for one connection (its loop is in the id's low byte); returns
	/// false if that loop does not know the connection on that route.
	bool push(ConnectionId connection, std::uint16_t route, PayloadKind kind, std::string_view payload);

	/// Queues a pushed message for every connection of `route` on every loop.
	void broadcast(std::uint16_t route, PayloadKind kind, std::string_view payload);

	/// Open connections per route id (index), on all the loops of this host.
	std::vector<std::size_t> routeConnections() const;

	/// Payload bytes pushed or broadcast to the loops and not applied yet.
	std::size_t inboxBytes() const { return _counts.inboxBytes.load(std::memory_order_relaxed); }

	/// Wakes every loop (after a reload, so that idle loops rebuild their chains now).
	void poke();

	/// Changes engine.max_connections_per_ip and engine.handshakes_per_ip_per_s (reload).
	void setPeerLimits(unsigned maxPerAddress, unsigned perSecond) { _counts.peers.setLimits(maxPerAddress, perSecond); }

	/// Returns the number of loops.
	unsigned size() const { return static_cast<unsigned>(_loops.size()); }
	/// Loops stuck in a plugin call now (Watchdog): /health answers 503 "stalled".
	unsigned loopsStalled() const { return _watchdog ? _watchdog->loopsStalled() : 0; }
	/// For a stop: stops the watchdog, then describes the loops and workers still inside a plugin
	/// call after `graceMs` (Watchdog::stuck); joining them would wait for the plugin.
	std::vector<std::string> stuckInPlugins(unsigned graceMs);

private:
	HostContext& _context;
	HostCounts _counts;
	WorkerPool _workers;                          // outlives the loops' jobs: stopped after them
	IsolatedPool _isolated;                       // the children of isolated routes; outlives the loops' chains
	std::vector<std::unique_ptr<HostLoop>> _loops;
	std::unique_ptr<Watchdog> _watchdog;          // after the loops and workers whose marks it reads
};

} // namespace host
} // namespace parley

#endif
