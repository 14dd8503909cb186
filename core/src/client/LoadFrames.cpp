//
// LoadFrames.cpp — the load runner's per-message path: frames read from a connection, each reply
// checked against the message it answers (order, bytes, latency), the freed window refilled, and
// a connection's output written in one send().
//
#include "LoadRunner.h"

namespace parley {
namespace client {
namespace load {

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

} // namespace load
} // namespace client
} // namespace parley
