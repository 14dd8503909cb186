//
// EventLoopPool.cpp
//
#include "EventLoopPool.h"

namespace parley {
namespace host {

EventLoopPool::EventLoopPool(unsigned loops, const HostConfig& config, const std::vector<std::string>& routePaths,
	PluginRegistry& registry, Poco::Logger& logger):
	_max(config.engine.maxConnections)
{
	for (unsigned i = 0; i < loops; ++i)
		_loops.push_back(std::make_unique<EventLoop>(i, config, routePaths, registry, logger, _open));
}

EventLoopPool::~EventLoopPool()
{
	stop();
}

void EventLoopPool::start()
{
	for (auto& loop : _loops) loop->start();
}

void EventLoopPool::stop()
{
	for (auto& loop : _loops) loop->stop();
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
