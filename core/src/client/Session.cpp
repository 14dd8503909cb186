//
// Session.cpp — the session's thread, its commands and the connection's set-up (TLS and the
// handshake included); the bytes and frames of an open connection are in SessionFrames.cpp.
//
#include "SessionImpl.h"

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
