//
// EventLoop.cpp
//
#include "EventLoop.h"
#include "HostContext.h"
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
/// A read of this size or more is followed by another one before its replies are sent.
constexpr std::size_t LargeRead = 64u * 1024u;
/// Reads of one connection per readiness event before the others get their turn.
constexpr unsigned ReadBudget = 8;
/// A connection's unsent-output buffer larger than this is released once it drains.
constexpr std::size_t KeepOutputCapacity = 4096;
/// A message gathered by the decoder larger than this makes the connection drop the
/// decoder's buffers once it is between messages.
constexpr std::size_t BigMessage = 64u * 1024u;
/// Messages waiting for the workers on one connection above which the loop stops reading it,
/// and below which it reads again.
constexpr std::size_t QueueHigh = 1024;
constexpr std::size_t QueueLow = 256;

constexpr std::uint8_t OpText = static_cast<std::uint8_t>(codec::Opcode::Text);
constexpr std::uint8_t OpBinary = static_cast<std::uint8_t>(codec::Opcode::Binary);
constexpr std::uint8_t OpPing = static_cast<std::uint8_t>(codec::Opcode::Ping);
constexpr std::uint8_t OpPong = static_cast<std::uint8_t>(codec::Opcode::Pong);

std::system_error systemError(const char* what)
{
	return std::system_error(errno, std::generic_category(), what);
}

} // namespace

EventLoop::EventLoop(unsigned id, HostContext& context, WorkerPool& workers, std::atomic<std::size_t>& openConnections):
	_id(id),
	_context(context),
	_workers(workers),
	_engine(context.config()->engine),
	_logger(context.logger()),
	_open(openConnections),
	_sendChunk(_engine.sendChunk != 0 ? _engine.sendChunk : ~std::size_t(0)),
	_in(new char[ReadBufferSize]),
	_inSize(ReadBufferSize)
{
	_registryGeneration = _context.registry().generation();
	_configGeneration = _context.configGeneration();
	const auto config = _context.config();
	const std::size_t routes = _context.routeCount();
	for (std::size_t r = 0; r < routes; ++r)
	{
		const std::string path = _context.routePath(r);
		_routePaths.push_back(path);
		auto route = config->routes.find(path);
		if (route == config->routes.end())
		{
			_chains.push_back(nullptr);
			continue;
		}
		if (route->second.empty()) throw ConfigError("route." + path + ": route has no plugins");
		try
		{
			_chains.push_back(Chain::build(route->second, *config, _context.registry(), _context.outbox(r), _workers.size()));
		}
		catch (const std::invalid_argument& e)
		{
			throw ConfigError(std::string(e.what()) + " (route." + path + ")");
		}
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
	{
		std::lock_guard<std::mutex> lock(_inboxMutex);
		_inboxClosed = true;
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
		checkGenerations();
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
			takeInbox();
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
		_byId[id] = c;
		{
			std::lock_guard<std::mutex> lock(_inboxMutex);
			_live[id] = a.route;
		}
		if (a.route >= _chains.size()) rebuild(); // a route added by a reload this very turn
		if (a.route < _chains.size()) c->chain = _chains[a.route];
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
		if (!c->chain)
		{
			// The route's plugin was removed (or a reload is racing this connection).
			queueClose(*c, c->out, CloseCode::GoingAway, "route unavailable: plugin removed");
			flush(*c);
			continue;
		}
		if (!c->chain->blocking) c->chain->open(c->id, _logger);
		if (!a.preread.empty())
		{
			// Frames that came in the same packets as the upgrade request: handle them before
			// anything read from the socket (epoll reports those after this).
			_counters[BytesIn] += a.preread.size();
			_shared.clear();
			process(*c, &a.preread[0], a.preread.size(), &_shared);
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
		const std::size_t space = _inSize - used;
		const ssize_t n = ::recv(c.fd, _in.get() + used, space, 0);
		if (n > 0)
		{
			const std::size_t got = static_cast<std::size_t>(n);
			_counters[BytesIn] += got;
			c.lastActivity = _now;
			used += got;
			if (got >= LargeRead && got < space && c.out.empty()) continue; // read again first
			handleRead(c, used);
			used = 0;
			if (c.dead || c.state != Connection::State::Open || c.readPaused || c.closeDeferred || c.queuePaused) return;
			// A short read emptied the socket; with edge triggering the next data brings a new
			// event. After a hang-up no event follows: read on to the EOF.
			if (got < space && !c.hangup) return;
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
			else if (used != 0)
			{
				handleRead(c, used);
			}
			return;
		}
	}
}

void EventLoop::handleRead(Connection& c, std::size_t size)
{
	if (c.out.empty())
	{
		_shared.clear();
		process(c, _in.get(), size, &_shared);
		sendShared(c);
	}
	else
	{
		process(c, _in.get(), size, &c.out);
		flush(c);
	}
}

// Inlined into process(): this is the per-message path.
__attribute__((always_inline)) inline bool EventLoop::runInline(Connection& c, const Message& message,
	OutputBuffer& out)
{
	const Reply* reply;
	try
	{
		reply = &c.chain->pipeline->run(message);
	}
	catch (...)
	{
		return pipelineFailed(c, out);
	}
	if (reply->action == Reply::Action::Send)
	{
		// The common case, kept inline: one frame, straight into the output.
		out.appendFrame(reply->kind == PayloadKind::Text ? OpText : OpBinary,
			reply->quotesMessage ? message.payload : std::string_view(), reply->payload);
		++_counters[MessagesOut];
		return true;
	}
	return applyReply(c, *reply, message.payload, out);
}

void EventLoop::process(Connection& c, char* data, std::size_t size, OutputBuffer* out)
{
	std::size_t pos = 0;
	std::size_t lastEnd = static_cast<std::size_t>(-1);
	FrameDecoder::Event ev;
	std::size_t sendAt = _sendChunk;
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
			if (c.jobInFlight || c.chain->blocking)
			{
				if (c.jobInFlight)
				{
					c.queue.emplace_back(message.kind, std::string(message.payload));
					if (c.queue.size() >= QueueHigh) c.queuePaused = true;
				}
				else
				{
					submit(c, message.kind, std::string(message.payload));
				}
			}
			else if (!runInline(c, message, *out))
			{
				return;
			}
			lastEnd = pos;
			// Early sends are for runs of small messages, where the peer can parse the first
			// replies while the loop makes the rest; a reply of send_chunk or more is worth a
			// send by itself, and the read's replies then leave together at the end.
			if (message.payload.size() >= _sendChunk) sendAt = ~std::size_t(0);
			if (out == &_shared && _shared.size() >= sendAt)
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
			++_counters[Pings];
			out->appendFrame(OpPong, ev.payload);
			lastEnd = pos;
			break;
		case FrameDecoder::EventType::Pong:
			c.awaitingPong = false;
			lastEnd = pos;
			break;
		case FrameDecoder::EventType::Close:
			++_closesReceived[closeBucket(ev.closeCode)];
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
			++_counters[ProtocolErrors];
			if (_logger.debug())
				_logger.debug("route %s: protocol error, closing with %hu: %s", _routePaths[c.route], ev.closeCode,
					std::string(ev.error));
			queueClose(c, *out, ev.closeCode, ev.error);
			return;
		}
	}
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

std::size_t EventLoop::sendSome(Connection& c, const char* data, std::size_t size)
{
	std::size_t sent = 0;
	while (sent < size)
	{
		const ssize_t n = ::send(c.fd, data + sent, size - sent, MSG_NOSIGNAL);
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
			return SendFailed;
		}
	}
	return sent;
}

OutputBuffer* EventLoop::sendEarly(Connection& c)
{
	if (!sendBatch(c)) return nullptr;
	// After a short send the rest of this read's output queues behind what is left.
	return c.out.empty() ? &_shared : &c.out;
}

bool EventLoop::sendBatch(Connection& c)
{
	const std::size_t size = _shared.size();
	const std::size_t sent = sendSome(c, _shared.data(), size);
	if (sent == SendFailed) return false;
	if (sent < size) c.out.append(std::string_view(_shared.data() + sent, size - sent));
	_shared.clear();
	return true;
}

void EventLoop::sendShared(Connection& c)
{
	if (c.dead) return;
	if (!sendBatch(c)) return;
	afterWrite(c);
}

void EventLoop::flush(Connection& c)
{
	if (c.dead) return;
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

void EventLoop::readAgainLater(Connection& c)
{
	// Fairness: the other connections of this loop have their turn first.
	if (!c.queued)
	{
		c.queued = true;
		_again.push_back(&c);
	}
}

void EventLoop::drain(Connection& c)
{
	for (unsigned round = 0;; ++round)
	{
		if (round == ReadBudget)
		{
			readAgainLater(c);
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
	if (c.chain && !c.chain->blocking) c.chain->close(c.id, _logger);
	_byId.erase(c.id);
	{
		std::lock_guard<std::mutex> lock(_inboxMutex);
		_live.erase(c.id);
	}
	c.queue.clear();
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
				c.out.appendFrame(OpPing, "parley");
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
		std::lock_guard<std::mutex> lock(_inboxMutex);
		_inboxClosed = true;
		_pushes.clear();
		_results.clear();
	}
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


void EventLoop::checkGenerations()
{
	if (_context.registry().generation() != _registryGeneration || _context.configGeneration() != _configGeneration)
		rebuild();
}

void EventLoop::rebuild()
{
	const std::uint64_t registryGeneration = _context.registry().generation();
	const bool pluginsChanged = registryGeneration != _registryGeneration;
	_registryGeneration = registryGeneration;
	_configGeneration = _context.configGeneration();
	const auto config = _context.config();
	const std::size_t routes = _context.routeCount();
	while (_routePaths.size() < routes) _routePaths.push_back(_context.routePath(_routePaths.size()));
	_chains.resize(routes);
	std::vector<bool> changed(routes, false);
	for (std::size_t r = 0; r < routes; ++r)
	{
		auto route = config->routes.find(_routePaths[r]);
		if (route == config->routes.end())
		{
			// Dropped by a reload: open connections keep their instances until they close.
			if (_chains[r]) _chains[r].reset();
			continue;
		}
		if (_chains[r] && !pluginsChanged && _chains[r]->sameAs(route->second, *config)) continue;
		const bool had = _chains[r] != nullptr;
		try
		{
			_chains[r] = Chain::build(route->second, *config, _context.registry(), _context.outbox(r), _workers.size());
			changed[r] = true;
		}
		catch (const std::exception& e)
		{
			if (had && _id == 0)
				_logger.warning("route %s: %s; open connections keep the plugin they use, new ones are closed with 1001",
					_routePaths[r], std::string(e.what()));
			_chains[r].reset();
		}
	}
	std::size_t moved = 0;
	for (Connection* c : _connections)
	{
		if (c->dead || c->route >= routes || !changed[c->route]) continue;
		const std::shared_ptr<Chain>& fresh = _chains[c->route];
		if (!fresh || c->chain == fresh) continue;
		if (c->chain && !c->chain->blocking) c->chain->close(c->id, _logger);
		c->chain = fresh;   // the old chain goes when its last connection and job let go
		if (!fresh->blocking) fresh->open(c->id, _logger);
		++moved;
	}
	if (_logger.debug()) _logger.debug("event loop %u: chains rebuilt, %z connections moved", _id, moved);
}

bool EventLoop::push(ConnectionId connection, std::uint16_t route, PayloadKind kind, std::string_view payload)
{
	bool wakeNow = false;
	{
		std::lock_guard<std::mutex> lock(_inboxMutex);
		if (_inboxClosed) return false;
		auto it = _live.find(connection);
		if (it == _live.end() || it->second != route) return false;
		_pushes.push_back(Push{connection, route, kind, std::string(payload)});
		wakeNow = !_wakePending;
		_wakePending = true;
	}
	if (wakeNow) wake();
	return true;
}

void EventLoop::broadcast(std::uint16_t route, PayloadKind kind, std::string_view payload)
{
	bool wakeNow = false;
	{
		std::lock_guard<std::mutex> lock(_inboxMutex);
		if (_inboxClosed) return;
		_pushes.push_back(Push{0, route, kind, std::string(payload)});
		wakeNow = !_wakePending;
		_wakePending = true;
	}
	if (wakeNow) wake();
}

void EventLoop::complete(Result result)
{
	bool wakeNow = false;
	{
		std::lock_guard<std::mutex> lock(_inboxMutex);
		if (_inboxClosed) return;
		_results.push_back(std::move(result));
		wakeNow = !_wakePending;
		_wakePending = true;
	}
	if (wakeNow) wake();
}

void EventLoop::takeInbox()
{
	std::vector<Push> pushes;
	std::vector<Result> results;
	{
		std::lock_guard<std::mutex> lock(_inboxMutex);
		_wakePending = false;
		if (_pushes.empty() && _results.empty()) return;
		pushes.swap(_pushes);
		results.swap(_results);
	}
	// Results first: a reply that was computed before a push was queued leaves before it.
	for (Result& r : results) applyResult(r);
	for (Push& p : pushes) applyPush(p);
	for (Connection* c : _touched)
	{
		c->pushed = false;
		if (c->dead) continue;
		flush(*c);
		if (c->dead) continue;
		resumeIfDrained(*c);
		if (c->dead) continue;
		if (c->resumeQueue)
		{
			c->resumeQueue = false;
			if (c->state == Connection::State::Open && !c->readPaused) readSocket(*c);
		}
	}
	_touched.clear();
}

void EventLoop::touch(Connection& c)
{
	if (c.pushed) return;
	c.pushed = true;
	_touched.push_back(&c);
}

void EventLoop::applyPush(Push& p)
{
	const std::uint8_t op = p.kind == PayloadKind::Text ? OpText : OpBinary;
	if (p.connection != 0)
	{
		auto it = _byId.find(p.connection);
		if (it == _byId.end()) return;
		Connection& c = *it->second;
		if (c.dead || c.state != Connection::State::Open || c.route != p.route) return;
		c.out.appendFrame(op, p.payload);
		++_counters[MessagesOut];
		touch(c);
		return;
	}
	for (Connection* c : _connections)
	{
		if (c->dead || c->state != Connection::State::Open || c->route != p.route) continue;
		c->out.appendFrame(op, p.payload);
		++_counters[MessagesOut];
		touch(*c);
	}
}

void EventLoop::applyResult(Result& r)
{
	auto it = _byId.find(r.connection);
	if (it == _byId.end()) return; // the connection is gone: drop the result
	Connection& c = *it->second;
	if (c.dead) return;
	c.jobInFlight = false;
	touch(c);
	if (c.state != Connection::State::Open)
	{
		c.queue.clear();
		return;
	}
	if (!r.plugin.empty())
	{
		responderFailed(c, r.plugin, r.error, c.out);
		c.queue.clear();
		return;
	}
	if (!applyReply(c, r.reply, std::string_view(), c.out)) // settled by the worker
	{
		c.queue.clear();
		return;
	}
	pump(c);
}

void EventLoop::submit(Connection& c, PayloadKind kind, std::string payload)
{
	c.jobInFlight = true;
	Job job;
	job.connection = c.id;
	job.chain = c.chain;
	job.kind = kind;
	job.payload = std::move(payload);
	job.done = [this](ConnectionId id, const Reply& reply, const std::string& plugin, const std::string& error) {
		complete(Result{id, reply, plugin, error});
	};
	_workers.submit(std::move(job));
}

void EventLoop::pump(Connection& c)
{
	while (!c.queue.empty() && !c.jobInFlight && c.state == Connection::State::Open)
	{
		std::pair<PayloadKind, std::string> item = std::move(c.queue.front());
		c.queue.pop_front();
		if (c.chain->blocking)
		{
			submit(c, item.first, std::move(item.second));
		}
		else
		{
			const Message message{item.first, item.second, c.id};
			if (!runInline(c, message, c.out)) c.queue.clear();
		}
	}
	if (c.queuePaused && c.queue.size() < QueueLow)
	{
		c.queuePaused = false;
		c.resumeQueue = true;
	}
	if (c.closeDeferred && !c.jobInFlight && c.state == Connection::State::Open)
	{
		c.closeDeferred = false;
		queueClose(c, c.out, c.deferredCode, std::string_view());
	}
}

bool EventLoop::pipelineFailed(Connection& c, OutputBuffer& out)
{
	try
	{
		throw;
	}
	catch (const ResponderError& e)
	{
		responderFailed(c, e.plugin(), e.what(), out);
	}
	catch (const std::exception& e)
	{
		responderFailed(c, std::string(), e.what(), out);
	}
	catch (...)
	{
		responderFailed(c, std::string(), "unknown exception", out);
	}
	return false;
}

bool EventLoop::applyReply(Connection& c, const Reply& reply, std::string_view message, OutputBuffer& out)
{
	if (reply.action == Reply::Action::Send)
	{
		out.appendFrame(reply.kind == PayloadKind::Text ? OpText : OpBinary,
			reply.quotesMessage ? message : std::string_view(), reply.payload);
		++_counters[MessagesOut];
	}
	else if (reply.action == Reply::Action::Close)
	{
		if (reply.closeCode == CloseCode::NoStatus || CloseCode::isValidOnWire(reply.closeCode))
			queueClose(c, out, reply.closeCode, reply.payload);
		else
			queueClose(c, out, CloseCode::InternalError, "responder gave an invalid close code");
		return false;
	}
	return true;
}

void EventLoop::responderFailed(Connection& c, const std::string& plugin, const std::string& what, OutputBuffer& out)
{
	++_counters[ResponderErrors];
	if (plugin.empty())
		_logger.error("route %s: pipeline failed, closing the connection with 1011: %s", _routePaths[c.route], what);
	else
		_logger.error("route %s: plugin '%s' failed, closing the connection with 1011: %s", _routePaths[c.route], plugin,
			what);
	queueClose(c, out, CloseCode::InternalError, "responder failed");
}

} // namespace host
} // namespace parley
