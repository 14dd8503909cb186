//
// EventLoopPool.cpp
//
#include "EventLoopPool.h"
#include "ClusterBus.h"
#include "HostContext.h"

namespace parley {
namespace host {

EventLoopPool::EventLoopPool(unsigned loops, HostContext& context, const TlsContexts* tls):
	_context(context),
	_counts(loops, *context.config(), context.logger()),
	_workers(context.config()->pluginWorkers),
	_isolated(context, context.config()->isolatedWorkers)
{
	for (unsigned i = 0; i < loops; ++i)
		_loops.push_back(std::make_unique<HostLoop>(i, context, _workers, _isolated, _counts, tls));
	std::vector<ThreadMark*> marks;
	for (auto& loop : _loops) marks.push_back(&loop->mark());
	for (unsigned i = 0; i < _workers.size(); ++i) marks.push_back(&_workers.mark(i));
	_watchdog = std::make_unique<Watchdog>(context, _counts, std::move(marks), [this](unsigned loop, bool stalled) {
		_counts.stalled[loop].store(stalled, std::memory_order_relaxed);
		// The others take its new connections now (a loop holding accepting looks again).
		for (unsigned i = 0; i < _counts.loopCount; ++i)
			if (i != loop) _counts.eventLoops[i]->wake();
	});
}

EventLoopPool::~EventLoopPool()
{
	stop();
	// The loop threads and the workers are joined; now the loops (and their chains) may go.
	_watchdog.reset();
	_loops.clear();
}

void EventLoopPool::start(int listener)
{
	_counts.idTag.store(static_cast<std::uint64_t>(_context.nodeTag()) << 48, std::memory_order_relaxed);
	_isolated.start();
	const auto config = _context.config();
	for (const auto& route : config->routes)
		if (config->optionsFor(route.first).isolate)
		{
			_isolated.prestart();
			break;
		}
	for (auto& loop : _loops) loop->start(listener);
	_watchdog->start();
}

std::vector<std::string> EventLoopPool::stuckInPlugins(unsigned graceMs)
{
	_watchdog->stop();
	return _watchdog->stuck(graceMs);
}

void EventLoopPool::stop()
{
	_watchdog->stop();
	for (auto& loop : _loops) loop->stop();
	_isolated.stop();
	_workers.stop();
	// The loops are done: say how many lines the limiters still hold back.
	_counts.logLimits.flush(EventLoop::clockMs(), true);
}

void EventLoopPool::stopAccepting()
{
	for (auto& loop : _loops) loop->stopAccepting();
}

void EventLoopPool::drain()
{
	for (auto& loop : _loops) loop->drain();
}

bool EventLoopPool::drainStarted(std::size_t& closing) const
{
	closing = 0;
	bool all = true;
	for (const auto& loop : _loops)
	{
		std::size_t n = 0;
		all = loop->drainStarted(n) && all;
		closing += n;
	}
	return all;
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

std::vector<std::size_t> EventLoopPool::routeConnections() const
{
	std::vector<std::size_t> counts;
	for (const auto& loop : _loops) loop->routeConnections(counts);
	return counts;
}

Metrics EventLoopPool::metrics() const
{
	Metrics m;
	std::vector<RouteMetrics> routes(_context.routeCount());
	for (const auto& loop : _loops) loop->collect(m, routes);
	for (std::size_t id = 0; id < routes.size(); ++id)
	{
		RouteMetrics& r = routes[id];
		if (r.respond.bounds.empty()) RouteStats().respond.addTo(r.respond);   // no loop saw it yet: zeros
		m.messagesIn += r.messagesIn;
		m.messagesOut += r.messagesOut;
		m.bytesIn += r.bytesIn;
		m.bytesOut += r.bytesOut;
		m.connectionsTotal += r.connectionsTotal;
		m.routes[_context.routePath(id)] = std::move(r);
	}
	m.bytesIn += m.handshakeBytesIn;
	m.bytesOut += m.handshakeBytesOut;
	m.process = ProcessMetrics::read();
	const std::size_t websockets = _counts.websockets.load(std::memory_order_relaxed);
	const std::size_t sockets = _counts.sockets.load(std::memory_order_relaxed);
	m.connections = websockets;
	for (unsigned i = 0; i < _counts.loopCount; ++i) m.connectionsByLoop.push_back(_counts.perLoop[i].load(std::memory_order_relaxed));
	m.handshakes = sockets > websockets ? sockets - websockets : 0;
	const std::int64_t output = _counts.output.bytes.load(std::memory_order_relaxed);
	m.outputMemory = output > 0 ? static_cast<std::uint64_t>(output) : 0;
	m.outputMemoryPeak = static_cast<std::uint64_t>(_counts.output.peak.load(std::memory_order_relaxed));
	m.isolatedChildren = _isolated.alive();
	m.isolatedRespawns = _isolated.respawns();
	m.isolatedMessages = _isolated.messages();
	m.stalls = _watchdog->stalls();
	m.loopsStalled = _watchdog->loopsStalled();
	m.workersStalled = _watchdog->workersStalled();
	if (const ClusterBus* bus = _context.bus()) bus->collect(m);
	return m;
}

} // namespace host
} // namespace parley
