//
// FakeServer.h — a tiny misbehaving WebSocket server for the client tests, written with the
// codec and plain blocking sockets: it answers wrongly on purpose.
//
#ifndef PARLEY_TESTS_FAKESERVER_INCLUDED
#define PARLEY_TESTS_FAKESERVER_INCLUDED

#include "parley/codec/FrameDecoder.h"
#include "parley/codec/FrameEncoder.h"
#include "parley/codec/Handshake.h"
#include <arpa/inet.h>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <utility>
#include <unistd.h>

namespace parley {
namespace test {

class FakeServer
{
public:
	enum class Mode
	{
		SwapPairs,   ///< answers every second message before the one before it (wrong order)
		Silent,      ///< completes the handshake, never answers
		BadAccept,   ///< 101 with a wrong Sec-WebSocket-Accept
		CloseAfter,  ///< echoes `n` messages, then closes with 1011 "responder failed"
		DropAfter,   ///< echoes `n` messages, then drops the TCP connection without a close frame
		TlsAlert,    ///< answers the request with a TLS alert record, as a TLS server that is sent HTTP may
		Answer       ///< answers the request with the given bytes, then waits for the client to close
	};

	explicit FakeServer(Mode mode, unsigned n = 0, std::string answer = {}) : _mode(mode), _n(n), _answer(std::move(answer))
	{
		_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = 0;
		if (::bind(_listen, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(_listen, 16) != 0)
			throw std::runtime_error("FakeServer: cannot listen");
		socklen_t len = sizeof(a);
		::getsockname(_listen, reinterpret_cast<sockaddr*>(&a), &len);
		_port = ntohs(a.sin_port);
		_thread = std::thread([this] { serve(); });
	}

	~FakeServer()
	{
		_stop = true;
		_thread.join();
		::close(_listen);
	}

	std::uint16_t port() const { return _port; }
	/// The last upgrade request received (whole head).
	std::string lastRequest()
	{
		std::lock_guard<std::mutex> lock(_mutex);
		return _lastRequest;
	}
	std::string url(const std::string& path = "/ws") const { return "ws://127.0.0.1:" + std::to_string(_port) + path; }

private:
	bool waitReadable(int fd)
	{
		while (!_stop)
		{
			pollfd p{fd, POLLIN, 0};
			if (::poll(&p, 1, 20) > 0)
				return true;
		}
		return false;
	}

	static void sendAll(int fd, const std::string& data)
	{
		std::size_t off = 0;
		while (off < data.size())
		{
			ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
			if (n <= 0)
				return;
			off += static_cast<std::size_t>(n);
		}
	}

	void serve()
	{
		while (waitReadable(_listen))
		{
			int fd = ::accept4(_listen, nullptr, nullptr, SOCK_CLOEXEC);
			if (fd >= 0)
			{
				talk(fd);
				::close(fd);
			}
		}
	}

	void talk(int fd)
	{
		std::string request;
		char buffer[65536];
		while (request.find("\r\n\r\n") == std::string::npos)
		{
			if (!waitReadable(fd))
				return;
			ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
			if (n <= 0)
				return;
			request.append(buffer, static_cast<std::size_t>(n));
		}
		{
			std::lock_guard<std::mutex> lock(_mutex);
			_lastRequest = request;
		}
		if (_mode == Mode::Answer)
		{
			sendAll(fd, _answer);
			while (waitReadable(fd) && ::recv(fd, buffer, sizeof(buffer), 0) > 0)
			{
			}
			return;
		}
		if (_mode == Mode::TlsAlert)
		{
			sendAll(fd, std::string("\x15\x03\x01\x00\x02\x02\x46", 7));  // fatal protocol_version
			return;
		}
		std::string key;
		std::size_t k = request.find("Sec-WebSocket-Key: ");
		if (k != std::string::npos)
			key = request.substr(k + 19, request.find("\r\n", k) - k - 19);
		std::string accept = _mode == Mode::BadAccept ? std::string("dGhlIHNhbXBsZSBub25jZQ==") : codec::Handshake::acceptFor(key);
		sendAll(fd, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
					"Sec-WebSocket-Accept: " + accept + "\r\n\r\n");
		if (_mode == Mode::BadAccept)
		{
			waitReadable(fd);
			return;
		}
		codec::FrameDecoder decoder(codec::Role::Server);
		std::string held;
		unsigned answered = 0;
		for (;;)
		{
			if (!waitReadable(fd))
				return;
			ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
			if (n <= 0)
				return;
			char* data = buffer;
			std::size_t size = static_cast<std::size_t>(n);
			std::string out;
			codec::FrameDecoder::Event ev;
			for (;;)
			{
				std::size_t used = decoder.decode(data, size, ev);
				data += used;
				size -= used;
				if (ev.type == codec::FrameDecoder::EventType::NeedMore)
					break;
				if (ev.type == codec::FrameDecoder::EventType::Close || ev.type == codec::FrameDecoder::EventType::Error)
				{
					codec::FrameEncoder::appendClose(out, ev.closeCode, {});
					sendAll(fd, out);
					return;
				}
				if (ev.type == codec::FrameDecoder::EventType::Ping)
				{
					codec::FrameEncoder::appendFrame(out, codec::Opcode::Pong, ev.payload);
					continue;
				}
				if (ev.type != codec::FrameDecoder::EventType::Text && ev.type != codec::FrameDecoder::EventType::Binary)
					continue;
				const codec::Opcode op = ev.type == codec::FrameDecoder::EventType::Text ? codec::Opcode::Text : codec::Opcode::Binary;
				switch (_mode)
				{
				case Mode::Silent:
				case Mode::BadAccept:
				case Mode::TlsAlert:
				case Mode::Answer:
					break;
				case Mode::SwapPairs:
					if (held.empty())
						held.assign(ev.payload.data(), ev.payload.size());
					else
					{
						codec::FrameEncoder::appendFrame(out, op, ev.payload);
						codec::FrameEncoder::appendFrame(out, op, held);
						held.clear();
					}
					break;
				case Mode::CloseAfter:
				case Mode::DropAfter:
					if (answered == _n)
					{
						if (_mode == Mode::CloseAfter)
							codec::FrameEncoder::appendClose(out, 1011, "responder failed");
						sendAll(fd, out);
						if (_mode == Mode::CloseAfter)
							waitReadable(fd);
						return;
					}
					codec::FrameEncoder::appendFrame(out, op, ev.payload);
					++answered;
					break;
				}
			}
			sendAll(fd, out);
		}
	}

	Mode _mode;
	unsigned _n;
	std::string _answer;
	int _listen = -1;
	std::uint16_t _port = 0;
	std::atomic<bool> _stop{false};
	std::mutex _mutex;
	std::string _lastRequest;
	std::thread _thread;
};

} // namespace test
} // namespace parley

#endif
