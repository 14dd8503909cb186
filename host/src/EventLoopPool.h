//
// EventLoopPool.h — the host's event loops and its connection accounting.
//
#ifndef PARLEY_HOST_EVENTLOOPPOOL_INCLUDED
#define PARLEY_HOST_EVENTLOOPPOOL_INCLUDED

#include "EventLoop.h"
#include "WorkerPool.h"
#include "parley/config/HostConfig.h"
#include "parley/host/Metrics.h"
#include <Poco/Logger.h>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace parley {

namespace host {

class HostContext;

/// Owns engine.threads event loops. The HTTP threads reserve a connection slot (at most
/// engine.max_connections), then hand the upgraded socket to the least loaded loop.
class EventLoopPool
{
public:
	/// Creates plugins.workers worker threads and `loops` loops (each with its own chains).
	/// Throws ConfigError as EventLoop does.
	EventLoopPool(unsigned loops, HostContext& context);

	/// Stops the loops.
	~EventLoopPool();

	EventLoopPool(const EventLoopPool&) = delete;
	EventLoopPool& operator=(const EventLoopPool&) = delete;

	/// Starts every loop's thread.
	void start();

	/// Closes every connection with 1001 and joins the loops.
	void stop();

	/// Takes a connection slot; returns false (and counts a refusal) if engine.max_connections
	/// are open.
	bool tryReserve();

	/// Gives back a slot taken with tryReserve() that was not handed to a loop.
	void release();

	/// Hands a non-blocking upgraded socket (with a reserved slot) to the least loaded loop.
	void adopt(int fd, std::uint16_t route, std::string preread);

	/// Counts an upgrade request refused with 400/405/426.
	void countRefusedHandshake() { _handshakesRefused.fetch_add(1, std::memory_order_relaxed); }

	/// Returns the number of open WebSocket connections.
	std::size_t open() const { return _open.load(std::memory_order_relaxed); }

	/// Returns the counters of all loops.
	Metrics metrics() const;

	/// Queues a pushed message for one connection (its loop is in the id's low byte); returns
	/// false if that loop does not know the connection on that route.
	bool push(ConnectionId connection, std::uint16_t route, PayloadKind kind, std::string_view payload);

	/// Queues a pushed message for every connection of `route` on every loop.
	void broadcast(std::uint16_t route, PayloadKind kind, std::string_view payload);

	/// Wakes every loop (after a reload, so that idle loops rebuild their chains now).
	void poke();

	/// Returns the number of loops.
	unsigned size() const { return static_cast<unsigned>(_loops.size()); }

private:
	std::atomic<std::size_t> _open{0};
	std::atomic<std::uint64_t> _refused{0};
	std::atomic<std::uint64_t> _handshakesRefused{0};
	const std::size_t _max;
	WorkerPool _workers;                          // outlives the loops' jobs: stopped after them
	std::vector<std::unique_ptr<EventLoop>> _loops;
};

} // namespace host
} // namespace parley

#endif
