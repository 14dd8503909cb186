//
// HostLoop.cpp
//
#include "HostLoop.h"
#include "HostContext.h"
#include <algorithm>

namespace parley {
namespace host {

thread_local LoopState* LoopState::t_current = nullptr;

HostLoop::HostLoop(unsigned id, HostContext& context, WorkerPool& workers, IsolatedPool& isolated, HostCounts& counts,
	const TlsContexts* tls):
	_loop(id, context.logger()),
	_s(_loop, *context.config(), context.logger(), counts),
	_ws(_s),
	_dispatch(_s, _ws, context, workers, isolated),
	_upgrader(_s, _ws, _dispatch, context, tls)
{
	_ws.setDispatch(_dispatch);
	_s.mark.setName(true, id);
	counts.eventLoops[id] = &_loop;
	_loop.setLogLimits(&counts.logLimits, LogAcceptExhausted);
}

HostLoop::~HostLoop()
{
	_loop.stop();
	// Never started: nothing ran onStop.
	for (Connection* c : _s.connections) delete c;
	_s.connections.clear();
}

void HostLoop::onReady(void* tag, std::uint32_t events)
{
	Connection& c = *static_cast<Connection*>(tag);
	if (c.dead) return;
	if (c.state == Connection::State::Proxy || c.state == Connection::State::Tls || c.state == Connection::State::Head || c.state == Connection::State::Gating)
		_upgrader.onEvents(c, events);
	else
		_ws.onEvents(c, events);
}

void HostLoop::balance()
{
	HostCounts& counts = _s.counts;
	const std::size_t mine = _s.connections.size();
	counts.perLoop[_loop.id()].store(mine, std::memory_order_relaxed);
	if (counts.loopCount < 2) return;
	// Like nginx's accept_disabled: a loop well above the least loaded one leaves new
	// connections to the others; it takes them again once back near it. At least one loop
	// always accepts (`accepting` never drops below 1).
	std::size_t least = mine;
	unsigned leastLoop = _loop.id();
	for (unsigned i = 0; i < counts.loopCount; ++i)
	{
		// A loop stuck in a plugin call (Watchdog) takes no connection: the others do not wait for it.
		if (i != _loop.id() && counts.stalled[i].load(std::memory_order_relaxed)) continue;
		const std::size_t n = counts.perLoop[i].load(std::memory_order_relaxed);
		if (n < least)
		{
			least = n;
			leastLoop = i;
		}
	}
	const std::size_t slack = std::max<std::size_t>(16, least / 8);
	if (!_loop.acceptingHeld() && mine > least + slack)
	{
		unsigned accepting = counts.accepting.load();
		while (accepting >= 2 && !counts.accepting.compare_exchange_weak(accepting, accepting - 1))
		{
		}
		if (accepting >= 2)
			_loop.holdAccepting(true);
		else
			counts.eventLoops[leastLoop]->wake(); // it holds: let it look again now
	}
	else if (_loop.acceptingHeld() && mine <= least + slack / 2)
	{
		_loop.holdAccepting(false);
		counts.accepting.fetch_add(1);
	}
}

void HostLoop::startDrain()
{
	std::size_t closing = 0;
	for (std::size_t i = 0; i < _s.connections.size(); ++i)
		if (_ws.closeForDrain(*_s.connections[i])) ++closing;
	_drainClosing.store(closing, std::memory_order_relaxed);
	_drainStarted.store(true, std::memory_order_release);
}

void HostLoop::onTick()
{
	balance();
	_ws.budgetTick();
	// After a burst: give the memory freed since (8 MiB or more) back to the system, from one loop.
	if (_loop.id() == 0) ChunkPool::trimIfFreed(8u << 20);
	_s.counts.logLimits.flush(_s.now(), false);
	for (std::size_t i = 0; i < _s.connections.size(); ++i)
	{
		Connection& c = *_s.connections[i];
		if (c.dead) continue;
		if (c.state == Connection::State::Proxy || c.state == Connection::State::Tls || c.state == Connection::State::Head || c.state == Connection::State::Gating)
			_upgrader.expire(c);
		else
			_ws.tick(c);
	}
}

void HostLoop::onTurnEnd()
{
	_dispatch.flushIsolated();
	_ws.readAgain();
	if (!_s.graveyard.empty())
	{
		_ws.reap();
		balance();
	}
	_s.publish();
}

void HostLoop::onStop()
{
	if (_loop.acceptingHeld())
	{
		_loop.holdAccepting(false);
		_s.counts.accepting.fetch_add(1);
	}
	_dispatch.closeInbox();
	for (std::size_t i = 0; i < _s.connections.size(); ++i) _ws.closeForStop(*_s.connections[i]);
	_ws.reap();
	_s.shared.release();
	_s.publish();
	LoopState::unbind();
}

void HostLoop::routeConnections(std::vector<std::size_t>& counts) const
{
	std::lock_guard<std::mutex> lock(_s.routeStatsMutex);
	if (counts.size() < _s.routeStats.size()) counts.resize(_s.routeStats.size());
	for (std::size_t i = 0; i < _s.routeStats.size(); ++i)
		counts[i] += _s.routeStats[i]->published[RouteStats::Open].load(std::memory_order_relaxed);
}

void HostLoop::collect(Metrics& m, std::vector<RouteMetrics>& routes) const
{
	auto get = [this](std::size_t k) { return _s.published[k].load(std::memory_order_relaxed); };
	{
		std::lock_guard<std::mutex> lock(_s.routeStatsMutex);
		if (routes.size() < _s.routeStats.size()) routes.resize(_s.routeStats.size());
		for (std::size_t i = 0; i < _s.routeStats.size(); ++i)
		{
			const RouteStats& from = *_s.routeStats[i];
			RouteMetrics& to = routes[i];
			auto load = [&from](RouteStats::Published k) { return from.published[k].load(std::memory_order_relaxed); };
			to.connections += load(RouteStats::Open);
			to.connectionsTotal += load(RouteStats::Opened);
			to.messagesIn += load(RouteStats::MessagesIn);
			to.messagesOut += load(RouteStats::MessagesOut);
			to.bytesIn += load(RouteStats::BytesIn);
			to.bytesOut += load(RouteStats::BytesOut);
			from.respond.addTo(to.respond);
		}
	}
	_s.handshake.addTo(m.handshakeSeconds);
	m.handshakeBytesIn += get(HandshakeBytesIn);
	m.handshakeBytesOut += get(HandshakeBytesOut);
	m.pings += get(Pings);
	m.protocolErrors += get(ProtocolErrors);
	m.responderErrors += get(ResponderErrors);
	m.ioErrors += get(IoErrors);
	m.backpressurePauses += get(BackpressurePauses);
	m.backpressureCloses += get(BackpressureCloses);
	m.idleCloses += get(IdleCloses);
	m.pingTimeouts += get(PingTimeouts);
	m.handshakesRefused += get(HandshakesRefused);
	m.handshakeTimeouts += get(HandshakeTimeouts);
	m.tlsFailures += get(TlsFailures);
	m.originRefusals += get(OriginRefusals);
	m.subprotocolRefusals += get(SubprotocolRefusals);
	m.peerLimitRefusals += get(PeerLimitRefusals);
	m.gateRefusals += get(GateRefusals);
	m.gateFailures += get(GateFailures);
	m.tokenExpiries += get(TokenExpiries);
	m.deflateMessagesOut += get(DeflateMessagesOut);
	m.deflatePayloadBytesOut += get(DeflatePayloadBytesOut);
	m.deflateWireBytesOut += get(DeflateWireBytesOut);
	m.inflateMessagesIn += get(InflateMessagesIn);
	m.inflateWireBytesIn += get(InflateWireBytesIn);
	m.inflatePayloadBytesIn += get(InflatePayloadBytesIn);
	m.connectionsRefused += get(ConnectionsRefused);
	m.acceptExhausted += _loop.acceptExhausted();
	m.sendTimeouts += get(SendTimeouts);
	m.budgetCuts += get(BudgetCuts);
	m.budgetPauses += get(BudgetPauses);
	m.proxyUntrusted += get(ProxyUntrusted);
	m.proxyInvalid += get(ProxyInvalid);
	m.proxyTimeouts += get(ProxyTimeouts);
	m.outputBudget = _s.budget;
	m.outputReserve += _s.pool.reserveBytes();
	const std::uint64_t maxPending = get(MaxPendingOutput);
	if (maxPending > m.maxPendingOutput) m.maxPendingOutput = maxPending;
	auto codeOf = [](std::size_t bucket) -> std::uint16_t {
		if (bucket < 16) return static_cast<std::uint16_t>(1000 + bucket);
		if (bucket == 16) return 3000;
		if (bucket == 17) return 4000;
		return 0;
	};
	std::size_t k = CounterCount;
	for (std::size_t i = 0; i < LoopState::CloseBuckets; ++i, ++k)
		if (const std::uint64_t n = get(k)) m.closesSent[codeOf(i)] += n;
	for (std::size_t i = 0; i < LoopState::CloseBuckets; ++i, ++k)
		if (const std::uint64_t n = get(k)) m.closesReceived[codeOf(i)] += n;
	for (std::size_t i = 0; i < LoopState::RefusalBuckets; ++i, ++k)
	{
		const int status = i + 1 < LoopState::RefusalBuckets ? LoopState::RefusalStatuses[i] : 0;
		if (const std::uint64_t n = get(k)) m.refusedByStatus[status] += n;
	}
}

} // namespace host
} // namespace parley
