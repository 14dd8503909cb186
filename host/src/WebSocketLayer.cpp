//
// WebSocketLayer.cpp — reading, decoding and answering; timers; the end of a connection (output:
// WebSocketOutput.cpp; the closing handshake: WebSocketClose.cpp).
//
#include "WebSocketLayer.h"
#include "Dispatch.h"
#include "parley/codec/FrameEncoder.h"
#include "parley/codec/Opcode.h"
#include <cerrno>
#include <algorithm>
#include <cstring>
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
/// What a broadcast sender is read at a time (once per turn).
constexpr std::size_t BroadcasterStep = 64u * 1024u;
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
	// Connection ids: a per-loop count above the loop's number (at most 256 loops), under the
	// node's tag in a cluster (the high 16 bits).
	c.id = _s.counts.idTag.load(std::memory_order_relaxed) | (++_s.connectionCount << 8) | _s.loop.id();
	c.details->info.id = c.id;
	c.lastActivity = now;
	c.lastPing = now;
	c.deadline = 0;
	c.openedAt = now;
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
	if (size != 0)
	{
		_s.mark.connection.store(&c, std::memory_order_relaxed);
		process(c, leftover, size, &c.out);
	}
	flush(c);
	if (c.dead) return;
	// An idle WebSocket holds no output buffer: give back the one the 101 was written from.
	if (c.out.empty()) c.out.release();
	if (c.dead) return;
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
		int error = 0;
		socklen_t size = sizeof(error);
		if (::getsockopt(c.transport.fd(), SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
		ioFailed(c, "socket error", error);
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
		else if (c.state == Connection::State::AwaitingClose)
			awaitClose(c);
		else if (c.state == Connection::State::Open && !c.readPaused)
			readSocket(c);
	}
}

void WebSocketLayer::readSocket(Connection& c)
{
	if (c.closeDeferred || c.queuePaused) return;
	if (__builtin_expect(_s.budgetTight(), 0) && (c.broadcaster || c.pending() > _s.engine.backpressureLow))
	{
		pauseForBudget(c);
		return;
	}
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
		std::size_t space = _s.inSize - used;
		if (__builtin_expect(c.broadcaster, 0))
		{
			if (_s.counts.inboxBytes.load(std::memory_order_relaxed) > BroadcasterStep * 4)
			{
				// The loops have not yet applied what it sent before: its turn comes again later.
				if (used != 0) handleRead(c, used);
				if (!c.dead) readAgainLater(c);
				return;
			}
			// Each byte a broadcast sender sends becomes output for every client of the room: it
			// is read in small steps, one per turn, so that the output one read makes stays small
			// beside engine.max_output_memory (and the other clients get their turns).
			if (round != 0)
			{
				if (used != 0) handleRead(c, used);
				if (!c.dead) readAgainLater(c);
				return;
			}
			space = std::min(space, BroadcasterStep);
		}
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
			c.closing(Connection::ClosedBy::Client, codec::CloseCode::Abnormal);
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
			ioFailed(c, "read failed", errno);
			destroy(c);
			return;
		}
	}
}

void WebSocketLayer::handleRead(Connection& c, std::size_t size)
{
	_s.reading = &c;
	_s.mark.connection.store(&c, std::memory_order_relaxed);   // for the watchdog's stall line
	if (c.out.empty())
	{
		process(c, _s.in.get(), size, &_s.shared);
		sendShared(c);
	}
	else
	{
		process(c, _s.in.get(), size, &c.out);
		flush(c);
	}
	_s.reading = nullptr;
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
				ChunkPool::noteFreed(c.decoder.memoryHeld());
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
					logProtocolClose(c, code, why);
					queueClose(c, *out, code, why, false);
					return;
				}
				if (payload.size() > BigMessage) c.bigMessage = true;
			}
			if (_s.access) // see LoopState::sent
			{
				++c.messagesIn;
				c.payloadIn += payload.size();
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
			c.closing(Connection::ClosedBy::Client, ev.closeCode);
			if (c.jobInFlight)
			{
				// Answer every earlier message first: the close goes out when the queue is empty.
				c.closeDeferred = true;
				c.deferredCode = ev.closeCode;
				return;
			}
			// Echo the peer's code (an empty close is answered with an empty close).
			queueClose(c, *out, ev.closeCode, std::string_view(), false);
			return;
		case FrameDecoder::EventType::Error:
			++_s.counters[ProtocolErrors];
			logProtocolClose(c, ev.closeCode, ev.error);
			queueClose(c, *out, ev.closeCode, ev.error, false);
			return;
		}
	}
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
		else if (c->state == Connection::State::AwaitingClose)
			awaitClose(*c);
		else if (c->state == Connection::State::Open && !c->readPaused)
			readSocket(*c);
	}
}

void WebSocketLayer::destroy(Connection& c)
{
	if (c.dead) return;
	c.dead = true;
	if (c.upgraded())
	{
		if (_s.access && _s.access->information()) logAccess(c);
		_dispatch->onClosed(c);
		_s.counts.websockets.fetch_sub(1, std::memory_order_relaxed);
		--_s.route(c.route).open;
	}
	if (c.bigMessage) ChunkPool::noteFreed(c.decoder.memoryHeld()); // freed with the connection (reap)
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

void WebSocketLayer::ioFailed(Connection& c, const char* what, int error)
{
	c.closing(Connection::ClosedBy::Io, codec::CloseCode::Abnormal);
	if (c.state != Connection::State::Open) return;
	++_s.counters[IoErrors];
	_s.limited(LogIoError, Poco::Message::PRIO_NOTICE, [&] {
		return "route " + _s.routePaths[c.route] + ": connection from " + peerText(c.peer) + " dropped: " + what + ": " +
			(error != 0 ? std::string(std::strerror(error)) : std::string("connection broken"));
	});
}

void WebSocketLayer::logProtocolClose(const Connection& c, std::uint16_t code, std::string_view why)
{
	_s.limited(LogClosed + LoopState::closeBucket(code), Poco::Message::PRIO_NOTICE, [&] {
		return "route " + _s.routePaths[c.route] + ": closing the connection from " + peerText(c.peer) + " with " +
			std::to_string(code) + ": " + std::string(why);
	});
}

namespace {

/// A value of the access log: as is, or in double quotes (with \" and \\) if it is empty or
/// holds a space, a quote, a backslash, '=' or a control character.
void appendValue(std::string& line, std::string_view value)
{
	bool plain = !value.empty();
	for (const char ch : value)
		plain = plain && static_cast<unsigned char>(ch) > ' ' && ch != '"' && ch != '\\' && ch != '=' && ch != 0x7f;
	if (plain)
	{
		line.append(value);
		return;
	}
	line += '"';
	for (const char ch : value)
	{
		if (ch == '"' || ch == '\\') line += '\\';
		if (static_cast<unsigned char>(ch) < ' ' || ch == 0x7f)
			line += '?';
		else
			line += ch;
	}
	line += '"';
}

} // namespace

void WebSocketLayer::logAccess(const Connection& c)
{
	static const char* const by[] = {"host", "client", "host", "io"};
	const ConnectionInfo& info = c.details->info;
	std::string line;
	line.reserve(256);
	line += "remote=";
	line += peerText(c.peer);
	line += " route=";
	appendValue(line, _s.routePaths[c.route]);
	line += " identity=";
	if (info.identity.empty())
		line += '-';
	else
		appendValue(line, info.identity);
	line += " id=" + std::to_string(c.id);
	line += " duration_ms=" + std::to_string(_s.now() - c.openedAt);
	line += " msgs_in=" + std::to_string(c.messagesIn);
	line += " bytes_in=" + std::to_string(c.payloadIn);
	line += " msgs_out=" + std::to_string(c.messagesOut);
	line += " bytes_out=" + std::to_string(c.payloadOut);
	line += " close=" + std::to_string(c.closedBy == Connection::ClosedBy::Nobody ? codec::CloseCode::Abnormal : c.closeCode);
	line += " closed_by=";
	line += by[static_cast<std::size_t>(c.closedBy)];
	_s.access->information(line);
}

void WebSocketLayer::reap()
{
	if (_s.graveyard.empty()) return;
	_s.mark.beforeDelete();   // the watchdog may be reading the connection of a stalled call
	for (Connection* c : _s.graveyard)
	{
		const std::uint32_t i = c->index;
		Connection* last = _s.connections.back();
		_s.connections[i] = last;
		last->index = i;
		_s.connections.pop_back();
		if (c->budgetPaused)
		{
			for (auto it = _s.budgetPaused.begin(); it != _s.budgetPaused.end(); ++it)
			{
				if (*it == c)
				{
					_s.budgetPaused.erase(it);
					_s.counts.budgetPaused.fetch_sub(1, std::memory_order_relaxed);
					break;
				}
			}
		}
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
	if (_s.engine.sendTimeoutMs != 0 && c.sendSince != 0 && now - c.sendSince >= _s.engine.sendTimeoutMs)
	{
		cut(c, Cut::SendTimeout, c.pending());
		return;
	}
	if (c.details->expiresAt != 0 && std::time(nullptr) >= c.details->expiresAt)
	{
		// A gate admitted it until then (the jwt gate's plugin.jwt.close_at_expiry).
		++_s.counters[TokenExpiries];
		_s.limited(LogTokenExpired, Poco::Message::PRIO_INFORMATION, [&] {
			return "route " + _s.routePaths[c.route] + ": closing the connection from " + peerText(c.peer) +
				" with 1008: its admission expired (identity " + std::string(c.details->info.identity) + ")";
		});
		queueClose(c, c.out, CloseCode::PolicyViolation, "token expired");
		flush(c);
	}
	else if (_s.engine.idleTimeoutMs != 0 && now - c.lastActivity >= _s.engine.idleTimeoutMs)
	{
		++_s.counters[IdleCloses];
		_s.limited(LogIdleClose, Poco::Message::PRIO_INFORMATION, [&] {
			return "route " + _s.routePaths[c.route] + ": closing the connection from " + peerText(c.peer) +
				" with 1001: idle for engine.idle_timeout_ms (" + std::to_string(_s.engine.idleTimeoutMs) + " ms)";
		});
		queueClose(c, c.out, CloseCode::GoingAway, "idle timeout");
		flush(c);
	}
	else if (_s.engine.pingIntervalMs != 0 && now - c.lastPing >= _s.engine.pingIntervalMs)
	{
		if (c.awaitingPong)
		{
			++_s.counters[PingTimeouts];
			_s.limited(LogPingTimeout, Poco::Message::PRIO_NOTICE, [&] {
				return "route " + _s.routePaths[c.route] + ": closing the connection from " + peerText(c.peer) +
					" with 1001: no pong within engine.ping_interval_ms (" + std::to_string(_s.engine.pingIntervalMs) + " ms)";
			});
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

} // namespace host
} // namespace parley
