//
// Session.cpp
//
#include "parley/client/Session.h"
#include "ClientDeflate.h"
#include "ClientHandshake.h"
#include "ClientSocket.h"
#include "ClientTls.h"
#include "MaskGenerator.h"
#include "parley/client/Url.h"
#include "parley/codec/FrameDecoder.h"
#include "parley/codec/FrameEncoder.h"
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <poll.h>
#include <random>
#include <stdexcept>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace parley {
namespace client {

const char* toString(FrameKind kind)
{
	switch (kind)
	{
	case FrameKind::Text: return "text";
	case FrameKind::Binary: return "binary";
	case FrameKind::Ping: return "ping";
	case FrameKind::Pong: return "pong";
	case FrameKind::Close: return "close";
	}
	return "?";
}

const char* toString(SessionState state)
{
	switch (state)
	{
	case SessionState::Idle: return "idle";
	case SessionState::Connecting: return "connecting";
	case SessionState::Open: return "open";
	case SessionState::Closing: return "closing";
	case SessionState::Closed: return "closed";
	}
	return "?";
}

namespace {

using Clock = std::chrono::steady_clock;

struct Command
{
	enum class Type : std::uint8_t { Connect, Text, Binary, Ping, Close, Disconnect, Quit };
	Type type = Type::Quit;
	std::string payload;
	std::uint16_t code = 0;
	ConnectOptions connect;
};

} // namespace

struct Session::Impl
{
	explicit Impl(SessionListener& l);
	~Impl();

	void post(Command command);
	void run();

	// Everything below runs on the network thread only.
	void handle(Command& command);
	void startConnect(const ConnectOptions& options);
	void onSocketReady(short revents);
	void onConnected();
	void stepTls();
	short socketEvents() const;
	void readAvailable();
	void processBytes(char* data, std::size_t size);
	void processFrames(char* data, std::size_t size);
	bool receiveData(const codec::FrameDecoder::Event& event);
	void failProtocol(std::uint16_t code, const std::string& what);
	void sendData(FrameKind kind, std::string& payload);
	void sendPing(std::string& payload);
	void sendClose(std::uint16_t code, const std::string& reason);
	void answerPosted();
	void appendFrame(codec::Opcode opcode, std::string_view payload);
	bool flush();
	enum class Io : std::uint8_t { Data, Blocked, End, Error };
	Io receive(std::size_t& got, std::string& error);
	Io transmit(const char* data, std::size_t size, std::size_t& put, std::string& error);
	void fail(std::string message);  // by value: it may refer to state that drop() frees
	void failHandshake();
	bool endRefusal();
	void lost(std::string reason);
	void finish(std::uint16_t code, const std::string& reason);
	void drop() noexcept;
	void setState(SessionState state, std::uint16_t code = 0, const std::string& reason = {});
	/// wireSize: payload bytes on the wire (npos: as the payload, or a close frame's 2 + reason).
	void report(Direction direction, FrameKind kind, std::string_view payload, std::uint16_t code = 0,
		bool compressed = false, std::uint64_t wireSize = NoWireSize);
	static constexpr std::uint64_t NoWireSize = ~std::uint64_t(0);
	int pollTimeout() const;

	SessionListener& listener;
	std::atomic<SessionState> state{SessionState::Idle};
	mutable std::mutex selectedMutex;
	std::string selected;  // the subprotocol of the current (or last) connection
	int wakeFd = -1;
	std::mutex mutex;
	std::deque<Command> commands;
	std::thread thread;

	bool quitting = false;
	ConnectOptions options;
	Url url;
	ClientSocket socket;
	bool tcpConnected = false;
	std::unique_ptr<TlsContext> tlsContext;  // wss:// only
	std::unique_ptr<TlsTransport> tls;       // wss:// only
	bool tlsWantsWrite = false;   // the TLS handshake waits for the socket to be writable
	bool readWantsWrite = false;  // a TLS read waits for the socket to be writable
	bool writeWantsRead = false;  // a TLS write waits for the socket to be readable
	std::unique_ptr<ClientHandshake> handshake;
	codec::FrameDecoder decoder{codec::Role::Client};
	std::unique_ptr<ClientDeflate> deflate;  // permessage-deflate, once negotiated
	std::string inflated;                    // an incoming message, inflated
	MaskGenerator masks;
	std::string out;
	std::size_t outOffset = 0;
	std::deque<Command> pending;  // data sent while connecting
	std::deque<std::pair<std::string, Clock::time_point>> pings;
	bool hasDeadline = false;
	Clock::time_point deadline;
	std::vector<char> readBuffer = std::vector<char>(64 * 1024);
	std::random_device seeds;
};

Session::Impl::Impl(SessionListener& l) : listener(l)
{
	wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wakeFd < 0)
		throw std::system_error(errno, std::generic_category(), "eventfd");
	thread = std::thread([this] { run(); });
}

Session::Impl::~Impl()
{
	Command quit;
	quit.type = Command::Type::Quit;
	post(std::move(quit));
	if (thread.joinable())
		thread.join();
	::close(wakeFd);
}

void Session::Impl::post(Command command)
{
	{
		std::lock_guard<std::mutex> lock(mutex);
		commands.push_back(std::move(command));
	}
	std::uint64_t one = 1;
	ssize_t rc = ::write(wakeFd, &one, sizeof(one));
	(void)rc;
}

void Session::Impl::run()
{
	std::deque<Command> batch;
	while (!quitting)
	{
		pollfd fds[2];
		fds[0].fd = wakeFd;
		fds[0].events = POLLIN;
		fds[0].revents = 0;
		nfds_t n = 1;
		if (socket.valid())
		{
			fds[1].fd = socket.fd();
			fds[1].events = socketEvents();
			fds[1].revents = 0;
			n = 2;
		}
		int rc = ::poll(fds, n, pollTimeout());
		if (rc < 0 && errno != EINTR)
			break;

		if (n == 2 && rc > 0 && fds[1].revents)
			onSocketReady(fds[1].revents);

		if (rc > 0 && (fds[0].revents & POLLIN))
		{
			std::uint64_t value;
			ssize_t r = ::read(wakeFd, &value, sizeof(value));
			(void)r;
		}
		{
			std::lock_guard<std::mutex> lock(mutex);
			batch.swap(commands);
		}
		while (!batch.empty() && !quitting)
		{
			handle(batch.front());
			batch.pop_front();
		}
		batch.clear();

		if (hasDeadline && socket.valid() && Clock::now() >= deadline)
		{
			hasDeadline = false;
			SessionState s = state.load();
			const std::string ms = std::to_string(options.connectTimeoutMs) + " ms";
			if (s == SessionState::Connecting && endRefusal())
			{
				// A refusal whose body did not end in time: reported with what came of it.
			}
			else if (s == SessionState::Connecting && !tcpConnected)
				fail("cannot connect to " + url.str() + ": timed out after " + ms);
			else if (s == SessionState::Connecting && tls && !tls->established())
				fail("TLS handshake with " + url.str() + " failed: no answer within " + ms);
			else if (s == SessionState::Connecting)
				fail("cannot connect to " + url.str() + ": no handshake response within " + ms);
			else if (s == SessionState::Closing)
			{
				drop();
				setState(SessionState::Closed, codec::CloseCode::Abnormal,
					"close handshake timed out: no close frame from the server within " + ms);
			}
		}
	}
	drop();
}

short Session::Impl::socketEvents() const
{
	if (!tcpConnected)
		return POLLOUT;
	if (tls && !tls->established())
		return tlsWantsWrite ? POLLOUT : POLLIN;
	short events = POLLIN;
	if ((outOffset < out.size() && !writeWantsRead) || readWantsWrite)
		events |= POLLOUT;
	return events;
}

int Session::Impl::pollTimeout() const
{
	if (!hasDeadline)
		return -1;
	auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
	if (left < 0)
		return 0;
	return static_cast<int>(left) + 1;
}

void Session::Impl::handle(Command& command)
{
	SessionState s = state.load();
	switch (command.type)
	{
	case Command::Type::Quit:
		quitting = true;
		drop();
		break;
	case Command::Type::Connect:
		if (socket.valid())
		{
			drop();
			setState(SessionState::Closed, codec::CloseCode::Abnormal, "dropped for a new connection");
		}
		startConnect(command.connect);
		break;
	case Command::Type::Text:
	case Command::Type::Binary:
	case Command::Type::Ping:
		if (s == SessionState::Connecting)
			pending.push_back(std::move(command));
		else if (s == SessionState::Open)
		{
			if (command.type == Command::Type::Ping)
				sendPing(command.payload);
			else
				sendData(command.type == Command::Type::Text ? FrameKind::Text : FrameKind::Binary, command.payload);
			flush();
		}
		else if (s == SessionState::Closing)
			listener.onError("not sent: the connection is closing");
		else
			listener.onError("not sent: not connected");
		break;
	case Command::Type::Close:
		if (!codec::CloseCode::isValidOnWire(command.code))
		{
			listener.onError("close code " + std::to_string(command.code) + " may not be sent (use 1000-1003, 1007-1014 or 3000-4999)");
			break;
		}
		if (s == SessionState::Connecting)
		{
			drop();
			setState(SessionState::Closed, codec::CloseCode::Abnormal, "connect cancelled");
		}
		else if (s == SessionState::Open)
		{
			sendClose(command.code, command.payload);
			setState(SessionState::Closing);
			hasDeadline = true;
			deadline = Clock::now() + std::chrono::milliseconds(options.connectTimeoutMs);
			flush();
		}
		break;
	case Command::Type::Disconnect:
		if (socket.valid())
		{
			drop();
			setState(SessionState::Closed, codec::CloseCode::Abnormal, "disconnected without a close handshake");
		}
		break;
	}
}

void Session::Impl::startConnect(const ConnectOptions& o)
{
	options = o;
	pending.clear();
	pings.clear();
	out.clear();
	outOffset = 0;
	tcpConnected = false;
	decoder.reset();
	decoder.setMaxMessageSize(options.maxMessageSize);
	decoder.allowCompression(false);
	deflate.reset();
	masks.reseed((static_cast<std::uint64_t>(seeds()) << 32) ^ seeds());
	{
		std::lock_guard<std::mutex> lock(selectedMutex);
		selected.clear();
	}
	setState(SessionState::Connecting);
	try
	{
		url = Url::parse(options.url);
		handshake = std::make_unique<ClientHandshake>(url, options);
		if (url.secure)
			tlsContext = std::make_unique<TlsContext>(options.insecure, options.caFile);
		socket = ClientSocket::startConnect(url.host, url.port, url.str());
		if (url.secure)
			tls = std::make_unique<TlsTransport>(*tlsContext, socket.fd(), url.host);
	}
	catch (const std::exception& e)
	{
		fail(e.what());
		return;
	}
	hasDeadline = true;
	deadline = Clock::now() + std::chrono::milliseconds(options.connectTimeoutMs);
}

void Session::Impl::onSocketReady(short revents)
{
	if (!tcpConnected)
	{
		int err = socket.connectError();
		if (err != 0)
		{
			fail("cannot connect to " + url.str() + ": " + ClientSocket::errorText(err));
			return;
		}
		if (!(revents & (POLLOUT | POLLIN)))
			return;
		onConnected();
		return;
	}
	if (tls && !tls->established())
	{
		stepTls();
		return;
	}
	const bool readable = revents & (POLLIN | POLLHUP | POLLERR);
	const bool writable = revents & POLLOUT;
	if (readable || (readWantsWrite && writable))
		readAvailable();
	if (socket.valid() && (writable || (writeWantsRead && readable)))
		flush();
}

void Session::Impl::onConnected()
{
	tcpConnected = true;
	if (tls)
	{
		stepTls();
		return;
	}
	out = handshake->request();
	outOffset = 0;
	flush();
}

void Session::Impl::stepTls()
{
	switch (tls->handshake())
	{
	case TlsStatus::Ok:
		tlsWantsWrite = false;
		out = handshake->request();
		outOffset = 0;
		// Records may wait inside OpenSSL already, where poll cannot see them: read now.
		if (flush() && socket.valid())
			readAvailable();
		return;
	case TlsStatus::WantRead:
		tlsWantsWrite = false;
		return;
	case TlsStatus::WantWrite:
		tlsWantsWrite = true;
		return;
	case TlsStatus::Closed:
		fail("TLS handshake with " + url.str() + " failed: the server closed the connection");
		return;
	case TlsStatus::Failed:
		fail("TLS handshake with " + url.str() + " failed: " + tls->error());
		return;
	}
}

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

Session::Session(SessionListener& listener) : _impl(std::make_unique<Impl>(listener))
{
}

Session::~Session() = default;

void Session::connect(const ConnectOptions& options)
{
	Command command;
	command.type = Command::Type::Connect;
	command.connect = options;
	_impl->post(std::move(command));
}

void Session::sendText(std::string text)
{
	Command command;
	command.type = Command::Type::Text;
	command.payload = std::move(text);
	_impl->post(std::move(command));
}

void Session::sendBinary(std::string data)
{
	Command command;
	command.type = Command::Type::Binary;
	command.payload = std::move(data);
	_impl->post(std::move(command));
}

void Session::ping(std::string payload)
{
	Command command;
	command.type = Command::Type::Ping;
	command.payload = std::move(payload);
	_impl->post(std::move(command));
}

void Session::close(std::uint16_t code, std::string reason)
{
	Command command;
	command.type = Command::Type::Close;
	command.code = code;
	command.payload = std::move(reason);
	_impl->post(std::move(command));
}

void Session::disconnect()
{
	Command command;
	command.type = Command::Type::Disconnect;
	_impl->post(std::move(command));
}

SessionState Session::state() const
{
	return _impl->state.load();
}

std::string Session::subprotocol() const
{
	std::lock_guard<std::mutex> lock(_impl->selectedMutex);
	return _impl->selected;
}

} // namespace client
} // namespace parley
