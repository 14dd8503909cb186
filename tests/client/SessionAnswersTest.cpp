//
// SessionAnswersTest.cpp — the client session answers what it read before it fails or closes
// the connection: a server sends a valid message and, in the same write, a frame that breaks the
// protocol (or a close); the application's reply, sent from its message callback, is on the
// wire before the client's close frame.
//
#include "client/SessionRecorder.h"
#include "parley/client/Session.h"
#include "parley/codec/FrameDecoder.h"
#include "parley/codec/FrameEncoder.h"
#include "parley/codec/Handshake.h"
#include "parley/codec/Opcode.h"
#include <arpa/inet.h>
#include <cppunit/extensions/HelperMacros.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace parley;
using namespace parley::client;

namespace {

/// A one-connection server: answers the upgrade, then writes `after101` in the same send as the
/// 101, then records every frame the client sends until it closes (or 5 s pass).
class ScriptedServer
{
public:
	explicit ScriptedServer(std::string after101) : _after(std::move(after101))
	{
		_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		::bind(_listen, reinterpret_cast<sockaddr*>(&a), sizeof(a));
		::listen(_listen, 4);
		socklen_t len = sizeof(a);
		::getsockname(_listen, reinterpret_cast<sockaddr*>(&a), &len);
		_port = ntohs(a.sin_port);
		_thread = std::thread([this] { serve(); });
	}
	~ScriptedServer()
	{
		if (_thread.joinable()) _thread.join();
		::close(_listen);
	}
	std::uint16_t port() const { return _port; }
	/// What the client sent after its request: (opcode, payload) in order. Valid after join().
	std::vector<std::pair<int, std::string>> frames()
	{
		if (_thread.joinable()) _thread.join();
		return _frames;
	}

private:
	void serve()
	{
		pollfd p{_listen, POLLIN, 0};
		if (::poll(&p, 1, 5000) != 1) return;
		const int fd = ::accept(_listen, nullptr, nullptr);
		std::string in;
		char buffer[4096];
		while (in.find("\r\n\r\n") == std::string::npos)
		{
			const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
			if (n <= 0) { ::close(fd); return; }
			in.append(buffer, static_cast<std::size_t>(n));
		}
		const std::size_t k = in.find("Sec-WebSocket-Key: ") + 19;
		const std::string key = in.substr(k, in.find("\r\n", k) - k);
		in.erase(0, in.find("\r\n\r\n") + 4);
		const std::string answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Accept: " + codec::Handshake::acceptFor(key) + "\r\n\r\n" + _after;
		::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);   // one write: 101, the message, the bad frame
		codec::FrameDecoder decoder(codec::Role::Server, 1u << 20);
		codec::FrameDecoder::Event event;
		for (bool done = false; !done;)
		{
			pollfd q{fd, POLLIN, 0};
			if (::poll(&q, 1, 5000) != 1) break;
			const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
			if (n <= 0) break;
			in.append(buffer, static_cast<std::size_t>(n));
			std::size_t at = 0;
			for (;;)
			{
				at += decoder.decode(&in[at], in.size() - at, event);
				if (event.type == codec::FrameDecoder::EventType::NeedMore) break;
				if (event.type == codec::FrameDecoder::EventType::Text) _frames.emplace_back(1, std::string(event.payload));
				else if (event.type == codec::FrameDecoder::EventType::Close)
				{
					_frames.emplace_back(8, std::to_string(event.closeCode));
					done = true;
					break;
				}
				else if (event.type == codec::FrameDecoder::EventType::Error)
				{
					_frames.emplace_back(-1, event.error);
					done = true;
					break;
				}
			}
			in.erase(0, at);
		}
		::close(fd);
	}

	int _listen = -1;
	std::uint16_t _port = 0;
	std::string _after;
	std::vector<std::pair<int, std::string>> _frames;
	std::thread _thread;
};

/// Echoes every text message from its callback, as an application would.
class EchoingRecorder : public test::Recorder
{
public:
	Session* session = nullptr;
	void onFrame(const FrameRecord& frame) override
	{
		test::Recorder::onFrame(frame);
		if (frame.direction == Direction::Received && frame.kind == FrameKind::Text) session->sendText("re: " + frame.payload);
	}
};

std::string serverFrame(codec::Opcode opcode, std::string_view payload)
{
	std::string f;
	codec::FrameEncoder::appendFrame(f, opcode, payload, true, nullptr);
	return f;
}

} // namespace

class SessionAnswersTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(SessionAnswersTest);
	CPPUNIT_TEST(testMessageThenProtocolError);
	CPPUNIT_TEST(testMessageThenClose);
	CPPUNIT_TEST_SUITE_END();

public:
	void testMessageThenProtocolError()
	{
		// A text message, then a frame with the reserved opcode 3, in one write.
		std::string bad = serverFrame(codec::Opcode::Text, "x");
		bad[0] = static_cast<char>(0x83);
		ScriptedServer server(serverFrame(codec::Opcode::Text, "hello") + serverFrame(codec::Opcode::Text, "world") + bad);
		EchoingRecorder r;
		Session session(r);
		r.session = &session;
		ConnectOptions o;
		o.url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/";
		session.connect(o);
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		const auto frames = server.frames();
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), frames.size());
		CPPUNIT_ASSERT_EQUAL(std::string("re: hello"), frames[0].second);
		CPPUNIT_ASSERT_EQUAL(std::string("re: world"), frames[1].second);
		CPPUNIT_ASSERT_EQUAL(8, frames[2].first);
		CPPUNIT_ASSERT_EQUAL(std::string("1002"), frames[2].second);
	}

	void testMessageThenClose()
	{
		ScriptedServer server(serverFrame(codec::Opcode::Text, "last words") + std::string("\x88\x02\x03\xe8", 4));
		EchoingRecorder r;
		Session session(r);
		r.session = &session;
		ConnectOptions o;
		o.url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/";
		session.connect(o);
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		const auto frames = server.frames();
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), frames.size());
		CPPUNIT_ASSERT_EQUAL(std::string("re: last words"), frames[0].second);
		CPPUNIT_ASSERT_EQUAL(std::string("1000"), frames[1].second);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(SessionAnswersTest, "client");
