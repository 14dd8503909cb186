//
// Upgrader.cpp
//
#include "Upgrader.h"
#include "HttpHead.h"
#include <algorithm>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley {
namespace host {

void Upgrader::accept(int fd)
{
	const bool counted = _s.counts.sockets.fetch_add(1, std::memory_order_relaxed) < _s.engine.maxConnections;
	if (!counted)
	{
		_s.counts.sockets.fetch_sub(1, std::memory_order_relaxed);
		++_s.counters[ConnectionsRefused];
		if (_s.refusing >= MaxRefusing)
		{
			::close(fd);
			return;
		}
		++_s.refusing;
	}
	const int one = 1;
	::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	const std::uint64_t now = _s.now();
	auto* c = new Connection(fd, _s.engine.maxMessageSize, now, now + _s.engine.handshakeTimeoutMs);
	c->counted = counted;
	c->index = static_cast<std::uint32_t>(_s.connections.size());
	_s.connections.push_back(c);
	if (_tls)
	{
		c->state = Connection::State::Tls;
		if (!c->transport.startTls(_tls))
		{
			++_s.counters[TlsFailures];
			_ws.destroy(*c);
			return;
		}
	}
	if (!_s.loop.watch(fd, c))
	{
		++_s.counters[IoErrors];
		_ws.destroy(*c);
	}
	// The first event (the socket is writable, maybe readable) starts the work.
}

void Upgrader::onEvents(Connection& c, std::uint32_t events)
{
	if (events & EPOLLERR)
	{
		_ws.destroy(c);
		return;
	}
	if (events & (EPOLLRDHUP | EPOLLHUP)) c.hangup = true;
	if (c.state == Connection::State::Tls)
	{
		std::string why;
		switch (c.transport.handshake(&why))
		{
		case Transport::Step::Pending:
			return;
		case Transport::Step::Failed:
			++_s.counters[TlsFailures];
			if (_s.logger.debug()) _s.logger.debug("TLS handshake failed: " + why);
			_ws.destroy(c);
			return;
		case Transport::Step::Done:
			// Application data may have come with the handshake's last flight: read it now.
			c.state = Connection::State::Head;
			readHead(c);
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) readHead(c);
}

void Upgrader::readHead(Connection& c)
{
	if (!c.head) c.head.reset(new std::string);
	std::string& head = *c.head;
	const std::size_t limit = _s.maxHeaderBytes;
	for (;;)
	{
		// One byte more than the limit allows, to tell a head that is too large. Read through
		// the loop's buffer: a head that arrives in pieces holds only what came so far.
		const std::size_t have = head.size();
		const std::size_t want = std::min(limit + 1 - have, _s.inSize);
		bool drained = false;
		const ssize_t n = c.transport.read(_s.in.get(), want, drained);
		if (n > 0)
		{
			head.append(_s.in.get(), static_cast<std::size_t>(n));
			_s.counters[BytesIn] += static_cast<std::uint64_t>(n);
			if (have == 0 && !HttpHead::canStartRequest(head[0]))
			{
				// Not HTTP at all (a TLS ClientHello on a plain port, binary noise): answer now
				// instead of waiting for a head that will not come.
				const bool tls = static_cast<unsigned char>(head[0]) == 0x16;
				refuse(c, 400, HttpHead::answer(400, tls ? "a TLS handshake on a plain ws:// port (use ws://, or serve wss:// with server.tls)\n"
					: "not an HTTP request\n"));
				return;
			}
			const std::size_t end = HttpHead::findEnd(head, have);
			if (end != 0 && end <= limit)
			{
				decide(c, end, !drained);
				return;
			}
			if (head.size() > limit)
			{
				refuse(c, 431, HttpHead::answer(431, "request head larger than server.max_header_bytes (" +
					std::to_string(limit) + " bytes)\n"));
				return;
			}
			if (drained && !c.hangup) return;
			continue;
		}
		if (n == Transport::WouldBlock) return;
		// The peer went away (or the socket failed) before its head was complete.
		_ws.destroy(c);
		return;
	}
}

void Upgrader::decide(Connection& c, std::size_t size, bool moreToRead)
{
	const Verdict v = c.counted ? _admission.evaluate(std::string_view(c.head->data(), size)) : Admission::overCapacity();
	if (v.status == 101)
	{
		c.out.append(v.response);
		// The bytes after the head are frames: the WebSocket layer answers them after the 101.
		std::unique_ptr<std::string> head = std::move(c.head);
		_ws.open(c, v.route, &(*head)[0] + size, head->size() - size, moreToRead);
		return;
	}
	if (_s.logger.debug()) _s.logger.debug("request refused with " + std::to_string(v.status) + ": " + v.reason);
	refuse(c, v.status, v.response);
}

void Upgrader::refuse(Connection& c, int status, const std::string& answer)
{
	++_s.counters[HandshakesRefused];
	++_s.refusals[LoopState::refusalBucket(status)];
	c.head.reset();
	c.out.append(answer);
	_ws.endAfterOutput(c);
}

void Upgrader::expire(Connection& c)
{
	if (_s.now() < c.deadline) return;
	++_s.counters[HandshakeTimeouts];
	_ws.destroy(c);
}

} // namespace host
} // namespace parley
