//
// RawFrameServer.h — a small WebSocket server for the client's permessage-deflate tests, with
// plain blocking sockets: it answers the upgrade with chosen Sec-WebSocket-Extensions fields,
// records every frame the client sends as it was on the wire (FIN, RSV1, opcode, unmasked
// payload), can send prepared raw frames right after the 101, and echoes messages (inflating the
// client's compressed ones and compressing its replies with the codec when told).
//
#ifndef PARLEY_TESTS_RAWFRAMESERVER_INCLUDED
#define PARLEY_TESTS_RAWFRAMESERVER_INCLUDED

#include "parley/codec/Deflate.h"
#include "parley/codec/FrameEncoder.h"
#include "parley/codec/Handshake.h"
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace parley {
namespace test {

class RawFrameServer
{
public:
	/// One frame from the client, as it was on the wire (the payload unmasked).
	struct Frame
	{
		bool fin = false;
		bool rsv1 = false;
		std::uint8_t opcode = 0;
		std::string payload;
	};

	struct Options
	{
		std::vector<std::string> extensions;  ///< one Sec-WebSocket-Extensions field each in the 101 (none: no field)
		std::string greeting;                 ///< raw bytes sent right after the 101
		bool echo = true;                     ///< answer every data message with its (inflated) payload
		bool compressReplies = false;         ///< compress the replies (RSV1) with `deflate`
		codec::DeflaterSettings deflate;      ///< the server's compressor for replies
		codec::InflaterSettings inflate;      ///< the server's decompressor for the client's messages
	};

	explicit RawFrameServer(Options options) : _o(std::move(options))
	{
		_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (::bind(_listen, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(_listen, 16) != 0)
			throw std::runtime_error("RawFrameServer: cannot listen");
		socklen_t len = sizeof(a);
		::getsockname(_listen, reinterpret_cast<sockaddr*>(&a), &len);
		_port = ntohs(a.sin_port);
		_thread = std::thread([this] { serve(); });
	}

	~RawFrameServer()
	{
		_stop = true;
		_thread.join();
		::close(_listen);
	}
	RawFrameServer(const RawFrameServer&) = delete;
	RawFrameServer& operator=(const RawFrameServer&) = delete;

	std::uint16_t port() const { return _port; }
	std::string url(const std::string& path = "/ws") const { return "ws://127.0.0.1:" + std::to_string(_port) + path; }

	/// The last upgrade request (whole head).
	std::string lastRequest()
	{
		std::lock_guard<std::mutex> lock(_mutex);
		return _request;
	}
	/// Every frame received so far, on every connection.
	std::vector<Frame> frames()
	{
		std::lock_guard<std::mutex> lock(_mutex);
		return _frames;
	}
	/// Every data message received so far (inflated when it came compressed).
	std::vector<std::string> messages()
	{
		std::lock_guard<std::mutex> lock(_mutex);
		return _messages;
	}
	/// The code of the last close frame received (0: none yet; 1005: an empty one).
	int closeCode()
	{
		std::lock_guard<std::mutex> lock(_mutex);
		return _closeCode;
	}
	/// Connections that ended (the client closed its side, or the server after a close).
	unsigned ended()
	{
		std::lock_guard<std::mutex> lock(_mutex);
		return _ended;
	}
	/// Waits up to 10 s for done(frames, closeCode, ended) (called under the lock); returns its
	/// last value.
	bool waitFor(const std::function<bool(const std::vector<Frame>&, int closeCode, unsigned ended)>& done)
	{
		std::unique_lock<std::mutex> lock(_mutex);
		return _changed.wait_for(lock, std::chrono::seconds(10), [&] { return done(_frames, _closeCode, _ended); });
	}

	/// A server frame (unmasked), e.g. for a greeting; rsv1 marks a compressed message.
	static std::string frame(codec::Opcode opcode, std::string_view payload, bool rsv1 = false, bool fin = true)
	{
		std::string out;
		codec::FrameEncoder::appendFrame(out, rsv1 ? codec::FrameEncoder::compressed(opcode) : opcode, payload, fin);
		return out;
	}
	/// One message compressed as permessage-deflate sends it (RFC 7692 §7.2.1).
	static std::string compress(std::string_view payload, const codec::DeflaterSettings& settings = {})
	{
		codec::MessageDeflater deflater(settings);
		std::string out;
		if (!deflater.compress(payload, out))
			throw std::runtime_error("RawFrameServer: cannot compress");
		return out;
	}

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
			if (fd < 0)
				continue;
			talk(fd);
			::close(fd);
			std::lock_guard<std::mutex> lock(_mutex);
			++_ended;
			_changed.notify_all();
		}
	}

	void talk(int fd)
	{
		std::string in;
		char buffer[65536];
		while (in.find("\r\n\r\n") == std::string::npos)
		{
			if (!waitReadable(fd))
				return;
			ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
			if (n <= 0)
				return;
			in.append(buffer, static_cast<std::size_t>(n));
		}
		const std::size_t headEnd = in.find("\r\n\r\n") + 4;
		const std::string request = in.substr(0, headEnd);
		in.erase(0, headEnd);
		{
			std::lock_guard<std::mutex> lock(_mutex);
			_request = request;
		}
		std::string key;
		std::size_t k = request.find("Sec-WebSocket-Key: ");
		if (k != std::string::npos)
			key = request.substr(k + 19, request.find("\r\n", k) - k - 19);
		std::string answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
							 "Sec-WebSocket-Accept: " + codec::Handshake::acceptFor(key) + "\r\n";
		for (const std::string& value : _o.extensions)
			answer += "Sec-WebSocket-Extensions: " + value + "\r\n";
		sendAll(fd, answer + "\r\n" + _o.greeting);

		codec::MessageInflater inflater(_o.inflate);
		codec::MessageDeflater deflater(_o.deflate);
		for (;;)
		{
			// Every whole frame in `in`.
			for (;;)
			{
				if (in.size() < 2)
					break;
				const auto* u = reinterpret_cast<const unsigned char*>(in.data());
				std::uint64_t length = u[1] & 0x7F;
				std::size_t header = 2;
				if (length == 126)
				{
					if (in.size() < 4)
						break;
					length = (std::uint64_t(u[2]) << 8) | u[3];
					header = 4;
				}
				else if (length == 127)
				{
					if (in.size() < 10)
						break;
					length = 0;
					for (int i = 2; i < 10; ++i)
						length = (length << 8) | u[i];
					header = 10;
				}
				const bool masked = u[1] & 0x80;
				const std::size_t maskAt = header;
				if (masked)
					header += 4;
				if (in.size() < header + length)
					break;
				Frame f;
				f.fin = u[0] & 0x80;
				f.rsv1 = u[0] & 0x40;
				f.opcode = u[0] & 0x0F;
				f.payload = in.substr(header, static_cast<std::size_t>(length));
				if (masked)
				{
					std::uint8_t mask[4];
					for (int i = 0; i < 4; ++i)
						mask[i] = u[maskAt + static_cast<std::size_t>(i)];
					codec::FrameEncoder::applyMask(&f.payload[0], f.payload.size(), mask);
				}
				in.erase(0, header + static_cast<std::size_t>(length));
				if (!handle(fd, f, inflater, deflater))
					return;
			}
			if (!waitReadable(fd))
				return;
			ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
			if (n <= 0)
				return;
			in.append(buffer, static_cast<std::size_t>(n));
		}
	}

	/// Records one frame and answers it; false when the connection is over.
	bool handle(int fd, const Frame& f, codec::MessageInflater& inflater, codec::MessageDeflater& deflater)
	{
		std::string message;
		bool isMessage = false;
		if (f.opcode == 0x1 || f.opcode == 0x2)
		{
			isMessage = true;
			message = f.payload;
			if (f.rsv1)
			{
				message.clear();
				codec::MessageInflater::Error error = codec::MessageInflater::Error::None;
				if (!inflater.feed(f.payload, message, 1u << 30, error) || !inflater.finish(message, 1u << 30, error))
					message = "<corrupt>";
			}
		}
		{
			std::lock_guard<std::mutex> lock(_mutex);
			_frames.push_back(f);
			if (isMessage)
				_messages.push_back(message);
			if (f.opcode == 0x8)
				_closeCode = f.payload.size() >= 2
					? (static_cast<unsigned char>(f.payload[0]) << 8) | static_cast<unsigned char>(f.payload[1])
					: 1005;
			_changed.notify_all();
		}
		if (f.opcode == 0x8)
		{
			std::string out;
			codec::FrameEncoder::appendFrame(out, codec::Opcode::Close, f.payload.substr(0, 2));
			sendAll(fd, out);
			return false;
		}
		if (f.opcode == 0x9)
			sendAll(fd, frame(codec::Opcode::Pong, f.payload));
		if (isMessage && _o.echo)
		{
			const codec::Opcode opcode = f.opcode == 0x1 ? codec::Opcode::Text : codec::Opcode::Binary;
			std::string packed;
			if (_o.compressReplies && deflater.compress(message, packed))
				sendAll(fd, frame(opcode, packed, true));
			else
				sendAll(fd, frame(opcode, message));
		}
		return true;
	}

	Options _o;
	int _listen = -1;
	std::uint16_t _port = 0;
	std::atomic<bool> _stop{false};
	std::mutex _mutex;
	std::condition_variable _changed;
	std::string _request;
	std::vector<Frame> _frames;
	std::vector<std::string> _messages;
	int _closeCode = 0;
	unsigned _ended = 0;
	std::thread _thread;
};

} // namespace test
} // namespace parley

#endif
