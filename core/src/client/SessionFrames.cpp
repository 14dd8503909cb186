//
// SessionFrames.cpp — Session::Impl once the connection is open: bytes read and written (plain
// or TLS), frames decoded and answered (pings, closes), data messages inflated and reported,
// frames queued and flushed, and the ways a session ends.
//
#include "SessionImpl.h"

namespace parley {
namespace client {

void Session::Impl::readAvailable()
{
	std::string error;
	while (socket.valid())
	{
		std::size_t got = 0;
		switch (receive(got, error))
		{
		case Io::Data:
			processBytes(readBuffer.data(), got);
			continue;
		case Io::Blocked:
			return;
		case Io::End:
			if (endRefusal())
				return;
			if (state.load() == SessionState::Connecting)
				fail("handshake failed: the server closed the connection before answering");
			else
				lost(std::string("connection lost: the server closed the ") + (tls ? "TLS" : "TCP")
					+ " connection without a close frame");
			return;
		case Io::Error:
			if (endRefusal())
				return;
			if (state.load() == SessionState::Connecting)
				fail("handshake failed: " + error);
			else
				lost("connection lost: " + error);
			return;
		}
	}
}

Session::Impl::Io Session::Impl::receive(std::size_t& got, std::string& error)
{
	if (tls)
	{
		switch (tls->read(readBuffer.data(), readBuffer.size(), got))
		{
		case TlsStatus::Ok:
			return Io::Data;
		case TlsStatus::WantRead:
			readWantsWrite = false;
			return Io::Blocked;
		case TlsStatus::WantWrite:
			readWantsWrite = true;
			return Io::Blocked;
		case TlsStatus::Closed:
			return Io::End;
		case TlsStatus::Failed:
			break;
		}
		error = "TLS: " + tls->error();
		return Io::Error;
	}
	for (;;)
	{
		ssize_t n = ::recv(socket.fd(), readBuffer.data(), readBuffer.size(), 0);
		if (n > 0)
		{
			got = static_cast<std::size_t>(n);
			return Io::Data;
		}
		if (n == 0)
			return Io::End;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return Io::Blocked;
		error = ClientSocket::errorText(errno);
		return Io::Error;
	}
}

Session::Impl::Io Session::Impl::transmit(const char* data, std::size_t size, std::size_t& put, std::string& error)
{
	if (tls)
	{
		switch (tls->write(data, size, put))
		{
		case TlsStatus::Ok:
			writeWantsRead = false;
			return Io::Data;
		case TlsStatus::WantWrite:
			writeWantsRead = false;
			return Io::Blocked;
		case TlsStatus::WantRead:
			writeWantsRead = true;
			return Io::Blocked;
		case TlsStatus::Closed:
			error = "the server closed the TLS connection";
			return Io::Error;
		case TlsStatus::Failed:
			break;
		}
		error = "TLS: " + tls->error();
		return Io::Error;
	}
	for (;;)
	{
		ssize_t n = ::send(socket.fd(), data, size, MSG_NOSIGNAL);
		if (n > 0)
		{
			put = static_cast<std::size_t>(n);
			return Io::Data;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return Io::Blocked;
		error = ClientSocket::errorText(n < 0 ? errno : EPIPE);
		return Io::Error;
	}
}

void Session::Impl::processBytes(char* data, std::size_t size)
{
	if (state.load() == SessionState::Connecting)
	{
		std::size_t consumed = 0;
		ClientHandshake::Result result = handshake->feed(data, size, consumed);
		if (result == ClientHandshake::Result::NeedMore)
			return;
		if (result == ClientHandshake::Result::Failed)
		{
			failHandshake();
			return;
		}
		hasDeadline = false;
		{
			std::lock_guard<std::mutex> lock(selectedMutex);
			selected = handshake->protocol();
		}
		const HandshakeReply& reply = handshake->reply();
		if (reply.deflate)
		{
			deflate = std::make_unique<ClientDeflate>(reply.deflateParams, options.deflate);
			decoder.allowCompression(true);
		}
		listener.onHandshake(reply);
		setState(SessionState::Open);
		std::deque<Command> queued;
		queued.swap(pending);
		for (Command& command : queued)
		{
			if (command.type == Command::Type::Ping)
				sendPing(command.payload);
			else
				sendData(command.type == Command::Type::Text ? FrameKind::Text : FrameKind::Binary, command.payload);
		}
		flush();
		data += consumed;
		size -= consumed;
		if (size == 0)
			return;
	}
	processFrames(data, size);
}

void Session::Impl::processFrames(char* data, std::size_t size)
{
	using codec::FrameDecoder;
	FrameDecoder::Event event;
	while (socket.valid())
	{
		std::size_t used = decoder.decode(data, size, event);
		data += used;
		size -= used;
		switch (event.type)
		{
		case FrameDecoder::EventType::NeedMore:
			flush();
			return;
		case FrameDecoder::EventType::Text:
		case FrameDecoder::EventType::Binary:
			if (!receiveData(event))
				return;
			break;
		case FrameDecoder::EventType::Ping:
			report(Direction::Received, FrameKind::Ping, event.payload);
			if (state.load() == SessionState::Open)
			{
				appendFrame(codec::Opcode::Pong, event.payload);
				report(Direction::Sent, FrameKind::Pong, event.payload);
			}
			break;
		case FrameDecoder::EventType::Pong:
		{
			report(Direction::Received, FrameKind::Pong, event.payload);
			for (auto it = pings.begin(); it != pings.end(); ++it)
			{
				if (it->first == event.payload)
				{
					auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - it->second);
					pings.erase(it);
					listener.onPingRtt(rtt);
					break;
				}
			}
			break;
		}
		case FrameDecoder::EventType::Close:
		{
			std::string reason(event.payload);
			std::uint16_t code = event.closeCode;
			report(Direction::Received, FrameKind::Close, reason, code);
			if (state.load() == SessionState::Open)
			{
				answerPosted();
				// Answer with the peer's code (an empty close is answered with an empty close).
				sendClose(code, {});
				flush();
			}
			finish(code, reason);
			return;
		}
		case FrameDecoder::EventType::Error:
			failProtocol(event.closeCode, event.error);
			return;
		}
	}
}

bool Session::Impl::receiveData(const codec::FrameDecoder::Event& event)
{
	const FrameKind kind = event.type == codec::FrameDecoder::EventType::Text ? FrameKind::Text : FrameKind::Binary;
	if (!event.compressed)
	{
		report(Direction::Received, kind, event.payload);
		return true;
	}
	std::string why = "a compressed message without permessage-deflate";
	const std::uint16_t code = deflate
		? deflate->inflate(event.payload, kind == FrameKind::Text, options.maxMessageSize, inflated, why)
		: codec::CloseCode::ProtocolError;
	if (code != 0)
	{
		failProtocol(code, why);
		return false;
	}
	report(Direction::Received, kind, inflated, 0, true, event.payload.size());
	return true;
}

void Session::Impl::failProtocol(std::uint16_t code, const std::string& what)
{
	listener.onError("protocol error from the server: " + what + " (closing with " + std::to_string(code) + ")");
	if (state.load() == SessionState::Open)
	{
		answerPosted();
		sendClose(code, what);
		flush();
	}
	finish(code, what);
}

void Session::Impl::answerPosted()
{
	// The application answered messages of this read from its callbacks (their sends are
	// queued as commands): they leave before the close frame. Only the sends at the front of the
	// queue, so that nothing overtakes a close or a disconnect the application asked for.
	std::deque<Command> sends;
	{
		std::lock_guard<std::mutex> lock(mutex);
		while (!commands.empty() && (commands.front().type == Command::Type::Text ||
			commands.front().type == Command::Type::Binary || commands.front().type == Command::Type::Ping))
		{
			sends.push_back(std::move(commands.front()));
			commands.pop_front();
		}
	}
	for (Command& c : sends)
	{
		if (c.type == Command::Type::Ping)
			sendPing(c.payload);
		else
			sendData(c.type == Command::Type::Text ? FrameKind::Text : FrameKind::Binary, c.payload);
	}
}

void Session::Impl::sendData(FrameKind kind, std::string& payload)
{
	const codec::Opcode opcode = kind == FrameKind::Text ? codec::Opcode::Text : codec::Opcode::Binary;
	if (deflate)
	{
		std::uint8_t key[4];
		bool compressed = false;
		const std::size_t wire = deflate->appendFrame(out, opcode, payload, masks.next(key), compressed);
		report(Direction::Sent, kind, payload, 0, compressed, wire);
		return;
	}
	appendFrame(opcode, payload);
	report(Direction::Sent, kind, payload);
}

void Session::Impl::sendPing(std::string& payload)
{
	if (payload.size() > 125)
	{
		listener.onError("not sent: a ping payload is at most 125 bytes");
		return;
	}
	appendFrame(codec::Opcode::Ping, payload);
	pings.emplace_back(payload, Clock::now());
	if (pings.size() > 1000)
		pings.pop_front();
	report(Direction::Sent, FrameKind::Ping, payload);
}

void Session::Impl::sendClose(std::uint16_t code, const std::string& reason)
{
	std::uint8_t key[4];
	std::size_t before = out.size();
	codec::FrameEncoder::appendClose(out, code, reason, masks.next(key));
	// Report what was really sent (the reason may have been cut to fit): a close payload is at
	// most 125 bytes, so the masked header is 6 bytes.
	std::string payload = out.substr(before + 6);
	codec::FrameEncoder::applyMask(&payload[0], payload.size(), key);
	report(Direction::Sent, FrameKind::Close, payload.size() > 2 ? payload.substr(2) : std::string(), code);
}

void Session::Impl::appendFrame(codec::Opcode opcode, std::string_view payload)
{
	std::uint8_t key[4];
	codec::FrameEncoder::appendFrame(out, opcode, payload, true, masks.next(key));
}

bool Session::Impl::flush()
{
	while (socket.valid() && outOffset < out.size())
	{
		// A TLS write that waited is retried with the same bytes first: `out` only grows at
		// its end until everything in it was sent.
		std::size_t put = 0;
		std::string error;
		const Io io = transmit(out.data() + outOffset, out.size() - outOffset, put, error);
		if (io == Io::Data)
		{
			outOffset += put;
			continue;
		}
		if (io == Io::Blocked)
			return true;
		if (state.load() == SessionState::Connecting)
			fail("handshake failed: " + error);
		else
			lost("connection lost: " + error);
		return false;
	}
	if (outOffset == out.size())
	{
		out.clear();
		outOffset = 0;
	}
	return true;
}

void Session::Impl::fail(std::string message)
{
	drop();
	listener.onError(message);
	setState(SessionState::Closed, codec::CloseCode::Abnormal, message);
}

void Session::Impl::failHandshake()
{
	const HandshakeReply& reply = handshake->reply();
	if (reply.status != 0 && reply.status != 101)
		listener.onHandshake(reply);
	fail(handshake->error());
}

bool Session::Impl::endRefusal()
{
	if (!handshake || !handshake->readingRefusal())
		return false;
	handshake->endOfResponse();
	failHandshake();
	return true;
}

void Session::Impl::lost(std::string reason)
{
	drop();
	setState(SessionState::Closed, codec::CloseCode::Abnormal, reason);
}

void Session::Impl::finish(std::uint16_t code, const std::string& reason)
{
	if (tls)
		tls->shutdown();  // the close handshake is done: say so to TLS too (close_notify)
	drop();
	setState(SessionState::Closed, code, reason);
}

void Session::Impl::drop() noexcept
{
	tls.reset();  // before the socket: it writes to its descriptor
	tlsContext.reset();
	tlsWantsWrite = readWantsWrite = writeWantsRead = false;
	socket.close();
	tcpConnected = false;
	hasDeadline = false;
	out.clear();
	outOffset = 0;
	pending.clear();
	handshake.reset();
	deflate.reset();  // its zlib memory with it
}

void Session::Impl::setState(SessionState s, std::uint16_t code, const std::string& reason)
{
	state.store(s);
	if (!quitting)
		listener.onStateChanged(s, code, reason);
}

void Session::Impl::report(Direction direction, FrameKind kind, std::string_view payload, std::uint16_t code,
	bool compressed, std::uint64_t wireSize)
{
	FrameRecord record;
	record.time = std::chrono::system_clock::now();
	record.direction = direction;
	record.kind = kind;
	record.payload.assign(payload.data(), payload.size());
	record.closeCode = code;
	record.compressed = compressed;
	if (wireSize != NoWireSize)
		record.wireSize = wireSize;
	else if (kind == FrameKind::Close)
		record.wireSize = code != 0 && code != codec::CloseCode::NoStatus ? 2 + payload.size() : 0;
	else
		record.wireSize = payload.size();
	listener.onFrame(record);
}

} // namespace client
} // namespace parley
