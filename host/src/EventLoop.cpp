//
// EventLoop.cpp
//
#include "EventLoop.h"
#include "parley/PluginRegistry.h"
#include "parley/codec/FrameEncoder.h"
#include "parley/codec/Opcode.h"
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

namespace parley {
namespace host {

namespace {

using codec::FrameDecoder;
using codec::FrameEncoder;
namespace CloseCode = codec::CloseCode;

/// Bytes read per recv (one buffer per loop).
constexpr std::size_t ReadBufferSize = 1u << 20;
/// Reads of one connection per readiness event before the others get their turn.
constexpr unsigned ReadBudget = 8;
/// A connection's unsent-output buffer larger than this is released once it drains.
constexpr std::size_t KeepOutputCapacity = 4096;
/// A message gathered by the decoder larger than this makes the connection drop the
/// decoder's buffers once it is between messages.
constexpr std::size_t BigMessage = 64u * 1024u;

constexpr std::uint8_t OpText = static_cast<std::uint8_t>(codec::Opcode::Text);
constexpr std::uint8_t OpBinary = static_cast<std::uint8_t>(codec::Opcode::Binary);
constexpr std::uint8_t OpPing = static_cast<std::uint8_t>(codec::Opcode::Ping);
constexpr std::uint8_t OpPong = static_cast<std::uint8_t>(codec::Opcode::Pong);

std::system_error systemError(const char* what)
{
	return std::system_error(errno, std::generic_category(), what);
}

} // namespace

EventLoop::EventLoop(unsigned id, const HostConfig& config, const std::vector<std::string>& routePaths,
	PluginRegistry& registry, Poco::Logger& logger, std::atomic<std::size_t>& openConnections):
	_id(id),
	_engine(config.engine),
	_routePaths(routePaths),
	_logger(logger),
	_open(openConnections),
	_in(new char[ReadBufferSize]),
	_inSize(ReadBufferSize)
{
	for (const std::string& path : _routePaths)
	{
		auto route = config.routes.find(path);
		if (route == config.routes.end() || route->second.empty())
			throw ConfigError("route." + path + ": route has no plugins");
		std::vector<Stage> stages;
		for (const std::string& name : route->second)
		{
			try
			{
				stages.push_back(Stage{name, registry.create(name, config.settingsFor(name))});
			}
			catch (const std::invalid_argument& e)
			{
				throw ConfigError(std::string(e.what()) + " (route." + path + ")");
			}
		}
		_pipelines.push_back(std::make_unique<Pipeline>(std::move(stages)));
	}

	_epoll = ::epoll_create1(EPOLL_CLOEXEC);
	if (_epoll < 0) throw systemError("epoll_create1");
	_wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (_wakeFd < 0)
	{
		const std::system_error error = systemError("eventfd");
		::close(_epoll);
		throw error;
	}
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.ptr = nullptr;
	if (::epoll_ctl(_epoll, EPOLL_CTL_ADD, _wakeFd, &ev) != 0)
	{
		const std::system_error error = systemError("epoll_ctl");
		::close(_wakeFd);
		::close(_epoll);
		throw error;
	}
}

EventLoop::~EventLoop()
{
	stop();
	// Sockets handed over but never adopted (the loop never ran).
	for (Adoption& a : _adoptions)
	{
		::close(a.fd);
		_open.fetch_sub(1, std::memory_order_relaxed);
	}
	_adoptions.clear();
	if (_wakeFd >= 0) ::close(_wakeFd);
	if (_epoll >= 0) ::close(_epoll);
}

void EventLoop::start()
{
	_now = clockMs();
	_nextTick = _now + TickMs;
	_thread = std::thread([this] { run(); });
}

void EventLoop::stop()
{
	{
		std::lock_guard<std::mutex> lock(_adoptMutex);
		_adoptClosed = true;
	}
	_stopping.store(true);
	wake();
	if (_thread.joinable()) _thread.join();
}

void EventLoop::wake()
{
	const std::uint64_t one = 1;
	ssize_t n;
	do
	{
		n = ::write(_wakeFd, &one, sizeof(one));
	}
	while (n < 0 && errno == EINTR);
}

void EventLoop::adopt(int fd, std::uint16_t route, std::string preread)
{
	{
		std::lock_guard<std::mutex> lock(_adoptMutex);
		if (!_adoptClosed)
		{
			_load.fetch_add(1, std::memory_order_relaxed);
			_adoptions.push_back(Adoption{fd, route, std::move(preread)});
			fd = -1;
		}
	}
	if (fd >= 0)
	{
		::close(fd);
		_open.fetch_sub(1, std::memory_order_relaxed);
		return;
	}
	wake();
}

std::uint64_t EventLoop::clockMs() const
{
	using namespace std::chrono;
	return static_cast<std::uint64_t>(duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

void EventLoop::run()
{
	constexpr int MaxEvents = 256;
	epoll_event events[MaxEvents];
	for (;;)
	{
		int timeout = 0;
		if (_again.empty())
		{
			const std::uint64_t now = clockMs();
			timeout = now >= _nextTick ? 0 : static_cast<int>(_nextTick - now);
		}
		const int n = ::epoll_wait(_epoll, events, MaxEvents, timeout);
		if (n < 0 && errno != EINTR)
		{
			_logger.critical("event loop %u: epoll_wait failed: %s", _id, std::string(std::strerror(errno)));
			break;
		}
		_now = clockMs();
		bool woken = false;
		for (int i = 0; i < n; ++i)
		{
			if (events[i].data.ptr == nullptr)
				woken = true;
			else
				handle(*static_cast<Connection*>(events[i].data.ptr), events[i].events);
		}
		if (woken)
		{
			std::uint64_t value;
			while (::read(_wakeFd, &value, sizeof(value)) > 0)
			{
			}
			if (_stopping.load()) break;
			adoptPending();
		}
		if (!_again.empty())
		{
			std::vector<Connection*> work;
			work.swap(_again);
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
		if (_now >= _nextTick)
		{
			tick();
			_nextTick = _now + TickMs;
		}
		reap();
		publish();
	}
	closeAll();
	reap();
	publish();
}

void EventLoop::adoptPending()
{
	std::vector<Adoption> list;
	{
		std::lock_guard<std::mutex> lock(_adoptMutex);
		list.swap(_adoptions);
	}
	for (Adoption& a : list)
	{
		// Connection ids: a per-loop count above the loop's number (at most 256 loops).
		const std::uint64_t id = (++_connectionCount << 8) | _id;
		auto* c = new Connection(id, a.fd, a.route, _engine.maxMessageSize, _now);
		c->index = static_cast<std::uint32_t>(_connections.size());
		_connections.push_back(c);
		++_counters[ConnectionsTotal];
		epoll_event ev{};
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = c;
		if (::epoll_ctl(_epoll, EPOLL_CTL_ADD, a.fd, &ev) != 0)
		{
			_logger.error("event loop %u: cannot watch a new connection: %s", _id, std::string(std::strerror(errno)));
			++_counters[IoErrors];
			destroy(*c);
			continue;
		}
		if (!a.preread.empty())
		{
			// Frames that came in the same packets as the upgrade request: handle them before
			// anything read from the socket (epoll reports those after this).
			_counters[BytesIn] += a.preread.size();
			_shared.clear();
			process(*c, &a.preread[0], a.preread.size(), _shared);
			sendShared(*c);
		}
	}
}

void EventLoop::handle(Connection& c, std::uint32_t events)
{
	if (c.dead) return;
	if (events & EPOLLERR)
	{
		if (c.state == Connection::State::Open) ++_counters[IoErrors];
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

void EventLoop::readSocket(Connection& c)
{
	for (unsigned round = 0;; ++round)
	{
		if (round == ReadBudget)
		{
			// Fairness: let the other connections of this loop have their turn first.
			if (!c.queued)
			{
				c.queued = true;
				_again.push_back(&c);
			}
			return;
		}
		const ssize_t n = ::recv(c.fd, _in.get(), _inSize, 0);
		if (n > 0)
		{
			_counters[BytesIn] += static_cast<std::uint64_t>(n);
			c.lastActivity = _now;
			if (c.out.empty())
			{
				_shared.clear();
				process(c, _in.get(), static_cast<std::size_t>(n), _shared);
				sendShared(c);
			}
			else
			{
				process(c, _in.get(), static_cast<std::size_t>(n), c.out);
				flush(c);
			}
			if (c.dead || c.state != Connection::State::Open || c.readPaused) return;
			// A short read emptied the socket; with edge triggering the next data brings a new
			// event. After a hang-up no event follows: read on to the EOF.
			if (static_cast<std::size_t>(n) < _inSize && !c.hangup) return;
		}
		else if (n == 0)
		{
			c.peerEof = true;
			if (c.pending() == 0)
			{
				destroy(c);
			}
			else
			{
				// Let the replies already queued go out, then drop the connection.
				c.state = Connection::State::Closing;
				c.deadline = _now + CloseTimeoutMs;
			}
			return;
		}
		else if (errno == EINTR)
		{
			continue;
		}
		else
		{
			if (errno != EAGAIN && errno != EWOULDBLOCK)
			{
				++_counters[IoErrors];
				destroy(c);
			}
			return;
		}
	}
}

void EventLoop::process(Connection& c, char* data, std::size_t size, OutputBuffer& out)
{
	Pipeline& pipeline = *_pipelines[c.route];
	std::size_t pos = 0;
	std::size_t lastEnd = static_cast<std::size_t>(-1);
	FrameDecoder::Event ev;
	for (;;)
	{
		pos += c.decoder.decode(data + pos, size - pos, ev);
		switch (ev.type)
		{
		case FrameDecoder::EventType::NeedMore:
			if (c.bigMessage && lastEnd == size && !c.decoder.inMessage())
			{
				// Between messages at a frame boundary: give back the memory of a large message.
				c.decoder = FrameDecoder(codec::Role::Server, _engine.maxMessageSize);
				c.bigMessage = false;
			}
			return;
		case FrameDecoder::EventType::Text:
		case FrameDecoder::EventType::Binary:
		{
			++_counters[MessagesIn];
			if (ev.payload.size() > BigMessage && (ev.payload.data() < data || ev.payload.data() >= data + size))
				c.bigMessage = true;
			const Message message{ev.type == FrameDecoder::EventType::Text ? PayloadKind::Text : PayloadKind::Binary,
				ev.payload, c.id};
			const Reply* reply;
			try
			{
				reply = &pipeline.run(message);
			}
			catch (const ResponderError& e)
			{
				++_counters[ResponderErrors];
				_logger.error("route %s: plugin '%s' failed, closing the connection with 1011: %s",
					_routePaths[c.route], e.plugin(), std::string(e.what()));
				queueClose(c, out, CloseCode::InternalError, "responder failed");
				return;
			}
			catch (const std::exception& e)
			{
				++_counters[ResponderErrors];
				_logger.error("route %s: pipeline failed, closing the connection with 1011: %s", _routePaths[c.route],
					std::string(e.what()));
				queueClose(c, out, CloseCode::InternalError, "responder failed");
				return;
			}
			if (reply->action == Reply::Action::Send)
			{
				appendFrame(out, reply->kind == PayloadKind::Text ? OpText : OpBinary, reply->payload);
				++_counters[MessagesOut];
			}
			else if (reply->action == Reply::Action::Close)
			{
				if (reply->closeCode == CloseCode::NoStatus || CloseCode::isValidOnWire(reply->closeCode))
					queueClose(c, out, reply->closeCode, reply->payload);
				else
					queueClose(c, out, CloseCode::InternalError, "responder gave an invalid close code");
				return;
			}
			lastEnd = pos;
			break;
		}
		case FrameDecoder::EventType::Ping:
			++_counters[Pings];
			appendFrame(out, OpPong, ev.payload);
			lastEnd = pos;
			break;
		case FrameDecoder::EventType::Pong:
			c.awaitingPong = false;
			lastEnd = pos;
			break;
		case FrameDecoder::EventType::Close:
			++_closesReceived[closeBucket(ev.closeCode)];
			// Echo the peer's code (an empty close is answered with an empty close).
			queueClose(c, out, ev.closeCode, std::string_view());
			return;
		case FrameDecoder::EventType::Error:
			++_counters[ProtocolErrors];
			if (_logger.debug())
				_logger.debug("route %s: protocol error, closing with %hu: %s", _routePaths[c.route], ev.closeCode,
					std::string(ev.error));
			queueClose(c, out, ev.closeCode, ev.error);
			return;
		}
	}
}

void EventLoop::appendFrame(OutputBuffer& out, std::uint8_t opcode, std::string_view payload)
{
	const std::size_t header = FrameEncoder::headerSize(payload.size(), false);
	char* p = out.extend(header + payload.size());
	FrameEncoder::writeHeader(p, static_cast<codec::Opcode>(opcode), true, payload.size(), nullptr);
	if (!payload.empty()) std::memcpy(p + header, payload.data(), payload.size());
}

void EventLoop::queueClose(Connection& c, OutputBuffer& out, std::uint16_t code, std::string_view reason)
{
	std::string frame;
	FrameEncoder::appendClose(frame, code, reason);
	out.append(frame);
	++_closesSent[closeBucket(code)];
	c.state = Connection::State::Closing;
	c.deadline = _now + CloseTimeoutMs;
}

void EventLoop::sendShared(Connection& c)
{
	if (c.dead) return;
	const std::size_t size = _shared.size();
	std::size_t sent = 0;
	while (sent < size)
	{
		const ssize_t n = ::send(c.fd, _shared.data() + sent, size - sent, MSG_NOSIGNAL);
		if (n > 0)
		{
			sent += static_cast<std::size_t>(n);
			_counters[BytesOut] += static_cast<std::uint64_t>(n);
			if (sent < size) break; // the socket buffer is full: wait for EPOLLOUT
		}
		else if (n < 0 && errno == EINTR)
		{
			continue;
		}
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		{
			break;
		}
		else
		{
			if (c.state == Connection::State::Open) ++_counters[IoErrors];
			destroy(c);
			return;
		}
	}
	if (sent < size) c.out.append(std::string_view(_shared.data() + sent, size - sent));
	afterWrite(c);
}

void EventLoop::flush(Connection& c)
{
	if (c.dead) return;
	while (c.outPos < c.out.size())
	{
		const std::size_t want = c.out.size() - c.outPos;
		const ssize_t n = ::send(c.fd, c.out.data() + c.outPos, want, MSG_NOSIGNAL);
		if (n > 0)
		{
			c.outPos += static_cast<std::size_t>(n);
			_counters[BytesOut] += static_cast<std::uint64_t>(n);
			if (static_cast<std::size_t>(n) < want) break;
		}
		else if (n < 0 && errno == EINTR)
		{
			continue;
		}
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		{
			break;
		}
		else
		{
			if (c.state == Connection::State::Open) ++_counters[IoErrors];
			destroy(c);
			return;
		}
	}
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

void EventLoop::afterWrite(Connection& c)
{
	const std::size_t pending = c.pending();
	if (pending == 0)
	{
		if (c.state == Connection::State::Closing) finishClose(c);
		return;
	}
	if (pending > _counters[MaxPendingOutput]) _counters[MaxPendingOutput] = pending;
	if (c.state != Connection::State::Open) return;
	if (pending > _engine.backpressureLimit)
	{
		++_counters[BackpressureCloses];
		_logger.warning("route %s: %z bytes of unsent output exceed engine.backpressure_limit (%z), closing with 1008",
			_routePaths[c.route], pending, _engine.backpressureLimit);
		queueClose(c, c.out, CloseCode::PolicyViolation, "output backlog over limit");
	}
	else if (pending > _engine.backpressureHigh && !c.readPaused)
	{
		c.readPaused = true;
		++_counters[BackpressurePauses];
	}
}

void EventLoop::resumeIfDrained(Connection& c)
{
	if (c.readPaused && c.pending() <= _engine.backpressureLow)
	{
		c.readPaused = false;
		// Edge-triggered: data that arrived while paused brings no new event, so read now.
		if (c.state == Connection::State::Open) readSocket(c);
	}
}

void EventLoop::finishClose(Connection& c)
{
	if (c.peerEof)
	{
		destroy(c);
		return;
	}
	// Our close frame is out: end our side of TCP, then wait for the peer's FIN.
	::shutdown(c.fd, SHUT_WR);
	c.state = Connection::State::Draining;
	c.deadline = _now + CloseTimeoutMs;
	c.out.release();
	c.outPos = 0;
	drain(c);
}

void EventLoop::drain(Connection& c)
{
	for (unsigned round = 0;; ++round)
	{
		if (round == ReadBudget)
		{
			if (!c.queued)
			{
				c.queued = true;
				_again.push_back(&c);
			}
			return;
		}
		const ssize_t n = ::recv(c.fd, _in.get(), _inSize, 0);
		if (n > 0)
		{
			_counters[BytesIn] += static_cast<std::uint64_t>(n);
			continue;
		}
		if (n < 0 && errno == EINTR) continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
		destroy(c); // EOF or error: the close handshake is over
		return;
	}
}

void EventLoop::destroy(Connection& c)
{
	if (c.dead) return;
	c.dead = true;
	::epoll_ctl(_epoll, EPOLL_CTL_DEL, c.fd, nullptr);
	::close(c.fd);
	c.fd = -1;
	_graveyard.push_back(&c);
	_open.fetch_sub(1, std::memory_order_relaxed);
	_load.fetch_sub(1, std::memory_order_relaxed);
}

void EventLoop::reap()
{
	if (_graveyard.empty()) return;
	for (Connection* c : _graveyard)
	{
		const std::uint32_t i = c->index;
		Connection* last = _connections.back();
		_connections[i] = last;
		last->index = i;
		_connections.pop_back();
		if (c->queued)
		{
			for (auto it = _again.begin(); it != _again.end(); ++it)
			{
				if (*it == c)
				{
					_again.erase(it);
					break;
				}
			}
		}
		delete c;
	}
	_graveyard.clear();
}

void EventLoop::tick()
{
	const bool idle = _engine.idleTimeoutMs != 0;
	const bool ping = _engine.pingIntervalMs != 0;
	for (std::size_t i = 0; i < _connections.size(); ++i)
	{
		Connection& c = *_connections[i];
		if (c.dead) continue;
		if (c.state != Connection::State::Open)
		{
			if (_now >= c.deadline) destroy(c); // the peer never finished the close: drop it
			continue;
		}
		if (idle && _now - c.lastActivity >= _engine.idleTimeoutMs)
		{
			++_counters[IdleCloses];
			queueClose(c, c.out, CloseCode::GoingAway, "idle timeout");
			flush(c);
		}
		else if (ping && _now - c.lastPing >= _engine.pingIntervalMs)
		{
			if (c.awaitingPong)
			{
				++_counters[PingTimeouts];
				queueClose(c, c.out, CloseCode::GoingAway, "no pong to the last ping");
			}
			else
			{
				appendFrame(c.out, OpPing, "parley");
				c.awaitingPong = true;
				c.lastPing = _now;
			}
			flush(c);
		}
		if (!c.dead) resumeIfDrained(c);
	}
}

void EventLoop::closeAll()
{
	{
		std::lock_guard<std::mutex> lock(_adoptMutex);
		_adoptClosed = true;
		for (Adoption& a : _adoptions)
		{
			::close(a.fd);
			_open.fetch_sub(1, std::memory_order_relaxed);
			_load.fetch_sub(1, std::memory_order_relaxed);
		}
		_adoptions.clear();
	}
	for (Connection* c : _connections)
	{
		if (c->dead) continue;
		if (c->state == Connection::State::Open)
		{
			queueClose(*c, c->out, CloseCode::GoingAway, "server shutting down");
			c->peerEof = true; // do not wait for the peer: one write, then close
			flush(*c);
		}
		if (!c->dead)
		{
			::shutdown(c->fd, SHUT_WR);
			destroy(*c);
		}
	}
}

std::size_t EventLoop::closeBucket(std::uint16_t code) noexcept
{
	if (code >= 1000 && code <= 1015) return code - 1000u;
	if (code >= 3000 && code <= 3999) return 16;
	if (code >= 4000 && code <= 4999) return 17;
	return 18;
}

void EventLoop::publish()
{
	std::size_t k = 0;
	for (std::size_t i = 0; i < CounterCount; ++i, ++k) _published[k].store(_counters[i], std::memory_order_relaxed);
	for (std::size_t i = 0; i < CloseBuckets; ++i, ++k) _published[k].store(_closesSent[i], std::memory_order_relaxed);
	for (std::size_t i = 0; i < CloseBuckets; ++i, ++k) _published[k].store(_closesReceived[i], std::memory_order_relaxed);
}

void EventLoop::collect(Metrics& m) const
{
	auto get = [this](std::size_t k) { return _published[k].load(std::memory_order_relaxed); };
	m.connectionsTotal += get(ConnectionsTotal);
	m.messagesIn += get(MessagesIn);
	m.messagesOut += get(MessagesOut);
	m.bytesIn += get(BytesIn);
	m.bytesOut += get(BytesOut);
	m.pings += get(Pings);
	m.protocolErrors += get(ProtocolErrors);
	m.responderErrors += get(ResponderErrors);
	m.ioErrors += get(IoErrors);
	m.backpressurePauses += get(BackpressurePauses);
	m.backpressureCloses += get(BackpressureCloses);
	m.idleCloses += get(IdleCloses);
	m.pingTimeouts += get(PingTimeouts);
	const std::uint64_t maxPending = get(MaxPendingOutput);
	if (maxPending > m.maxPendingOutput) m.maxPendingOutput = maxPending;
	auto codeOf = [](std::size_t bucket) -> std::uint16_t {
		if (bucket < 16) return static_cast<std::uint16_t>(1000 + bucket);
		if (bucket == 16) return 3000;
		if (bucket == 17) return 4000;
		return 0;
	};
	for (std::size_t i = 0; i < CloseBuckets; ++i)
	{
		const std::uint64_t sent = get(CounterCount + i);
		const std::uint64_t received = get(CounterCount + CloseBuckets + i);
		if (sent) m.closesSent[codeOf(i)] += sent;
		if (received) m.closesReceived[codeOf(i)] += received;
	}
}

} // namespace host
} // namespace parley
