//
// SessionTest.cpp — the interactive client session against the real host and misbehaving servers.
//
#include "client/ClientTestHost.h"
#include "client/FakeServer.h"
#include "client/SessionRecorder.h"
#include "parley/client/Session.h"
#include "support/Ports.h"
#include <cppunit/extensions/HelperMacros.h>
#include <arpa/inet.h>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

using namespace parley;
using namespace parley::client;
using parley::test::Recorder;

namespace {

using parley::test::closedPort;

ConnectOptions to(const std::string& url)
{
	ConnectOptions o;
	o.url = url;
	return o;
}

} // namespace

class SessionTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(SessionTest);
	CPPUNIT_TEST(testExchangePingClose);
	CPPUNIT_TEST(testBinaryEcho);
	CPPUNIT_TEST(testSendWhileConnectingIsKept);
	CPPUNIT_TEST(testPeerClose);
	CPPUNIT_TEST(testServerPingAnswered);
	CPPUNIT_TEST(testRefused);
	CPPUNIT_TEST(testHttpRefusal);
	CPPUNIT_TEST(testBadUrl);
	CPPUNIT_TEST(testBadAccept);
	CPPUNIT_TEST(testConnectionLost);
	CPPUNIT_TEST(testDisconnectAndReconnect);
	CPPUNIT_TEST(testNotConnected);
	CPPUNIT_TEST(testHeaders);
	CPPUNIT_TEST(testBadHeader);
	CPPUNIT_TEST(testNames);
	CPPUNIT_TEST_SUITE_END();

public:
	void testExchangePingClose()
	{
		test::ClientTestHost host;
		Recorder r;
		Session session(r);
		CPPUNIT_ASSERT(session.state() == SessionState::Idle);
		session.connect(to(host.url("/ws")));
		CPPUNIT_ASSERT(r.waitState(SessionState::Open));
		CPPUNIT_ASSERT(session.state() == SessionState::Open);
		CPPUNIT_ASSERT(r.states.front().state == SessionState::Connecting);

		session.sendText("hello");
		CPPUNIT_ASSERT(r.waitFor([&] { return r.findFrame(Direction::Received, FrameKind::Text) != nullptr; }));
		{
			std::lock_guard<std::mutex> lock(r.mutex);
			const FrameRecord* sent = r.findFrame(Direction::Sent, FrameKind::Text);
			CPPUNIT_ASSERT(sent && sent->payload == "hello");
			const std::string reply = r.findFrame(Direction::Received, FrameKind::Text)->payload;
			CPPUNIT_ASSERT_MESSAGE(reply, reply.compare(0, 6, "hello ") == 0 && reply.size() > 6);
		}

		session.ping("abc");
		CPPUNIT_ASSERT(r.waitFor([&] { return !r.rtts.empty(); }));
		{
			std::lock_guard<std::mutex> lock(r.mutex);
			const FrameRecord* pong = r.findFrame(Direction::Received, FrameKind::Pong);
			CPPUNIT_ASSERT(pong && pong->payload == "abc");
			CPPUNIT_ASSERT(r.findFrame(Direction::Sent, FrameKind::Ping) != nullptr);
			CPPUNIT_ASSERT(r.rtts.front().count() >= 0);
		}

		session.close(4321, "done here");
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT(r.states[r.states.size() - 2].state == SessionState::Closing);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(4321), r.states.back().code);
		const FrameRecord* sentClose = r.findFrame(Direction::Sent, FrameKind::Close);
		CPPUNIT_ASSERT(sentClose && sentClose->closeCode == 4321 && sentClose->payload == "done here");
		const FrameRecord* gotClose = r.findFrame(Direction::Received, FrameKind::Close);
		CPPUNIT_ASSERT(gotClose && gotClose->closeCode == 4321);
		CPPUNIT_ASSERT(r.errors.empty());
	}

	void testBinaryEcho()
	{
		test::ClientTestHost host;
		Recorder r;
		Session session(r);
		session.connect(to(host.url("/echo")));
		CPPUNIT_ASSERT(r.waitState(SessionState::Open));
		std::string data("\x00\x01\xff\xfe", 4);
		session.sendBinary(data);
		CPPUNIT_ASSERT(r.waitFor([&] { return r.findFrame(Direction::Received, FrameKind::Binary) != nullptr; }));
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT(r.findFrame(Direction::Received, FrameKind::Binary)->payload == data);
	}

	void testSendWhileConnectingIsKept()
	{
		test::ClientTestHost host;
		Recorder r;
		Session session(r);
		session.connect(to(host.url("/echo")));
		session.sendText("early");  // before the handshake completed
		CPPUNIT_ASSERT(r.waitFor([&] { return r.findFrame(Direction::Received, FrameKind::Text) != nullptr; }));
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::string("early"), r.findFrame(Direction::Received, FrameKind::Text)->payload);
	}

	void testPeerClose()
	{
		// The host closes with 1009 for a message over engine.max_message_size: the session
		// answers that close and ends with the peer's code.
		test::ClientTestHost host(100);
		Recorder r;
		Session session(r);
		session.connect(to(host.url("/echo")));
		CPPUNIT_ASSERT(r.waitState(SessionState::Open));
		session.sendText(std::string(500, 'x'));
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1009), r.states.back().code);
		const FrameRecord* answer = r.findFrame(Direction::Sent, FrameKind::Close);
		CPPUNIT_ASSERT(answer && answer->closeCode == 1009);
	}

	void testServerPingAnswered()
	{
		test::ClientTestHost host(16u << 20, 50);
		Recorder r;
		Session session(r);
		session.connect(to(host.url("/ws")));
		CPPUNIT_ASSERT(r.waitFor([&] { return r.findFrame(Direction::Sent, FrameKind::Pong) != nullptr; }));
		std::lock_guard<std::mutex> lock(r.mutex);
		const FrameRecord* ping = r.findFrame(Direction::Received, FrameKind::Ping);
		const FrameRecord* pong = r.findFrame(Direction::Sent, FrameKind::Pong);
		CPPUNIT_ASSERT(ping && pong && ping->payload == pong->payload);
		CPPUNIT_ASSERT(r.states.back().state == SessionState::Open);  // answered, so still open
	}

	void testRefused()
	{
		Recorder r;
		Session session(r);
		const std::string url = "ws://127.0.0.1:" + std::to_string(closedPort()) + "/ws";
		session.connect(to(url));
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.errors.size());
		CPPUNIT_ASSERT_EQUAL("cannot connect to " + url + ": Connection refused", r.errors.front());
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1006), r.states.back().code);
	}

	void testHttpRefusal()
	{
		test::ClientTestHost host;
		Recorder r;
		Session session(r);
		session.connect(to(host.url("/nowhere")));
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.errors.size());
		// The status, its reason, then the host's one-line reason from the body.
		CPPUNIT_ASSERT_MESSAGE(r.errors.front(), r.errors.front().find("handshake refused: HTTP 404 Not Found: ") == 0);
		CPPUNIT_ASSERT_MESSAGE(r.errors.front(), r.errors.front().find("/nowhere") != std::string::npos);
	}

	void testBadUrl()
	{
		Recorder r;
		Session session(r);
		session.connect(to("http://127.0.0.1/ws"));
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.errors.size());
		CPPUNIT_ASSERT(r.errors.front().find("bad URL 'http://127.0.0.1/ws'") == 0);
	}

	void testBadAccept()
	{
		test::FakeServer server(test::FakeServer::Mode::BadAccept);
		Recorder r;
		Session session(r);
		session.connect(to(server.url()));
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.errors.size());
		CPPUNIT_ASSERT(r.errors.front().find("handshake failed: wrong Sec-WebSocket-Accept") == 0);
	}

	void testConnectionLost()
	{
		test::FakeServer server(test::FakeServer::Mode::DropAfter, 1);
		Recorder r;
		Session session(r);
		session.connect(to(server.url()));
		CPPUNIT_ASSERT(r.waitState(SessionState::Open));
		session.sendText("one");
		session.sendText("two");
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1006), r.states.back().code);
		CPPUNIT_ASSERT_MESSAGE(r.states.back().reason, r.states.back().reason.find("connection lost") == 0);
		const FrameRecord* got = r.findFrame(Direction::Received, FrameKind::Text);
		CPPUNIT_ASSERT(got && got->payload == "one");
	}

	void testDisconnectAndReconnect()
	{
		test::ClientTestHost host;
		Recorder r;
		Session session(r);
		session.connect(to(host.url("/ws")));
		CPPUNIT_ASSERT(r.waitState(SessionState::Open));
		session.disconnect();
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		CPPUNIT_ASSERT(session.state() == SessionState::Closed);
		session.connect(to(host.url("/echo")));
		CPPUNIT_ASSERT(r.waitState(SessionState::Open));
		session.sendText("again");
		CPPUNIT_ASSERT(r.waitFor([&] { return r.findFrame(Direction::Received, FrameKind::Text) != nullptr; }));
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::string("again"), r.findFrame(Direction::Received, FrameKind::Text)->payload);
	}

	void testNotConnected()
	{
		Recorder r;
		Session session(r);
		session.sendText("nobody");
		CPPUNIT_ASSERT(r.waitFor([&] { return !r.errors.empty(); }));
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::string("not sent: not connected"), r.errors.front());
		CPPUNIT_ASSERT(r.frames.empty());
	}

	void testHeaders()
	{
		// (Subprotocols, Origin and token against a real server: AdmissionTest.)
		test::FakeServer server(test::FakeServer::Mode::SwapPairs);
		Recorder r;
		Session session(r);
		ConnectOptions o = to(server.url("/chat?room=1"));
		o.headers.emplace_back("X-Token", "s3cret");
		o.headers.emplace_back("Origin", "http://localhost");
		session.connect(o);
		CPPUNIT_ASSERT(r.waitState(SessionState::Open));
		const std::string request = server.lastRequest();
		CPPUNIT_ASSERT_MESSAGE(request, request.find("GET /chat?room=1 HTTP/1.1\r\n") == 0);
		CPPUNIT_ASSERT_MESSAGE(request, request.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(request, request.find("Sec-WebSocket-Protocol") == std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(request, request.find("\r\nX-Token: s3cret\r\n") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(request, request.find("\r\nOrigin: http://localhost\r\n") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(request, request.find("\r\nSec-WebSocket-Version: 13\r\n") != std::string::npos);
	}

	void testBadHeader()
	{
		test::FakeServer server(test::FakeServer::Mode::SwapPairs);
		Recorder r;
		Session session(r);
		ConnectOptions o = to(server.url());
		o.headers.emplace_back("X-Evil", "a\r\nInjected: yes");
		session.connect(o);
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.errors.size());
		CPPUNIT_ASSERT_MESSAGE(r.errors.front(), r.errors.front().find("bad value for header 'X-Evil'") == 0);
	}

	void testNames()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("pong"), std::string(toString(FrameKind::Pong)));
		CPPUNIT_ASSERT_EQUAL(std::string("closing"), std::string(toString(SessionState::Closing)));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(SessionTest, "client");
