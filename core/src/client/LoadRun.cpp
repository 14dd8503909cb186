//
// LoadRun.cpp — one non-blocking epoll loop on the calling thread drives every connection:
// replies are read and verified, freed window slots are refilled, and everything one turn
// produced for a connection leaves in one send(). Over wss:// the same loop drives OpenSSL
// (ClientTls): a plain connection pays one predictable branch for that, in onEvent and flush.
// Here: set-up, the loop, TLS and each connection's life; the per-message path is in
// LoadFrames.cpp, the shared declarations in LoadRunner.h.
//
#include "LoadRunner.h"

namespace parley {
namespace client {
namespace load {

std::size_t Runner::messageId(char* dst, unsigned conn, std::uint64_t seq) const noexcept
{
	char* p = std::to_chars(dst, dst + 12, conn).ptr;
	*p++ = ':';
	p = std::to_chars(p, p + 21, seq).ptr;
	return static_cast<std::size_t>(p - dst);
}

std::string Runner::expectedText(unsigned conn, std::uint64_t seq) const
{
	char id[40];
	std::size_t n = messageId(id, conn, seq);
	std::string m(id, n);
	if (_o.size > n)
		m.append(_padding, 0, _o.size - n);
	return m;
}

void Runner::setUp()
{
	if (_o.window == 0)
		throw RunError("window must be at least 1");
	if (_o.conns == 0)
		throw RunError("conns must be at least 1");
	if (_o.expect == Expect::RandomSuffix && _o.min > _o.max)
		throw RunError("min (" + std::to_string(_o.min) + ") is greater than max (" + std::to_string(_o.max) + ")");
	try
	{
		_url = Url::parse(_o.url);
	}
	catch (const std::exception& e)
	{
		throw RunError(e.what());
	}
	_opcode = _o.binary ? codec::Opcode::Binary : codec::Opcode::Text;
	_s.deflateOffered = _o.deflate.enabled;
	static const char pattern[] = "abcdefghijklmnopqrstuvwxyz";
	_padding.resize(_o.size);
	for (std::size_t i = 0; i < _o.size; ++i)
		_padding[i] = pattern[i % 26];
	_readBuffer.resize(256 * 1024);

	if (_url.secure)
	{
		try
		{
			_tls = std::make_unique<TlsContext>(_o.insecure, _o.caFile);
		}
		catch (const std::exception& e)
		{
			throw RunError(e.what());
		}
	}

	_epoll = ::epoll_create1(EPOLL_CLOEXEC);
	if (_epoll < 0)
		throw RunError("epoll_create1: " + ClientSocket::errorText(errno));

	unsigned conns = _o.conns;
	if (_o.count > 0 && conns > _o.count)
		conns = static_cast<unsigned>(_o.count);
	std::random_device seeds;
	for (unsigned i = 0; i < conns; ++i)
	{
		std::uint64_t quota = _o.count / conns + (i < _o.count % conns ? 1 : 0);
		auto c = std::make_unique<Connection>(i, quota, _o.window, _o.maxMessageSize);
		c->masks.reseed((static_cast<std::uint64_t>(seeds()) << 32) ^ seeds());
		try
		{
			c->handshake = std::make_unique<ClientHandshake>(_url, _o);
			c->socket = ClientSocket::startConnect(_url.host, _url.port, _url.str());
			if (_tls)
				c->tls = std::make_unique<TlsTransport>(*_tls, c->socket.fd(), _url.host);
		}
		catch (const std::exception& e)
		{
			throw RunError(e.what());
		}
		epoll_event ev;
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		ev.data.u64 = i;
		if (::epoll_ctl(_epoll, EPOLL_CTL_ADD, c->socket.fd(), &ev) != 0)
			throw RunError("epoll_ctl: " + ClientSocket::errorText(errno));
		_conns.push_back(std::move(c));
	}
}

LoadSummary Runner::run(const std::function<void(const LoadProgress&)>& progress, unsigned progressIntervalMs)
{
	const std::int64_t interval = std::int64_t(std::max(1u, progressIntervalMs)) * 1000000;
	try
	{
		setUp();
		_now = nowNanos();
		const std::int64_t connectDeadline = _now + std::int64_t(_o.connectTimeoutMs) * 1000000;
		std::int64_t nextProgress = 0;
		std::int64_t nextTimeoutCheck = 0;
		std::int64_t closeDeadline = 0;
		epoll_event events[256];
		for (;;)
		{
			if (!_closing && _cancel.load(std::memory_order_relaxed))
			{
				_s.cancelled = true;
				break;
			}
			int waitMs = 50;
			if (!_exchanging && !_closing)
				waitMs = static_cast<int>(std::max<std::int64_t>(0, std::min<std::int64_t>(50, (connectDeadline - _now) / 1000000 + 1)));
			int n = ::epoll_wait(_epoll, events, 256, waitMs);
			if (n < 0 && errno != EINTR)
				throw RunError("epoll_wait: " + ClientSocket::errorText(errno));
			_now = nowNanos();
			for (int i = 0; i < n; ++i)
				onEvent(*_conns[events[i].data.u64], events[i].events);

			if (_closing)
			{
				bool all = true;
				for (auto& c : _conns)
					all = all && c->finished;
				if (all || _now >= closeDeadline)
					break;
				continue;
			}

			if (!_exchanging)
			{
				bool all = true;
				for (auto& c : _conns)
					all = all && c->open;
				if (all)
				{
					_exchanging = true;
					_start = _now;
					nextProgress = _now + interval;
					nextTimeoutCheck = _now;
				}
				else if (_now >= connectDeadline)
				{
					bool tcp = true;
					bool tls = true;
					for (auto& c : _conns)
						endRefusal(*c);  // a refusal whose body did not end in time: with what came of it
					for (auto& c : _conns)
					{
						tcp = tcp && c->tcpConnected;
						tls = tls && (!c->tls || c->tls->established());
					}
					const std::string ms = std::to_string(_o.connectTimeoutMs) + " ms";
					if (!tcp)
						throw RunError("cannot connect to " + _url.str() + ": timed out after " + ms);
					if (!tls)
						throw RunError("TLS handshake with " + _url.str() + " failed: no answer within " + ms);
					throw RunError("no handshake response from " + _url.str() + " within " + ms);
				}
			}
			if (_exchanging)
			{
				bool allDone = true;
				for (auto& c : _conns)
				{
					fill(*c);
					allDone = allDone && c->done();
				}
				if (allDone)
				{
					_s.elapsedSeconds = double(_now - _start) / 1e9;
					_exchanging = false;
					_closing = true;
					closeDeadline = _now + 1000000000;
					closeAll();
					continue;
				}
				if (_now >= nextTimeoutCheck)
				{
					checkTimeouts(_now);
					nextTimeoutCheck = _now + 50000000;
				}
				if (progress && _now >= nextProgress)
				{
					LoadProgress p;
					p.sent = _s.sent;
					p.received = _s.received;
					p.verified = _s.verified;
					p.mismatched = _s.mismatched;
					p.elapsedSeconds = double(_now - _start) / 1e9;
					p.recentRttMicros = _recentCount ? _recentSum / double(_recentCount) / 1000.0 : 0;
					_recentSum = 0;
					_recentCount = 0;
					progress(p);
					nextProgress = _now + interval;
				}
			}
		}
	}
	catch (const RunError& e)
	{
		_s.error = e.what();
	}
	catch (const std::exception& e)
	{
		_s.error = std::string("internal error: ") + e.what();
	}
	if (_start != 0 && _s.elapsedSeconds == 0)
		_s.elapsedSeconds = double(nowNanos() - _start) / 1e9;
	for (auto& c : _conns)
		c->socket.close();
	_s.missing = _s.sent - _s.received;
	_s.messagesPerSecond = _s.elapsedSeconds > 0 ? double(_s.received) / _s.elapsedSeconds : 0;
	_s.p50Micros = double(_latency.quantile(0.50)) / 1000.0;
	_s.p99Micros = double(_latency.quantile(0.99)) / 1000.0;
	_s.maxMicros = double(_latency.max()) / 1000.0;
	return _s;
}

void Runner::onEvent(Connection& c, std::uint32_t events)
{
	if (!c.socket.valid())
		return;
	if (!c.tcpConnected)
	{
		int err = c.socket.connectError();
		if (err != 0)
			throw RunError("cannot connect to " + _url.str() + ": " + ClientSocket::errorText(err));
		if (!(events & (EPOLLOUT | EPOLLIN)))
			return;
		c.tcpConnected = true;
		c.writable = true;
		if (c.tls)
		{
			stepTls(c);
			return;
		}
		c.out.clear();
		c.out.append(c.handshake->request());
		flush(c);
	}
	else if (c.tls)
	{
		onTlsEvent(c, events);
		return;
	}
	if (events & EPOLLOUT)
	{
		c.writable = true;
		flush(c);
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		readAll(c, events);
}

void Runner::readAll(Connection& c, std::uint32_t events)
{
	while (c.socket.valid())
	{
		ssize_t n = ::recv(c.socket.fd(), _readBuffer.data(), _readBuffer.size(), 0);
		if (n > 0)
		{
			_now = nowNanos();
			char* data = _readBuffer.data();
			std::size_t size = static_cast<std::size_t>(n);
			if (!c.open)
			{
				std::size_t consumed = 0;
				ClientHandshake::Result r = c.handshake->feed(data, size, consumed);
				if (r == ClientHandshake::Result::Failed)
					handshakeFailed(c);
				if (r == ClientHandshake::Result::NeedMore)
					continue;
				opened(c);
				data += consumed;
				size -= consumed;
			}
			if (size > 0)
				processFrames(c, data, size);
			// A short read drained the socket: anything arriving later raises a new edge. Only
			// an end of stream reported with this event needs one more recv to be seen.
			if (static_cast<std::size_t>(n) < _readBuffer.size() && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
				return;
			continue;
		}
		if (n == 0)
		{
			ended(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		readFailed(c, ClientSocket::errorText(errno));
		return;
	}
}

void Runner::onTlsEvent(Connection& c, std::uint32_t events)
{
	if (!c.tls->established())
	{
		stepTls(c);
		return;
	}
	const bool readable = events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
	const bool writable = events & EPOLLOUT;
	if (writable || (readable && c.writeWantsRead))
	{
		c.writable = true;
		flushTls(c);
	}
	if (readable || (writable && c.readWantsWrite))
		readAllTls(c);
}

void Runner::stepTls(Connection& c)
{
	// Edge-triggered: a step ends only when OpenSSL met EAGAIN, so the next edge brings it back.
	switch (c.tls->handshake())
	{
	case TlsStatus::Ok:
		c.out.clear();
		c.out.append(c.handshake->request());
		c.writable = true;
		flushTls(c);
		readAllTls(c);  // records may wait inside OpenSSL already: no edge would report them
		return;
	case TlsStatus::WantRead:
	case TlsStatus::WantWrite:
		return;
	case TlsStatus::Closed:
		throw RunError("TLS handshake with " + _url.str() + " failed: the server closed the connection");
	case TlsStatus::Failed:
		throw RunError("TLS handshake with " + _url.str() + " failed: " + c.tls->error());
	}
}

void Runner::readAllTls(Connection& c)
{
	// SSL_read returns at most one record: read until OpenSSL wants more from the socket.
	while (c.socket.valid())
	{
		std::size_t n = 0;
		switch (c.tls->read(_readBuffer.data(), _readBuffer.size(), n))
		{
		case TlsStatus::Ok:
			break;
		case TlsStatus::WantRead:
			c.readWantsWrite = false;
			return;
		case TlsStatus::WantWrite:
			c.readWantsWrite = true;
			return;
		case TlsStatus::Closed:
			ended(c);
			return;
		case TlsStatus::Failed:
			readFailed(c, "TLS: " + c.tls->error());
			return;
		}
		_now = nowNanos();
		char* data = _readBuffer.data();
		std::size_t size = n;
		if (!c.open)
		{
			std::size_t consumed = 0;
			ClientHandshake::Result r = c.handshake->feed(data, size, consumed);
			if (r == ClientHandshake::Result::Failed)
				handshakeFailed(c);
			if (r == ClientHandshake::Result::NeedMore)
				continue;
			opened(c);
			data += consumed;
			size -= consumed;
		}
		if (size > 0)
			processFrames(c, data, size);
	}
}

void Runner::flushTls(Connection& c)
{
	// A write that waited is retried with the same bytes first: `out` only grows at its end (it
	// may move: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER) until they were sent.
	while (c.writable && !c.out.empty() && c.socket.valid())
	{
		std::size_t n = 0;
		switch (c.tls->write(c.out.pending(), c.out.pendingSize(), n))
		{
		case TlsStatus::Ok:
			c.out.consume(n);
			continue;
		case TlsStatus::WantWrite:
			c.writable = false;
			c.writeWantsRead = false;
			return;
		case TlsStatus::WantRead:
			c.writable = false;
			c.writeWantsRead = true;
			return;
		case TlsStatus::Closed:
			writeFailed(c, "the server closed the TLS connection");
			return;
		case TlsStatus::Failed:
			writeFailed(c, "TLS: " + c.tls->error());
			return;
		}
	}
}

void Runner::opened(Connection& c)
{
	c.open = true;
	const HandshakeReply& reply = c.handshake->reply();
	if (_s.connections++ == 0)
	{
		_s.subprotocol = reply.subprotocol;
		_s.extensions = reply.extensions;
	}
	if (reply.deflate)
	{
		c.deflate = std::make_unique<ClientDeflate>(reply.deflateParams, _o.deflate);
		c.decoder.allowCompression(true);
		++_s.deflateConnections;
	}
	c.handshake.reset();
}

void Runner::handshakeFailed(Connection& c)
{
	const int status = c.handshake->reply().status;
	if (status != 0 && status != 101)
		_s.refusedStatus = status;
	throw RunError(c.handshake->error() + " (" + _url.str() + ")");
}

void Runner::endRefusal(Connection& c)
{
	if (!c.open && c.handshake && c.handshake->readingRefusal())
	{
		c.handshake->endOfResponse();
		handshakeFailed(c);
	}
}

void Runner::ended(Connection& c)
{
	if (_closing)
	{
		finish(c);
		return;
	}
	endRefusal(c);
	if (!c.open)
		throw RunError("handshake failed: " + _url.str() + " closed the connection before answering");
	throw RunError("server closed connection " + std::to_string(c.index) + " without a close frame after "
		+ std::to_string(c.nextExpect) + " replies");
}

void Runner::readFailed(Connection& c, const std::string& why)
{
	if (_closing)
	{
		finish(c);
		return;
	}
	endRefusal(c);
	if (!c.open)
		throw RunError("handshake failed: " + _url.str() + ": " + why);
	throw RunError("connection " + std::to_string(c.index) + " lost after " + std::to_string(c.nextExpect)
		+ " replies: " + why);
}

void Runner::writeFailed(Connection& c, const std::string& why)
{
	if (_closing)
	{
		finish(c);
		return;
	}
	throw RunError("connection " + std::to_string(c.index) + " lost after " + std::to_string(c.nextExpect)
		+ " replies: " + why);
}

void Runner::finish(Connection& c) noexcept
{
	if (c.tls)
		c.tls->shutdown();  // close_notify: the WebSocket close handshake is done, or the peer is gone
	c.finished = true;
	c.socket.close();
}

void Runner::closeAll()
{
	for (auto& c : _conns)
	{
		if (!c->socket.valid())
		{
			c->finished = true;
			continue;
		}
		std::uint8_t key[4];
		_scratch.clear();
		codec::FrameEncoder::appendClose(_scratch, codec::CloseCode::Normal, {}, c->masks.next(key));
		c->out.append(_scratch);
		c->closeSent = true;
		flush(*c);
	}
}

void Runner::checkTimeouts(std::int64_t now)
{
	const std::int64_t limit = std::int64_t(_o.replyTimeoutMs) * 1000000;
	for (auto& c : _conns)
	{
		if (c->inFlight() > 0 && now - c->lastActivity > limit)
			throw RunError("no reply on connection " + std::to_string(c->index) + " for " + std::to_string(_o.replyTimeoutMs)
				+ " ms (" + std::to_string(c->inFlight()) + " in flight, after " + std::to_string(c->nextExpect) + " replies)");
	}
}

} // namespace load

using load::Runner;

LoadRun::LoadRun(LoadOptions options) : _options(std::move(options))
{
}

LoadSummary LoadRun::run(const std::function<void(const LoadProgress&)>& progress, unsigned progressIntervalMs)
{
	Runner runner(_options, _cancel);
	return runner.run(progress, progressIntervalMs);
}

} // namespace client
} // namespace parley

