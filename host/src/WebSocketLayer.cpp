//
// WebSocketLayer.cpp
//
#include "WebSocketLayer.h"
#include "Dispatch.h"
#include "parley/codec/FrameEncoder.h"
#include "parley/codec/Opcode.h"
#include <ctime>
#include <sys/epoll.h>

namespace parley {
namespace host {

namespace {

using codec::FrameDecoder;
using codec::FrameEncoder;
namespace CloseCode = codec::CloseCode;

/// A read of this size or more is followed by another one before its replies are sent.
constexpr std::size_t LargeRead = 64u * 1024u;
/// Reads of one connection per readiness event before the others get their turn.
constexpr unsigned ReadBudget = 8;
/// A connection's unsent-output buffer larger than this is released once it drains.
constexpr std::size_t KeepOutputCapacity = 4096;
/// A message gathered by the decoder larger than this makes the connection drop the
/// decoder's buffers once it is between messages.
constexpr std::size_t BigMessage = 64u * 1024u;

constexpr std::uint8_t OpPing = static_cast<std::uint8_t>(codec::Opcode::Ping);
constexpr std::uint8_t OpPong = static_cast<std::uint8_t>(codec::Opcode::Pong);

} // namespace

void WebSocketLayer::open(Connection& c, std::uint16_t route, char* leftover, std::size_t size, bool moreToRead)
{
	const std::uint64_t now = _s.now();
	c.state = Connection::State::Open;
	c.route = route;
	// Connection ids: a per-loop count above the loop's number (at most 256 loops).
	c.id = (++_s.connectionCount << 8) | _s.loop.id();
	c.details->info.id = c.id;
	c.lastActivity = now;
	c.lastPing = now;
	c.deadline = 0;
	_s.growRoutes(route + 1u);
	RouteStats& stats = _s.route(route);
	++stats.opened;
	++stats.open;
	_s.counts.websockets.fetch_add(1, std::memory_order_relaxed);
	if (!_dispatch->onOpen(c))
	{
		// The route's plugin was removed (or a reload is racing this connection).
		queueClose(c, c.out, CloseCode::GoingAway, "route unavailable: plugin removed");
		flush(c);
		return;
	}
	// Frames that came in the same packets as the request head: answer them right after the 101
	// (which is already in c.out).
	if (size != 0) process(c, leftover, size, &c.out);
	flush(c);
	if (c.dead) return;
	// An idle WebSocket holds no output buffer: give back the one the 101 was written from.
	if (c.out.empty()) c.out.release();
	if (moreToRead && c.state == Connection::State::Open && !c.readPaused) readSocket(c);
}

void WebSocketLayer::endAfterOutput(Connection& c)
{
	c.state = Connection::State::Closing;
	c.deadline = _s.now() + CloseTimeoutMs;
	flush(c);
}

void WebSocketLayer::onEvents(Connection& c, std::uint32_t events)
{
	if (events & EPOLLERR)
	{
		if (c.state == Connection::State::Open) ++_s.counters[IoErrors];
		destroy(c);
		return;
	}
	if ((events & EPOLLOUT) && c.pending() != 0)
	{
		flush(c);
		if (c.dead) return;
		resumeIfDrained(c);
		if (c.dead) return;
	}
	if (events & (EPOLLRDHUP | EPOLLHUP)) c.hangup = true;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
	{
		if (c.state == Connection::State::Draining)
			drain(c);
		else if (c.state == Connection::State::Open && !c.readPaused)
			readSocket(c);
	}
}

void WebSocketLayer::readSocket(Connection& c)
{
	if (c.closeDeferred || c.queuePaused) return;
	// A large read is followed by another one into the rest of the buffer before anything is
	// handled: a streaming peer has usually sent more meanwhile, and one pass and one send then
	// serve both. `used` bytes of the buffer are read and not handled yet.
	std::size_t used = 0;
	for (unsigned round = 0;; ++round)
	{
		if (round == ReadBudget)
		{
			if (used != 0) handleRead(c, used);
			if (!c.dead) readAgainLater(c);
			return;
		}
		const std::size_t space = _s.inSize - used;
		bool drained = false;
		const ssize_t n = c.transport.read(_s.in.get() + used, space, drained);
		if (n > 0)
		{
			const std::size_t got = static_cast<std::size_t>(n);
			_s.route(c.route).bytesIn += got;
			c.lastActivity = _s.now();
			used += got;
			if (got >= LargeRead && got < space && c.out.empty()) continue; // read again first
			handleRead(c, used);
			used = 0;
			if (c.dead || c.state != Connection::State::Open || c.readPaused || c.closeDeferred || c.queuePaused) return;
			// The read emptied the socket; with edge triggering the next data brings a new event.
			// After a hang-up no event follows: read on to the EOF.
			if (drained && !c.hangup) return;
		}
		else if (n == 0)
		{
			if (used != 0)
			{
				handleRead(c, used);
				if (c.dead || c.state != Connection::State::Open) return;
			}
			c.peerEof = true;
			if (c.pending() == 0)
			{
				destroy(c);
			}
			else
			{
				// Let the replies already queued go out, then drop the connection.
				c.state = Connection::State::Closing;
				c.deadline = _s.now() + CloseTimeoutMs;
			}
			return;
		}
		else if (n == Transport::WouldBlock)
		{
			if (used != 0) handleRead(c, used);
			return;
		}
		else
		{
			++_s.counters[IoErrors];
			destroy(c);
			return;
		}
	}
}

void WebSocketLayer::handleRead(Connection& c, std::size_t size)
{
	if (c.out.empty())
	{
		_s.shared.clear();
		process(c, _s.in.get(), size, &_s.shared);
		sendShared(c);
	}
	else
	{
		process(c, _s.in.get(), size, &c.out);
		flush(c);
	}
}

void WebSocketLayer::process(Connection& c, char* data, std::size_t size, OutputBuffer* out)
{
	std::size_t pos = 0;
	std::size_t lastEnd = static_cast<std::size_t>(-1);
	FrameDecoder::Event ev;
	RouteStats& stats = _s.route(c.route);
	const std::size_t sendChunk = _sendChunk;
	std::size_t sendAt = sendChunk;
	for (;;)
	{
		pos += c.decoder.decode(data + pos, size - pos, ev);
		switch (ev.type)
		{
		case FrameDecoder::EventType::NeedMore:
			if (c.bigMessage && lastEnd == size && !c.decoder.inMessage())
			{
				// Between messages at a frame boundary: give back the memory of a large message.
				c.decoder = FrameDecoder(codec::Role::Server, _s.engine.maxMessageSize);
				c.decoder.allowCompression(c.deflate != nullptr);
				c.bigMessage = false;
				_s.deflate.trim();
			}
			return;
		case FrameDecoder::EventType::Text:
		case FrameDecoder::EventType::Binary:
		{
			++stats.messagesIn;
			if (ev.payload.size() > BigMessage && (ev.payload.data() < data || ev.payload.data() >= data + size))
				c.bigMessage = true;
			std::string_view payload = ev.payload;
			if (ev.compressed)
			{
				// permessage-deflate: responders see the plain message.
				const char* why = "";
				if (const std::uint16_t code = _s.deflate.inflate(*c.deflate, ev.type == FrameDecoder::EventType::Text,
						ev.payload, _s.engine.maxMessageSize, payload, why))
				{
					++_s.counters[ProtocolErrors];
					if (_s.logger.debug())
						_s.logger.debug("route %s: compressed message refused, closing with %hu: %s", _s.routePaths[c.route],
							code, std::string(why));
					queueClose(c, *out, code, why);
					return;
				}
				if (payload.size() > BigMessage) c.bigMessage = true;
			}
			const Message message{ev.type == FrameDecoder::EventType::Text ? PayloadKind::Text : PayloadKind::Binary,
				payload, c.id, &c.details->info};
			if (!_dispatch->onMessage(c, message, *out, stats)) return;
			lastEnd = pos;
			// Early sends are for runs of small messages, where the peer can parse the first
			// replies while the loop makes the rest; a reply of send_chunk or more is worth a
			// send by itself, and the read's replies then leave together at the end.
			if (message.payload.size() >= sendChunk) sendAt = ~std::size_t(0);
			if (out == &_s.shared && _s.shared.size() >= sendAt)
			{
				// Let the peer start on the first replies while the rest of the read is handled;
				// the rest goes with one send at the end of the read.
				OutputBuffer* next = sendEarly(c);
				if (next == nullptr) return; // the connection failed
				out = next;
				sendAt = ~std::size_t(0);
			}
			break;
		}
		case FrameDecoder::EventType::Ping:
			++_s.counters[Pings];
			out->appendFrame(OpPong, ev.payload);
			lastEnd = pos;
			break;
		case FrameDecoder::EventType::Pong:
			c.awaitingPong = false;
			lastEnd = pos;
			break;
		case FrameDecoder::EventType::Close:
			++_s.closesReceived[LoopState::closeBucket(ev.closeCode)];
			if (c.jobInFlight)
			{
				// Answer every earlier message first: the close goes out when the queue is empty.
				c.closeDeferred = true;
				c.deferredCode = ev.closeCode;
				return;
			}
			// Echo the peer's code (an empty close is answered with an empty close).
			queueClose(c, *out, ev.closeCode, std::string_view());
			return;
		case FrameDecoder::EventType::Error:
			++_s.counters[ProtocolErrors];
			if (_s.logger.debug())
				_s.logger.debug("route %s: protocol error, closing with %hu: %s", _s.routePaths[c.route], ev.closeCode,
					std::string(ev.error));
			queueClose(c, *out, ev.closeCode, ev.error);
			return;
		}
	}
}

void WebSocketLayer::queueClose(Connection& c, OutputBuffer& out, std::uint16_t code, std::string_view reason)
{
	std::string frame;
	FrameEncoder::appendClose(frame, code, reason);
	out.append(frame);
	++_s.closesSent[LoopState::closeBucket(code)];
	c.state = Connection::State::Closing;
	c.deadline = _s.now() + CloseTimeoutMs;
}

std::size_t WebSocketLayer::sendSome(Connection& c, const char* data, std::size_t size)
{
	std::size_t sent = 0;
	while (sent < size)
	{
		const ssize_t n = c.transport.write(data + sent, size - sent);
		if (n > 0)
		{
			sent += static_cast<std::size_t>(n);
			_s.countOut(c, static_cast<std::uint64_t>(n));
			if (sent < size) break; // the socket buffer is full: wait for EPOLLOUT
		}
		else if (n == Transport::WouldBlock)
		{
			break;
		}
		else
		{
			if (c.state == Connection::State::Open) ++_s.counters[IoErrors];
			destroy(c);
			return SendFailed;
		}
	}
	return sent;
}

OutputBuffer* WebSocketLayer::sendEarly(Connection& c)
{
	if (!sendBatch(c)) return nullptr;
	// After a short send the rest of this read's output queues behind what is left.
	return c.out.empty() ? &_s.shared : &c.out;
}

bool WebSocketLayer::sendBatch(Connection& c)
{
	const std::size_t size = _s.shared.size();
	const std::size_t sent = sendSome(c, _s.shared.data(), size);
	if (sent == SendFailed) return false;
	if (sent < size) c.out.append(std::string_view(_s.shared.data() + sent, size - sent));
	_s.shared.clear();
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
	if (c.transport.backlog() != 0 && !c.transport.flushBacklog())
	{
		if (c.state == Connection::State::Open) ++_s.counters[IoErrors];
		destroy(c);
		return;
	}
	const std::size_t sent = sendSome(c, c.out.data() + c.outPos, c.out.size() - c.outPos);
	if (sent == SendFailed) return;
	c.outPos += sent;
	if (c.outPos == c.out.size())
	{
		if (c.out.capacity() > KeepOutputCapacity)
			c.out.release();
		else
			c.out.clear();
		c.outPos = 0;
	}
	else if (c.outPos >= (1u << 20) && c.outPos * 2 >= c.out.size())
	{
		c.out.consume(c.outPos);
		c.outPos = 0;
	}
	afterWrite(c);
}

void WebSocketLayer::afterWrite(Connection& c)
{
	const std::size_t pending = c.pending();
	if (pending == 0)
	{
		if (c.state == Connection::State::Closing) finishClose(c);
		return;
	}
	if (pending > _s.counters[MaxPendingOutput]) _s.counters[MaxPendingOutput] = pending;
	if (c.state != Connection::State::Open) return;
	if (pending > _s.engine.backpressureLimit)
	{
		++_s.counters[BackpressureCloses];
		_s.logger.warning("route %s: %z bytes of unsent output exceed engine.backpressure_limit (%z), closing with 1008",
			_s.routePaths[c.route], pending, _s.engine.backpressureLimit);
		queueClose(c, c.out, CloseCode::PolicyViolation, "output backlog over limit");
	}
	else if (pending > _s.engine.backpressureHigh && !c.readPaused)
	{
		c.readPaused = true;
		++_s.counters[BackpressurePauses];
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

void WebSocketLayer::finishClose(Connection& c)
{
	if (c.peerEof)
	{
		destroy(c);
		return;
	}
	// Our last output is out: end our side of the stream, then wait for the peer's end.
	c.transport.shutdownWrite();
	c.state = Connection::State::Draining;
	c.deadline = _s.now() + CloseTimeoutMs;
	c.out.release();
	c.outPos = 0;
	drain(c);
}

void WebSocketLayer::readAgainLater(Connection& c)
{
	// Fairness: the other connections of this loop have their turn first.
	if (!c.queued)
	{
		c.queued = true;
		_s.again.push_back(&c);
	}
}

void WebSocketLayer::readAgain()
{
	if (_s.again.empty()) return;
	std::vector<Connection*> work;
	work.swap(_s.again);
	for (Connection* c : work)
	{
		c->queued = false;
		if (c->dead) continue;
		if (c->state == Connection::State::Draining)
			drain(*c);
		else if (c->state == Connection::State::Open && !c->readPaused)
			readSocket(*c);
	}
}

void WebSocketLayer::drain(Connection& c)
{
	for (unsigned round = 0;; ++round)
	{
		if (round == ReadBudget)
		{
			readAgainLater(c);
			return;
		}
		const ssize_t n = c.transport.discard(_s.in.get(), _s.inSize);
		if (n > 0)
		{
			_s.countIn(c, static_cast<std::uint64_t>(n));
			continue;
		}
		if (n == Transport::WouldBlock) return;
		destroy(c); // EOF or error: the close handshake is over
		return;
	}
}

void WebSocketLayer::destroy(Connection& c)
{
	if (c.dead) return;
	c.dead = true;
	if (c.upgraded())
	{
		_dispatch->onClosed(c);
		_s.counts.websockets.fetch_sub(1, std::memory_order_relaxed);
		--_s.route(c.route).open;
	}
	if (c.counted)
		_s.counts.sockets.fetch_sub(1, std::memory_order_relaxed);
	else
		--_s.refusing;
	c.queue.clear();
	if (c.upgrading)
	{
		if (c.upgrading->ticket)
		{
			_s.gating.erase(c.upgrading->ticket);
			c.upgrading->gateRunning->store(Dispatch::GateCancelled, std::memory_order_relaxed);
		}
		c.upgrading.reset();
	}
	if (c.peerCounted) _s.counts.peers.release(c.peer, _s.now());
	_s.loop.unwatch(c.transport.fd());
	c.transport.close();
	_s.graveyard.push_back(&c);
	_s.loop.descriptorFreed();
}

void WebSocketLayer::reap()
{
	if (_s.graveyard.empty()) return;
	for (Connection* c : _s.graveyard)
	{
		const std::uint32_t i = c->index;
		Connection* last = _s.connections.back();
		_s.connections[i] = last;
		last->index = i;
		_s.connections.pop_back();
		if (c->queued)
		{
			for (auto it = _s.again.begin(); it != _s.again.end(); ++it)
			{
				if (*it == c)
				{
					_s.again.erase(it);
					break;
				}
			}
		}
		delete c;
	}
	_s.graveyard.clear();
}

void WebSocketLayer::tick(Connection& c)
{
	const std::uint64_t now = _s.now();
	if (c.state != Connection::State::Open)
	{
		if (now >= c.deadline) destroy(c); // the peer never finished the close: drop it
		return;
	}
	if (c.details->expiresAt != 0 && std::time(nullptr) >= c.details->expiresAt)
	{
		// A gate admitted it until then (the jwt gate's plugin.jwt.close_at_expiry).
		++_s.counters[TokenExpiries];
		queueClose(c, c.out, CloseCode::PolicyViolation, "token expired");
		flush(c);
	}
	else if (_s.engine.idleTimeoutMs != 0 && now - c.lastActivity >= _s.engine.idleTimeoutMs)
	{
		++_s.counters[IdleCloses];
		queueClose(c, c.out, CloseCode::GoingAway, "idle timeout");
		flush(c);
	}
	else if (_s.engine.pingIntervalMs != 0 && now - c.lastPing >= _s.engine.pingIntervalMs)
	{
		if (c.awaitingPong)
		{
			++_s.counters[PingTimeouts];
			queueClose(c, c.out, CloseCode::GoingAway, "no pong to the last ping");
		}
		else
		{
			c.out.appendFrame(OpPing, "parley");
			c.awaitingPong = true;
			c.lastPing = now;
		}
		flush(c);
	}
	if (!c.dead) resumeIfDrained(c);
}

void WebSocketLayer::closeForStop(Connection& c)
{
	if (c.dead) return;
	if (c.state == Connection::State::Open)
	{
		queueClose(c, c.out, CloseCode::GoingAway, "server shutting down");
		c.peerEof = true; // do not wait for the peer: one write, then close
		flush(c);
	}
	if (!c.dead)
	{
		if (c.upgraded()) c.transport.shutdownWrite();
		destroy(c);
	}
}

} // namespace host
} // namespace parley
