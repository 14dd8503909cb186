//
// LoadRun.cpp — one non-blocking epoll loop on the calling thread drives every connection:
// replies are read and verified, freed window slots are refilled, and everything one turn
// produced for a connection leaves in one send(). Over wss:// the same loop drives OpenSSL
// (ClientTls): a plain connection pays one predictable branch for that, in onEvent and flush.
//
#include "parley/client/LoadRun.h"
#include "ClientDeflate.h"
#include "ClientHandshake.h"
#include "ClientSocket.h"
#include "ClientTls.h"
#include "LatencyHistogram.h"
#include "MaskGenerator.h"
#include "MessageId.h"
#include "OutputBuffer.h"
#include "parley/client/Url.h"
#include "parley/codec/FrameDecoder.h"
#include "parley/codec/FrameEncoder.h"
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley {
namespace client {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t nowNanos() noexcept
{
	return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

/// Stops the run: what() is the summary's error line.
class RunError : public std::runtime_error
{
public:
	using std::runtime_error::runtime_error;
};

/// Shows a payload for an error line: printable ASCII as is, the rest escaped, cut at 80 bytes.
std::string show(std::string_view data)
{
	static const char hex[] = "0123456789abcdef";
	std::string out = "'";
	std::size_t limit = std::min<std::size_t>(data.size(), 80);
	for (std::size_t i = 0; i < limit; ++i)
	{
		unsigned char c = static_cast<unsigned char>(data[i]);
		if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'')
			out += static_cast<char>(c);
		else
		{
			out += "\\x";
			out += hex[c >> 4];
			out += hex[c & 0xF];
		}
	}
	out += "'";
	if (data.size() > limit)
		out += "... (" + std::to_string(data.size()) + " bytes)";
	return out;
}

/// Masks a payload in place (mask offset 0), eight bytes at a time.
inline void maskPayload(char* data, std::size_t size, const std::uint8_t* key) noexcept
{
	std::uint32_t k32;
	std::memcpy(&k32, key, 4);
	const std::uint64_t k64 = (std::uint64_t(k32) << 32) | k32;
	std::size_t i = 0;
	for (; i + 8 <= size; i += 8)
	{
		std::uint64_t v;
		std::memcpy(&v, data + i, 8);
		v ^= k64;
		std::memcpy(data + i, &v, 8);
	}
	for (; i < size; ++i)
		data[i] = static_cast<char>(data[i] ^ key[i & 3]);
}

/// Compares short byte strings without a library call.
inline bool sameBytes(const char* a, const char* b, std::size_t n) noexcept
{
	if (n > 32)
		return std::memcmp(a, b, n) == 0;
	for (std::size_t i = 0; i < n; ++i)
		if (a[i] != b[i])
			return false;
	return true;
}

struct Connection
{
	Connection(unsigned i, std::uint64_t q, unsigned window, std::uint64_t maxMessageSize) :
		index(i), quota(q), decoder(codec::Role::Client, maxMessageSize), sentAt(window, 0), sendId(i), expectId(i)
	{
	}

	unsigned index;
	std::uint64_t quota;       // messages this connection sends
	ClientSocket socket;
	bool tcpConnected = false;
	bool open = false;         // handshake done
	bool writable = false;     // last send did not hit EAGAIN (edge-triggered epoll)
	bool closeSent = false;
	bool finished = false;     // close handshake done or connection gone (closing phase)
	std::unique_ptr<ClientHandshake> handshake;
	std::unique_ptr<TlsTransport> tls;  // wss:// only
	bool readWantsWrite = false;        // TLS: a read waits for the socket to be writable
	bool writeWantsRead = false;        // TLS: a write waits for the socket to be readable
	codec::FrameDecoder decoder;
	std::unique_ptr<ClientDeflate> deflate;  // permessage-deflate, when negotiated
	MaskGenerator masks;
	OutputBuffer out;
	std::uint64_t nextSend = 0;     // sequence number of the next message to send
	std::uint64_t nextExpect = 0;   // sequence number the next reply answers
	std::vector<std::int64_t> sentAt;  // send time by seq % window
	MessageId sendId;               // "<index>:<nextSend>"
	MessageId expectId;             // "<index>:<nextExpect>"
	std::int64_t lastActivity = 0;  // last reply, or first send into an empty window

	std::uint64_t inFlight() const noexcept { return nextSend - nextExpect; }
	bool done() const noexcept { return nextExpect >= quota; }
};

class Runner
{
public:
	Runner(const LoadOptions& options, std::atomic<bool>& cancel) : _o(options), _cancel(cancel) {}
	~Runner()
	{
		if (_epoll >= 0)
			::close(_epoll);
	}

	LoadSummary run(const std::function<void(const LoadProgress&)>& progress, unsigned progressIntervalMs);

private:
	void setUp();
	void onEvent(Connection& c, std::uint32_t events);
	void readAll(Connection& c, std::uint32_t events);
	void onTlsEvent(Connection& c, std::uint32_t events);
	void stepTls(Connection& c);
	void readAllTls(Connection& c);
	void flushTls(Connection& c);
	void ended(Connection& c);
	void opened(Connection& c);
	[[noreturn]] void handshakeFailed(Connection& c);
	void endRefusal(Connection& c);
	void readFailed(Connection& c, const std::string& why);
	void writeFailed(Connection& c, const std::string& why);
	void finish(Connection& c) noexcept;
	void processFrames(Connection& c, char* data, std::size_t size);
	[[noreturn]] void protocolError(Connection& c, std::uint16_t code, const std::string& what);
	void onReply(Connection& c, codec::FrameDecoder::EventType type, std::string_view payload);
	void mismatch(Connection& c, std::uint64_t seq, const std::string& what);
	void fill(Connection& c);
	void fillCompressed(Connection& c, std::uint64_t k);
	void flush(Connection& c);
	void closeAll();
	std::size_t messageId(char* dst, unsigned conn, std::uint64_t seq) const noexcept;
	std::string expectedText(unsigned conn, std::uint64_t seq) const;
	void checkTimeouts(std::int64_t now);

	const LoadOptions& _o;
	std::atomic<bool>& _cancel;
	Url _url;
	std::unique_ptr<TlsContext> _tls;  // wss:// only
	int _epoll = -1;
	std::vector<std::unique_ptr<Connection>> _conns;
	std::vector<char> _readBuffer;
	std::string _padding;       // the filler after "<conn>:<seq>" up to `size`
	std::string _scratch;       // for pongs and close frames
	std::string _plain;         // deflate: a message before compression
	std::string _inflated;      // deflate: a reply after inflating
	codec::Opcode _opcode = codec::Opcode::Text;
	bool _exchanging = false;
	bool _closing = false;
	std::int64_t _now = 0;
	std::int64_t _start = 0;
	LoadSummary _s;
	LatencyHistogram _latency;
	double _recentSum = 0;
	std::uint64_t _recentCount = 0;
};

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

void Runner::processFrames(Connection& c, char* data, std::size_t size)
{
	using codec::FrameDecoder;
	FrameDecoder::Event event;
	for (;;)
	{
		std::size_t used = c.decoder.decode(data, size, event);
		data += used;
		size -= used;
		switch (event.type)
		{
		case FrameDecoder::EventType::NeedMore:
			if (!c.out.empty())
				flush(c);
			return;
		case FrameDecoder::EventType::Text:
		case FrameDecoder::EventType::Binary:
			_s.wireBytesReceived += event.payload.size();
			if (event.compressed)
			{
				std::string why = "a compressed message without permessage-deflate";
				const std::uint16_t code = c.deflate
					? c.deflate->inflate(event.payload, event.type == FrameDecoder::EventType::Text, _o.maxMessageSize,
						_inflated, why)
					: codec::CloseCode::ProtocolError;
				if (code != 0)
				{
					if (_closing)
					{
						finish(c);
						return;
					}
					protocolError(c, code, why);
				}
				_s.payloadBytesReceived += _inflated.size();
				onReply(c, event.type, _inflated);
				break;
			}
			_s.payloadBytesReceived += event.payload.size();
			onReply(c, event.type, event.payload);
			break;
		case FrameDecoder::EventType::Ping:
		{
			std::uint8_t key[4];
			_scratch.clear();
			codec::FrameEncoder::appendFrame(_scratch, codec::Opcode::Pong, event.payload, true, c.masks.next(key));
			c.out.append(_scratch);
			break;
		}
		case FrameDecoder::EventType::Pong:
			break;
		case FrameDecoder::EventType::Close:
		{
			if (_closing)
			{
				finish(c);
				return;
			}
			std::string what = "server closed connection " + std::to_string(c.index) + " with "
				+ std::to_string(event.closeCode);
			if (!event.payload.empty())
				what += " (" + std::string(event.payload) + ")";
			what += " after " + std::to_string(c.nextExpect) + " replies";
			throw RunError(what);
		}
		case FrameDecoder::EventType::Error:
			if (_closing)
			{
				finish(c);
				return;
			}
			protocolError(c, event.closeCode, event.error);
		}
	}
}

void Runner::protocolError(Connection& c, std::uint16_t code, const std::string& what)
{
	// Fail the connection (RFC 6455 §7.1.7): a close frame with the code goes first, if it can.
	std::uint8_t key[4];
	_scratch.clear();
	codec::FrameEncoder::appendClose(_scratch, code, what, c.masks.next(key));
	c.out.append(_scratch);
	try
	{
		flush(c);
	}
	catch (const RunError&)
	{
		// The connection is gone as well: the protocol error is what the run reports.
	}
	throw RunError("protocol error from the server on connection " + std::to_string(c.index) + ": " + what
		+ " (close code " + std::to_string(code) + ") after " + std::to_string(c.nextExpect) + " replies");
}

void Runner::onReply(Connection& c, codec::FrameDecoder::EventType type, std::string_view payload)
{
	if (_closing)
		return;
	if (c.nextExpect >= c.nextSend)
	{
		// A reply to nothing: wrong, but it must not hide a missing reply, so it is not "received".
		++_s.mismatched;
		if (_s.firstMismatch.empty())
			_s.firstMismatch = "connection " + std::to_string(c.index) + ": unexpected reply " + show(payload)
				+ " with no message in flight";
		return;
	}
	++_s.received;
	const std::uint64_t seq = c.nextExpect++;
	const std::int64_t latency = _now - c.sentAt[seq % c.sentAt.size()];
	_latency.record(latency);
	_recentSum += double(latency);
	++_recentCount;
	c.lastActivity = _now;

	const std::size_t idLength = c.expectId.size();
	const std::size_t length = std::max(idLength, _o.size);
	const bool prefixOk = payload.size() >= length && sameBytes(payload.data(), c.expectId.data(), idLength)
		&& (length == idLength || std::memcmp(payload.data() + idLength, _padding.data(), length - idLength) == 0);
	c.expectId.increment();

	const bool wantBinary = _o.binary;
	const bool isBinary = type == codec::FrameDecoder::EventType::Binary;
	if (wantBinary != isBinary)
	{
		mismatch(c, seq, std::string("expected a ") + (wantBinary ? "binary" : "text") + " reply, got "
			+ (isBinary ? "binary " : "text ") + show(payload));
		return;
	}
	bool ok = prefixOk;
	if (ok)
	{
		switch (_o.expect)
		{
		case Expect::Prefix:
			break;
		case Expect::Echo:
			ok = payload.size() == length;
			break;
		case Expect::RandomSuffix:
		{
			const std::string& sep = _o.separator;
			std::string_view rest = payload.substr(length);
			ok = rest.size() > sep.size() && rest.compare(0, sep.size(), sep) == 0;
			if (ok)
			{
				rest.remove_prefix(sep.size());
				std::int64_t value = 0;
				auto r = std::from_chars(rest.data(), rest.data() + rest.size(), value);
				ok = r.ec == std::errc() && r.ptr == rest.data() + rest.size() && value >= _o.min && value <= _o.max;
			}
			break;
		}
		}
	}
	if (ok)
	{
		++_s.verified;
		return;
	}
	std::string expected = show(expectedText(c.index, seq));
	switch (_o.expect)
	{
	case Expect::Prefix:
		expected = "a reply starting with " + expected;
		break;
	case Expect::Echo:
		break;
	case Expect::RandomSuffix:
		expected += " + " + show(_o.separator) + " + an integer in [" + std::to_string(_o.min) + ", "
			+ std::to_string(_o.max) + "]";
		break;
	}
	mismatch(c, seq, "expected " + expected + ", got " + show(payload));
}

void Runner::mismatch(Connection& c, std::uint64_t seq, const std::string& what)
{
	++_s.mismatched;
	if (_s.firstMismatch.empty())
		_s.firstMismatch = "connection " + std::to_string(c.index) + " message " + std::to_string(seq) + ": " + what;
}

void Runner::fill(Connection& c)
{
	if (!c.open || !c.socket.valid())
		return;
	if (c.nextSend < c.quota && c.inFlight() < _o.window)
	{
		if (c.inFlight() == 0)
			c.lastActivity = _now;
		const std::uint64_t k = std::min<std::uint64_t>(c.quota - c.nextSend, _o.window - c.inFlight());
		_s.sent += k;
		if (c.deflate)
		{
			fillCompressed(c, k);
			if (c.writable && !c.out.empty())
				flush(c);
			return;
		}
		const std::size_t longest = std::max(MessageId::MaxSize, _o.size);
		// + Copy: the id is copied as a fixed-size block (no library call), which may write past
		// the last frame's end.
		char* const begin = c.out.reserve(static_cast<std::size_t>(k) * (codec::FrameEncoder::MaxHeaderSize + longest)
			+ MessageId::Copy);
		char* p = begin;
		const std::size_t window = c.sentAt.size();
		std::uint64_t bytes = 0;
		for (std::uint64_t i = 0; i < k; ++i)
		{
			const std::size_t idLength = c.sendId.size();
			const std::size_t length = std::max(idLength, _o.size);
			bytes += length;
			std::uint8_t key[4];
			c.masks.next(key);
			std::size_t header;
			if (length < 126)
			{
				p[0] = static_cast<char>(0x80u | static_cast<unsigned>(_opcode));
				p[1] = static_cast<char>(0x80u | length);
				std::memcpy(p + 2, key, 4);
				header = 6;
			}
			else
				header = codec::FrameEncoder::writeHeader(p, _opcode, true, length, key);
			char* payload = p + header;
			std::memcpy(payload, c.sendId.data(), MessageId::Copy);
			if (length > idLength)
				std::memcpy(payload + idLength, _padding.data(), length - idLength);
			maskPayload(payload, length, key);
			p = payload + length;
			c.sentAt[c.nextSend % window] = _now;
			++c.nextSend;
			c.sendId.increment();
		}
		c.out.commit(static_cast<std::size_t>(p - begin));
		_s.payloadBytesSent += bytes;
		_s.wireBytesSent += bytes;
	}
	if (c.writable && !c.out.empty())
		flush(c);
}

void Runner::fillCompressed(Connection& c, std::uint64_t k)
{
	const std::size_t window = c.sentAt.size();
	for (std::uint64_t i = 0; i < k; ++i)
	{
		const std::size_t idLength = c.sendId.size();
		const std::size_t length = std::max(idLength, _o.size);
		_plain.assign(c.sendId.data(), idLength);
		if (length > idLength)
			_plain.append(_padding, 0, length - idLength);
		std::uint8_t key[4];
		bool compressed = false;
		_scratch.clear();
		_s.wireBytesSent += c.deflate->appendFrame(_scratch, _opcode, _plain, c.masks.next(key), compressed);
		c.out.append(_scratch);
		c.sentAt[c.nextSend % window] = _now;
		++c.nextSend;
		c.sendId.increment();
		_s.payloadBytesSent += length;
	}
}

void Runner::flush(Connection& c)
{
	if (c.tls)
	{
		flushTls(c);
		return;
	}
	while (c.writable && !c.out.empty())
	{
		ssize_t n = ::send(c.socket.fd(), c.out.pending(), c.out.pendingSize(), MSG_NOSIGNAL);
		if (n > 0)
		{
			c.out.consume(static_cast<std::size_t>(n));
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		{
			c.writable = false;
			break;
		}
		writeFailed(c, ClientSocket::errorText(n < 0 ? errno : EPIPE));
		return;
	}
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

} // namespace

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
