//
// WebSocketOutput.cpp — WebSocketLayer's output: writing chains of chunks, backpressure, the
// backlog limit and the send timeout (cutting a client with 1008), and the host's output budget.
//
#include "WebSocketLayer.h"
#include <algorithm>
#include <cerrno>
#include <sys/uio.h>

namespace parley {
namespace host {

namespace {

namespace CloseCode = codec::CloseCode;

/// Pieces of output handed to one writev.
constexpr int MaxIov = 64;
/// With the output memory tight, a connection that took nothing of its output for this long is
/// cut first (ms).
constexpr std::uint64_t ShedAfterMs = 1000;

} // namespace

bool WebSocketLayer::sendSome(Connection& c, OutputBuffer& buffer)
{
	iovec iov[MaxIov];
	while (!buffer.empty())
	{
		const int count = buffer.gather(iov, MaxIov);
		std::size_t size = 0;
		for (int i = 0; i < count; ++i) size += iov[i].iov_len;
		const ssize_t n = c.transport.writev(iov, count);
		if (n > 0)
		{
			buffer.consume(static_cast<std::size_t>(n));
			_s.countOut(c, static_cast<std::uint64_t>(n));
			if (static_cast<std::size_t>(n) < size) break; // the socket buffer is full: wait for EPOLLOUT
		}
		else if (n == Transport::WouldBlock)
		{
			break;
		}
		else
		{
			ioFailed(c, "write failed", errno);
			destroy(c);
			return false;
		}
	}
	return true;
}

OutputBuffer* WebSocketLayer::sendEarly(Connection& c)
{
	if (!sendBatch(c)) return nullptr;
	// After a short send the rest of this read's output queues behind what is left.
	return c.out.empty() ? &_s.shared : &c.out;
}

bool WebSocketLayer::sendBatch(Connection& c)
{
	if (!sendSome(c, _s.shared))
	{
		_s.shared.reset();
		return false;
	}
	// What the socket did not take becomes the connection's backlog (its chunks move, no copy).
	if (!_s.shared.empty()) c.out.takeAll(_s.shared);
	return true;
}

void WebSocketLayer::sendShared(Connection& c)
{
	if (c.dead) return;
	if (!sendBatch(c)) return;
	afterWrite(c);
}

void WebSocketLayer::flush(Connection& c)
{
	if (c.dead) return;
	const std::size_t before = c.pending();
	if (c.transport.backlog() != 0 && !c.transport.flushBacklog())
	{
		ioFailed(c, "write failed", errno);
		destroy(c);
		return;
	}
	if (!sendSome(c, c.out)) return;
	if (c.out.empty()) c.out.release();
	if (c.pending() < before) c.sendSince = _s.now(); // the client took some: its clock starts again
	afterWrite(c);
}

void WebSocketLayer::afterWrite(Connection& c)
{
	const std::size_t pending = c.pending();
	if (pending == 0)
	{
		c.sendSince = 0;
		if (c.state == Connection::State::Closing) finishClose(c);
		return;
	}
	if (c.sendSince == 0) c.sendSince = _s.now();
	if (pending > _s.counters[MaxPendingOutput]) _s.counters[MaxPendingOutput] = pending;
	if (c.state != Connection::State::Open) return;
	if (pending > _s.engine.backpressureLimit)
		cut(c, Cut::Backpressure, pending);
	else if (pending > _s.engine.backpressureHigh && !c.readPaused)
	{
		c.readPaused = true;
		++_s.counters[BackpressurePauses];
	}
}

bool WebSocketLayer::admit(Connection& c, std::size_t bytes)
{
	const std::size_t pending = c.pending();
	if (pending == 0) return true; // one message to a connection that keeps up: goes out now
	if (pending + bytes > _s.engine.backpressureLimit)
	{
		cut(c, Cut::Backpressure, pending + bytes);
		return false;
	}
	if (_s.outputMemory() + bytes > _s.budget && c.sendSince != 0 && _s.now() - c.sendSince >= ShedAfterMs)
	{
		// The host is at its budget and this client took nothing for a while: it goes first.
		cut(c, Cut::Budget, pending);
		return false;
	}
	return true;
}

void WebSocketLayer::cut(Connection& c, Cut why, std::size_t pending)
{
	// The frame already partly on the wire is finished; the rest of the backlog is dropped and
	// the close frame goes right after it.
	const std::size_t dropped = c.out.dropUnsent();
	const char* reason = "";
	switch (why)
	{
	case Cut::Backpressure:
		++_s.counters[BackpressureCloses];
		reason = "output backlog over limit";
		_s.limited(LogBackpressure, Poco::Message::PRIO_WARNING, [&] {
			return "route " + _s.routePaths[c.route] + ": connection from " + peerText(c.peer) + " cut with 1008: " +
				std::to_string(pending) + " bytes of unsent output would exceed engine.backpressure_limit (" +
				std::to_string(_s.engine.backpressureLimit) + "); the client reads too slowly (" + std::to_string(dropped) +
				" bytes dropped)";
		});
		break;
	case Cut::SendTimeout:
		++_s.counters[SendTimeouts];
		reason = "send timeout";
		_s.limited(LogSendTimeout, Poco::Message::PRIO_WARNING, [&] {
			return "route " + _s.routePaths[c.route] + ": connection from " + peerText(c.peer) + " cut with 1008: it took " +
				"nothing of its " + std::to_string(pending) + " bytes of unsent output for engine.send_timeout_ms (" +
				std::to_string(_s.engine.sendTimeoutMs) + " ms)";
		});
		break;
	case Cut::Budget:
		++_s.counters[BudgetCuts];
		reason = "server output memory exhausted";
		_s.limited(LogBudget, Poco::Message::PRIO_WARNING, [&] {
			return "route " + _s.routePaths[c.route] + ": connection from " + peerText(c.peer) + " cut with 1008: " +
				"the host's unsent output (" + std::to_string(_s.outputMemory()) + " bytes) is near engine.max_output_memory (" +
				std::to_string(_s.budget) + "), and this client is among the slowest (" + std::to_string(pending) +
				" bytes unsent)";
		});
		break;
	}
	queueClose(c, c.out, CloseCode::PolicyViolation, reason);
	flush(c);
}

void WebSocketLayer::pauseForBudget(Connection& c)
{
	if (c.budgetPaused) return;
	c.budgetPaused = true;
	_s.budgetPaused.push_back(&c);
	_s.counts.budgetPaused.fetch_add(1, std::memory_order_relaxed);
	++_s.counters[BudgetPauses];
	_s.limited(LogBudget, Poco::Message::PRIO_WARNING, [&] {
		return "the host's unsent output (" + std::to_string(_s.outputMemory()) + " bytes) is near engine.max_output_memory (" +
			std::to_string(_s.budget) + "): not reading from broadcast senders and connections with a backlog (" +
			peerText(c.peer) + " on route " + _s.routePaths[c.route] + ") until it falls below half";
	});
}

void WebSocketLayer::budgetTick()
{
	const std::uint64_t used = _s.outputMemory();
	if (!_s.budgetPaused.empty() && used < _s.budget / 2)
	{
		std::vector<Connection*> paused;
		paused.swap(_s.budgetPaused);
		_s.counts.budgetPaused.fetch_sub(paused.size(), std::memory_order_relaxed);
		for (Connection* c : paused)
		{
			c->budgetPaused = false;
			if (!c->dead && c->state == Connection::State::Open && !c->readPaused) readSocket(*c);
		}
	}
	// Shed while some loop holds connections back and the memory is above half, or near the budget.
	if (used < _s.budget / 2 || (!_s.budgetTight() && _s.counts.budgetPaused.load(std::memory_order_relaxed) == 0)) return;
	// Shed the slowest: connections that took nothing of their output for a while, the
	// longest-stuck first. Clients that read stay (the paused senders
	// let them catch up).
	const std::uint64_t now = _s.now();
	std::vector<Connection*> stuck;
	for (Connection* c : _s.connections)
		if (!c->dead && c->state == Connection::State::Open && c->sendSince != 0 && now - c->sendSince >= ShedAfterMs)
			stuck.push_back(c);
	std::sort(stuck.begin(), stuck.end(), [](const Connection* a, const Connection* b) { return a->sendSince < b->sendSince; });
	// Down to half the budget, where the paused connections read again.
	for (Connection* c : stuck)
	{
		if (_s.outputMemory() < _s.budget / 2) break;
		cut(*c, Cut::Budget, c->pending());
	}
}

void WebSocketLayer::resumeIfDrained(Connection& c)
{
	if (c.readPaused && c.pending() <= _s.engine.backpressureLow)
	{
		c.readPaused = false;
		// Edge-triggered: data that arrived while paused brings no new event, so read now.
		if (c.state == Connection::State::Open) readSocket(c);
	}
}

} // namespace host
} // namespace parley
