//
// EventLoopPool.cpp
//
#include "EventLoopPool.h"
#include "HostContext.h"

namespace parley {
namespace host {

EventLoopPool::EventLoopPool(unsigned loops, HostContext& context):
	_max(context.config()->engine.maxConnections),
	_workers(context.config()->pluginWorkers)
{
	for (unsigned i = 0; i < loops; ++i) _loops.push_back(std::make_unique<EventLoop>(i, context, _workers, _open));
}

EventLoopPool::~EventLoopPool()
{
	stop();
	// The loop threads and the workers are joined; now the loops (and their chains) may go.
	_workers.stop();
	_loops.clear();
}

void EventLoopPool::start()
{
	for (auto& loop : _loops) loop->start();
}

void EventLoopPool::stop()
{
	for (auto& loop : _loops) loop->stop();
	_workers.stop();
}

bool EventLoopPool::push(ConnectionId connection, std::uint16_t route, PayloadKind kind, std::string_view payload)
{
	const std::size_t loop = static_cast<std::size_t>(connection & 0xFF);
	return loop < _loops.size() && _loops[loop]->push(connection, route, kind, payload);
}

void EventLoopPool::broadcast(std::uint16_t route, PayloadKind kind, std::string_view payload)
{
	for (auto& loop : _loops) loop->broadcast(route, kind, payload);
}

void EventLoopPool::poke()
{
	for (auto& loop : _loops) loop->poke();
}

bool EventLoopPool::tryReserve()
{
	std::size_t open = _open.load(std::memory_order_relaxed);
	do
	{
		if (open >= _max)
		{
			_refused.fetch_add(1, std::memory_order_relaxed);
			return false;
		}
	}
	while (!_open.compare_exchange_weak(open, open + 1, std::memory_order_relaxed));
	return true;
}

void EventLoopPool::release()
{
	_open.fetch_sub(1, std::memory_order_relaxed);
}

void EventLoopPool::adopt(int fd, std::uint16_t route, std::string preread)
{
	EventLoop* best = _loops.front().get();
	for (auto& loop : _loops)
	{
		if (loop->load() < best->load()) best = loop.get();
	}
	best->adopt(fd, route, std::move(preread));
}

Metrics EventLoopPool::metrics() const
{
	Metrics m;
	for (const auto& loop : _loops) loop->collect(m);
	m.connections = _open.load(std::memory_order_relaxed);
	m.connectionsRefused = _refused.load(std::memory_order_relaxed);
	m.handshakesRefused = _handshakesRefused.load(std::memory_order_relaxed);
	return m;
}

} // namespace host
} // namespace parley
