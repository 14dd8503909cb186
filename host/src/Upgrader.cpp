//
// Upgrader.cpp
//
#include "Upgrader.h"
#include "HostContext.h"
#include "TlsContext.h"
#include "HttpHead.h"
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley {
namespace host {

Upgrader::Upgrader(LoopState& state, WebSocketLayer& websockets, Dispatch& dispatch, const HostContext& context,
	const TlsContexts* tls)
	: _s(state), _ws(websockets), _dispatch(dispatch), _admission(context), _tls(tls), _proxy(context.config()->proxy)
{
	_dispatch.setGateHandler([this](Dispatch::GateOutcome& outcome) { onGates(outcome); });
}

std::uint16_t Upgrader::admitPeer(const PeerAddress& peer, bool& counted)
{
	counted = false;
	if (!_s.counts.peers.enabled()) return 0;
	switch (_s.counts.peers.admit(peer, _s.now()))
	{
	case PeerLimits::Outcome::Admitted:
		counted = true;
		return 0;
	case PeerLimits::Outcome::TooManyConnections:
		return 429;
	case PeerLimits::Outcome::TooFast:
		return 430;   // 429 for the rate (see decide())
	}
	return 0;
}

void Upgrader::accept(int fd, const sockaddr_storage& address)
{
	const PeerAddress peer = PeerAddress::from(address);
	if (_proxy.version != 0 && !ProxyHeader::trusted(_proxy.trusted, peer))
	{
		// Anyone else could claim any address: close before reading a byte.
		++_s.counters[ProxyUntrusted];
		_s.limited(LogProxyRefused, logKindPriority(LogProxyRefused), [&] {
			return "connection from " + peerText(peer) + " closed: not in server.trusted_proxies (server.proxy_protocol = v" +
				std::to_string(_proxy.version) + ")";
		});
		::close(fd);
		return;
	}
	bool peerCounted = false;
	// Behind a proxy the per-address limits wait for the client's address (readProxy).
	std::uint16_t refusal = _proxy.version != 0 ? 0 : admitPeer(peer, peerCounted);
	bool counted = refusal == 0 && _s.counts.sockets.fetch_add(1, std::memory_order_relaxed) < _s.engine.maxConnections;
	if (refusal == 0 && !counted)
	{
		_s.counts.sockets.fetch_sub(1, std::memory_order_relaxed);
		refusal = 503;
	}
	if (!counted)
	{
		if (peerCounted) _s.counts.peers.release(peer, _s.now());
		peerCounted = false;
		++_s.counters[refusal == 503 ? ConnectionsRefused : PeerLimitRefusals];
		if (_s.refusing >= MaxRefusing)
		{
			const std::size_t kind = LogRefused + LoopState::refusalBucket(refusal == 503 ? 503 : 429);
			_s.limited(kind, logKindPriority(kind), [&] {
				return "connection from " + peerText(peer) + " closed unanswered: " +
					(refusal == 503 ? "engine.max_connections reached" : "over a per-address limit (engine.max_connections_per_ip, "
						"engine.handshakes_per_ip_per_s)") + " and " + std::to_string(MaxRefusing) + " refusals already being answered";
			});
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
	c->refusal = refusal;
	c->peer = peer;
	c->peerCounted = peerCounted;
	c->upgrading.reset(new Connection::Pending);
	c->upgrading->acceptedNs = monotonicNs();
	c->index = static_cast<std::uint32_t>(_s.connections.size());
	_s.connections.push_back(c);
	if (_proxy.version != 0) c->state = Connection::State::Proxy;
	if (_tls)
	{
		if (_proxy.version == 0) c->state = Connection::State::Tls;
		if (!c->transport.startTls(_tls->current()))
		{
			++_s.counters[TlsFailures];
			_s.limited(LogTlsFailure, Poco::Message::PRIO_NOTICE, [&] {
				return "TLS handshake with " + peerText(peer) + " failed: OpenSSL cannot create a session (out of memory?)";
			});
			_ws.destroy(*c);
			return;
		}
	}
	if (!_s.loop.watch(fd, c))
	{
		++_s.counters[IoErrors];
		const int error = errno;
		_s.limited(LogIoError, Poco::Message::PRIO_WARNING, [&] {
			return "connection from " + peerText(peer) + " dropped: epoll refused its socket: " + std::strerror(error);
		});
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
	if (c.state == Connection::State::Gating) return;   // read again once the gates have spoken
	if (c.state == Connection::State::Proxy)
	{
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) readProxy(c);
		return;
	}
	if (c.state == Connection::State::Tls)
	{
		handshakeTls(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) readHead(c);
}

void Upgrader::readProxy(Connection& c)
{
	const int fd = c.transport.fd();
	const std::size_t most = ProxyHeader::maxBytes(_proxy.version);
	ssize_t n;
	do
		n = ::recv(fd, _s.in.get(), most, MSG_PEEK);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
	if (n <= 0)
	{
		_ws.destroy(c);   // gone before sending anything (or the socket failed): nothing to count
		return;
	}
	const ProxyHeader h = ProxyHeader::parse(_s.in.get(), static_cast<std::size_t>(n), _proxy.version);
	if (h.status == ProxyHeader::Status::Invalid)
	{
		refuseProxy(c, ProxyInvalid, h.error);
		return;
	}
	if (h.status == ProxyHeader::Status::Incomplete)
	{
		// More may come (the next edge brings it) unless the peer has ended its side.
		if (c.hangup) refuseProxy(c, ProxyInvalid, "the connection ended inside the PROXY header");
		return;
	}
	// Take exactly the header off the socket; what follows stays there for TLS or HTTP.
	std::size_t taken = 0;
	while (taken < h.size)
	{
		const ssize_t got = ::recv(fd, _s.in.get(), h.size - taken, 0);
		if (got > 0)
			taken += static_cast<std::size_t>(got);
		else if (got < 0 && errno == EINTR)
			continue;
		else
		{
			_ws.destroy(c);   // the peeked bytes are there: only a failed socket gets here
			return;
		}
	}
	_s.counters[HandshakeBytesIn] += h.size;
	if (h.hasSource) c.peer = h.source;
	if (c.counted)
	{
		// The per-address limits count the client, not the proxy (see accept()).
		bool peerCounted = false;
		const std::uint16_t refusal = admitPeer(c.peer, peerCounted);
		c.peerCounted = peerCounted;
		if (refusal != 0)
		{
			++_s.counters[PeerLimitRefusals];
			if (_s.refusing >= MaxRefusing)
			{
				const std::size_t kind = LogRefused + LoopState::refusalBucket(429);
				_s.limited(kind, logKindPriority(kind), [&] {
					return "connection from " + peerText(c.peer) + " closed unanswered: over a per-address limit "
						"(engine.max_connections_per_ip, engine.handshakes_per_ip_per_s) and " + std::to_string(MaxRefusing) +
						" refusals already being answered";
				});
				_ws.destroy(c);
				return;
			}
			// It answers its refusal after its head, as one refused at accept does.
			_s.counts.sockets.fetch_sub(1, std::memory_order_relaxed);
			c.counted = false;
			c.refusal = refusal;
			++_s.refusing;
		}
	}
	if (_tls)
	{
		c.state = Connection::State::Tls;
		handshakeTls(c);
	}
	else
	{
		c.state = Connection::State::Head;
		readHead(c);
	}
}

void Upgrader::refuseProxy(Connection& c, Counter counter, const std::string& why)
{
	++_s.counters[counter];
	_s.limited(LogProxyRefused, logKindPriority(LogProxyRefused), [&] {
		return "connection from " + peerText(c.peer) + " closed: " + why + " (server.proxy_protocol = v" +
			std::to_string(_proxy.version) + ")";
	});
	_ws.destroy(c);   // nothing can be answered before the header: just close
}

void Upgrader::handshakeTls(Connection& c)
{
	{
		std::string why;
		switch (c.transport.handshake(&why))
		{
		case Transport::Step::Pending:
			return;
		case Transport::Step::Failed:
			++_s.counters[TlsFailures];
			_s.limited(LogTlsFailure, Poco::Message::PRIO_NOTICE, [&] {
				return "TLS handshake with " + peerText(c.peer) + " failed: " + (why.empty() ? std::string("unknown reason") : why);
			});
			_ws.destroy(c);
			return;
		case Transport::Step::Done:
			// Application data may have come with the handshake's last flight: read it now.
			c.state = Connection::State::Head;
			readHead(c);
			return;
		}
	}
}

void Upgrader::readHead(Connection& c)
{
	if (!c.upgrading) c.upgrading.reset(new Connection::Pending);
	std::string& head = c.upgrading->head;
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
			_s.counters[HandshakeBytesIn] += static_cast<std::uint64_t>(n);
			if (have == 0 && !HttpHead::canStartRequest(head[0]))
			{
				// Not HTTP at all (a TLS ClientHello on a plain port, binary noise): answer now
				// instead of waiting for a head that will not come.
				const bool tls = static_cast<unsigned char>(head[0]) == 0x16;
				const std::string why = tls ? "a TLS handshake on a plain ws:// port (use ws://, or serve wss:// with server.tls)"
					: "not an HTTP request";
				refuse(c, 400, HttpHead::answer(400, why + "\n"), why);
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
				const std::string why = "request head larger than server.max_header_bytes (" + std::to_string(limit) + " bytes)";
				refuse(c, 431, HttpHead::answer(431, why + "\n"), why);
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
	Verdict v = c.counted ? _admission.evaluate(std::string_view(c.upgrading->head.data(), size))
		: c.refusal == 503 ? Admission::overCapacity() : Admission::overPeerLimit(c.refusal == 430);
	if (v.status == 101)
	{
		if (v.gated)
			startGates(c, std::move(v), size);
		else
			upgrade(c, v, size, moreToRead);
		return;
	}
	if (v.cause == Verdict::Cause::Origin) ++_s.counters[OriginRefusals];
	else if (v.cause == Verdict::Cause::Subprotocol) ++_s.counters[SubprotocolRefusals];
	refuse(c, v.status, v.response, v.reason);
}

void Upgrader::upgrade(Connection& c, const Verdict& v, std::size_t size, bool moreToRead, std::string identity,
	Attributes attributes, std::int64_t expiresAt)
{
	c.details = ConnectionDetails::make(v.path, v.query, v.subprotocol, identity, c.peer.text(), c.peer.port,
		_tls != nullptr, std::move(attributes));
	c.details->expiresAt = expiresAt;
	if (v.deflate)
	{
		c.deflate = _s.deflate.open(*v.deflate);
		c.decoder.allowCompression(true);
	}
	c.out.appendRaw(v.response);
	// The bytes after the head are frames: the WebSocket layer answers them after the 101.
	std::unique_ptr<Connection::Pending> upgrading = std::move(c.upgrading);
	std::string& head = upgrading->head;
	_ws.open(c, v.route, &head[0] + size, head.size() - size, moreToRead);
	_s.handshake.observe(monotonicNs() - upgrading->acceptedNs);   // the 101 is written (or queued behind a full socket)
}

void Upgrader::startGates(Connection& c, Verdict v, std::size_t size)
{
	if (_s.gating.size() >= MaxGating)
	{
		// The gates are far behind (a slow database?): refuse rather than queue without bound.
		++_s.counters[GateFailures];
		const std::string why = "service unavailable: too many handshakes wait for the gates";
		_s.limited(LogGateFailed, Poco::Message::PRIO_ERROR, [&] {
			return "route " + v.path + ": handshake from " + peerText(c.peer) + " refused with 503: " + std::to_string(MaxGating) +
				" handshakes wait for the gates (are they slow? plugins.workers)";
		});
		refuse(c, 503, Admission::refusal(503, why).response, std::string());
		return;
	}
	Connection::Pending& p = *c.upgrading;
	p.headSize = size;
	p.ticket = ++_s.gateTickets;
	p.gateRunning = std::make_shared<std::atomic<int>>(-1);
	Dispatch::GateInput input;
	input.ticket = p.ticket;
	input.method = "GET";
	input.path = v.path;
	input.query = v.query;
	input.subprotocol = v.subprotocol;
	input.remoteAddress = c.peer.text();
	input.remotePort = c.peer.port;
	input.tls = _tls != nullptr;
	input.headers = v.headers;
	const std::uint16_t route = v.route;
	p.verdict = std::move(v);
	if (!_dispatch.runGates(route, std::move(input), p.gateRunning))
	{
		++_s.counters[GateFailures];
		_s.limited(LogGateFailed, Poco::Message::PRIO_ERROR, [&] {
			return "route " + p.verdict.path + ": its gates are not available (a gate plugin was removed or failed to load); "
				"handshake from " + peerText(c.peer) + " refused with 503";
		});
		refuse(c, 503, Admission::refusal(503, "service unavailable: the route's gate is not available").response, std::string());
		return;
	}
	c.state = Connection::State::Gating;
	_s.gating[p.ticket] = &c;
}

void Upgrader::onGates(Dispatch::GateOutcome& o)
{
	auto it = _s.gating.find(o.ticket);
	if (it == _s.gating.end()) return;   // closed, or timed out, meanwhile
	Connection& c = *it->second;
	_s.gating.erase(it);
	c.upgrading->ticket = 0;
	if (c.dead) return;
	const std::string& path = c.upgrading->verdict.path;
	if (o.failed)
	{
		++_s.counters[GateFailures];
		_s.limited(LogGateFailed, Poco::Message::PRIO_ERROR, [&] {
			return "route " + path + ": gate '" + o.gate + "' failed, handshake from " + peerText(c.peer) + " refused with 503: " + o.reason;
		});
		refuse(c, 503, Admission::refusal(503, "service unavailable: gate " + o.gate + " failed").response, std::string());
		return;
	}
	if (!o.admitted)
	{
		++_s.counters[GateRefusals];
		refuse(c, o.status, Admission::refusal(o.status, o.reason, o.headers).response,
			"route " + path + ": gate '" + o.gate + "': " + o.reason);
		return;
	}
	const Verdict v = std::move(c.upgrading->verdict);
	// Edge-triggered: what arrived while the gates ran raised no new event, so read on.
	upgrade(c, v, c.upgrading->headSize, true, std::move(o.identity), std::move(o.attributes), o.expiresAt);
}

void Upgrader::refuse(Connection& c, int status, const std::string& answer, const std::string& reason)
{
	++_s.counters[HandshakesRefused];
	++_s.refusals[LoopState::refusalBucket(status)];
	if (!reason.empty())
	{
		_s.limited(LogRefused + LoopState::refusalBucket(status), logKindPriority(LogRefused + LoopState::refusalBucket(status)),
			[&] { return "handshake from " + peerText(c.peer) + " refused with " + std::to_string(status) + ": " + reason; });
	}
	if (c.upgrading && c.upgrading->ticket)
	{
		_s.gating.erase(c.upgrading->ticket);
		c.upgrading->gateRunning->store(Dispatch::GateCancelled, std::memory_order_relaxed);
	}
	c.upgrading.reset();
	c.out.appendRaw(answer);
	_ws.endAfterOutput(c);
}

void Upgrader::expire(Connection& c)
{
	if (_s.now() < c.deadline) return;
	if (c.state == Connection::State::Proxy)
	{
		refuseProxy(c, ProxyTimeouts, "no whole PROXY header within engine.handshake_timeout_ms (" +
			std::to_string(_s.engine.handshakeTimeoutMs) + " ms)");
		return;
	}
	++_s.counters[HandshakeTimeouts];
	if (c.state == Connection::State::Gating)
	{
		const int running = c.upgrading->gateRunning->load(std::memory_order_relaxed);
		const std::string gate = _dispatch.gateName(c.upgrading->verdict.route, running < 0 ? 0 : running);
		++_s.counters[GateFailures];
		_s.limited(LogGateFailed, Poco::Message::PRIO_ERROR, [&] {
			return "route " + c.upgrading->verdict.path + ": gate '" + gate + "' did not decide within engine.handshake_timeout_ms (" +
				std::to_string(_s.engine.handshakeTimeoutMs) + " ms)" +
				(running < 0 ? " (it had not started: the workers are busy)" : "") + "; handshake from " + peerText(c.peer) +
				" refused with 503";
		});
		refuse(c, 503, Admission::refusal(503, "service unavailable: gate " + gate + " did not answer in time").response,
			std::string());
		return;
	}
	_s.limited(LogHandshakeTimeout, Poco::Message::PRIO_NOTICE, [&] {
		const std::size_t got = c.upgrading ? c.upgrading->head.size() : 0;
		return "handshake from " + peerText(c.peer) + " dropped: " +
			(c.state == Connection::State::Tls ? std::string("TLS handshake") : "request head (" + std::to_string(got) + " bytes so far)") +
			" not done within engine.handshake_timeout_ms (" + std::to_string(_s.engine.handshakeTimeoutMs) + " ms)";
	});
	_ws.destroy(c);
}

} // namespace host
} // namespace parley
