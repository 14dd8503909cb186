//
// AdmissionTest.cpp — what the client session and the load run send in their opening handshake
// (subprotocols, Origin, bearer token, extra headers) and what they make of the answer (RFC 6455
// 4.1: the selected subprotocol; a refusal's status, reason and body line), against a real
// third-party server (python3-websockets, tests/client/py/admission_server.py) and, for answers
// no real server gives, the FakeServer.
//
#include "client/AdmissionServer.h"
#include "client/FakeServer.h"
#include "client/SessionRecorder.h"
#include "parley/client/LoadRun.h"
#include "parley/client/Session.h"
#include <cppunit/extensions/HelperMacros.h>
#include <chrono>
#include <stdexcept>

using namespace parley;
using namespace parley::client;
using parley::test::AdmissionServer;
using parley::test::FakeServer;

namespace {

/// The Recorder keeps the handshake replies too.
using Listener = test::Recorder;

ConnectOptions to(const std::string& url)
{
	ConnectOptions o;
	o.url = url;
	return o;
}

/// Connects and waits until the session is open or closed; returns the first error ("" if none).
std::string connectAndWait(Session& session, Listener& l, const ConnectOptions& o)
{
	session.connect(o);
	CPPUNIT_ASSERT(l.waitFor([&] {
		return !l.states.empty() && (l.states.back().state == SessionState::Open || l.states.back().state == SessionState::Closed);
	}));
	std::lock_guard<std::mutex> lock(l.mutex);
	return l.errors.empty() ? std::string() : l.errors.front();
}

std::string refusalAnswer(const std::string& statusLine, const std::string& headers, const std::string& body)
{
	return "HTTP/1.1 " + statusLine + "\r\n" + headers + "\r\n" + body;
}

} // namespace

class AdmissionTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(AdmissionTest);
	CPPUNIT_TEST(testSubprotocolSelected);
	CPPUNIT_TEST(testOriginTokenHeadersArriveExactly);
	CPPUNIT_TEST(testWrongTokenRefused401);
	CPPUNIT_TEST(testOriginRefused403);
	CPPUNIT_TEST(testSubprotocolNotOffered);
	CPPUNIT_TEST(testSubprotocolWithoutOffer);
	CPPUNIT_TEST(testOfferNotSelected);
	CPPUNIT_TEST(testRefusalFirstLineDoesNotWaitForTheRest);
	CPPUNIT_TEST(testRefusalBodyWithoutEndStopsAtTheDeadline);
	CPPUNIT_TEST(testRefusalBodyIsBounded);
	CPPUNIT_TEST(testRefusalWithoutBody);
	CPPUNIT_TEST(testBadOptions);
	CPPUNIT_TEST(testLoadRunHandshakeOnEveryConnection);
	CPPUNIT_TEST(testLoadRunRefused);
	CPPUNIT_TEST(testLoadRunSubprotocolNotOffered);
	CPPUNIT_TEST(testLoadRunRefusalBodyWithoutEnd);
	CPPUNIT_TEST_SUITE_END();

public:
	void testSubprotocolSelected()
	{
		AdmissionServer server({"--protocols", "chat.v1,chat.v2"});
		Listener l;
		Session session(l);
		ConnectOptions o = to(server.url("/chat"));
		o.subprotocols = {"chat.v2", "chat.v1"};
		CPPUNIT_ASSERT_EQUAL(std::string(), connectAndWait(session, l, o));
		CPPUNIT_ASSERT(session.state() == SessionState::Open);
		// The server picks the first of its own list that was offered.
		CPPUNIT_ASSERT_EQUAL(std::string("chat.v1"), session.subprotocol());
		{
			std::lock_guard<std::mutex> lock(l.mutex);
			CPPUNIT_ASSERT_EQUAL(std::size_t(1), l.replies.size());
			CPPUNIT_ASSERT_EQUAL(101, l.replies[0].status);
			CPPUNIT_ASSERT_EQUAL(std::string("chat.v1"), l.replies[0].subprotocol);
		}
		// Offered once, in the order given.
		const std::string request = server.waitRequests(1).at(0);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1),
			AdmissionServer::count(request, AdmissionServer::header("Sec-WebSocket-Protocol", "chat.v2, chat.v1")));
		session.sendText("hello");
		CPPUNIT_ASSERT(l.waitFor([&] { return l.findFrame(Direction::Received, FrameKind::Text) != nullptr; }));
		session.close();
		CPPUNIT_ASSERT(l.waitState(SessionState::Closed));
		// A connection without an offer has none.
		Listener l2;
		Session plain(l2);
		CPPUNIT_ASSERT_EQUAL(std::string(), connectAndWait(plain, l2, to(server.url("/chat"))));
		CPPUNIT_ASSERT_EQUAL(std::string(), plain.subprotocol());
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), AdmissionServer::count(server.waitRequests(2).at(1), "Sec-WebSocket-Protocol"));
	}

	void testOriginTokenHeadersArriveExactly()
	{
		AdmissionServer server({"--token", "eyJhbGciOi.J9-x_y~z+/=", "--origin", "https://app.example"});
		Listener l;
		Session session(l);
		ConnectOptions o = to(server.url("/room?id=7"));
		o.origin = "https://app.example";
		o.token = "eyJhbGciOi.J9-x_y~z+/=";
		o.headers = {{"X-Trace", "abc 123"}, {"X-Empty", ""}, {"Cookie", "a=1; b=2"}};
		CPPUNIT_ASSERT_EQUAL(std::string(), connectAndWait(session, l, o));
		const std::string request = server.waitRequests(1).at(0);
		CPPUNIT_ASSERT_MESSAGE(request, request.find("{\"path\": \"/room?id=7\"") == 0);
		for (const auto& h : std::vector<std::pair<std::string, std::string>>{{"Origin", "https://app.example"},
				 {"Authorization", "Bearer eyJhbGciOi.J9-x_y~z+/="}, {"X-Trace", "abc 123"}, {"X-Empty", ""},
				 {"Cookie", "a=1; b=2"}})
		{
			CPPUNIT_ASSERT_EQUAL_MESSAGE(h.first + " in " + request, std::size_t(1),
				AdmissionServer::count(request, AdmissionServer::header(h.first, h.second)));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(h.first + " in " + request, std::size_t(1), AdmissionServer::count(request, "\"" + h.first + "\""));
		}
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), AdmissionServer::count(request, "Sec-WebSocket-Protocol"));
	}

	void testWrongTokenRefused401()
	{
		AdmissionServer server({"--token", "right"});
		Listener l;
		Session session(l);
		ConnectOptions o = to(server.url("/x"));
		o.token = "wrong";
		CPPUNIT_ASSERT_EQUAL(std::string("handshake refused: HTTP 401 Unauthorized: invalid or missing token "
										 "(WWW-Authenticate: Bearer realm=\"parley-test\", error=\"invalid_token\")"),
			connectAndWait(session, l, o));
		CPPUNIT_ASSERT(l.waitState(SessionState::Closed));
		std::lock_guard<std::mutex> lock(l.mutex);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), l.errors.size());
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), l.replies.size());
		CPPUNIT_ASSERT_EQUAL(401, l.replies[0].status);
		CPPUNIT_ASSERT_EQUAL(std::string("Unauthorized"), l.replies[0].reason);
		CPPUNIT_ASSERT_EQUAL(std::string("invalid or missing token"), l.replies[0].message);
		CPPUNIT_ASSERT_EQUAL(std::string("Bearer realm=\"parley-test\", error=\"invalid_token\""), l.replies[0].authenticate);
		CPPUNIT_ASSERT_EQUAL(std::string(), l.replies[0].subprotocol);
		CPPUNIT_ASSERT(l.states.back().state == SessionState::Closed);
	}

	void testOriginRefused403()
	{
		AdmissionServer server({"--origin", "https://app.example"});
		Listener l;
		Session session(l);
		ConnectOptions o = to(server.url("/x"));
		o.origin = "https://evil.example";
		CPPUNIT_ASSERT_EQUAL(std::string("handshake refused: HTTP 403 Forbidden: origin https://evil.example not allowed"),
			connectAndWait(session, l, o));
		const std::string request = server.waitRequests(1).at(0);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), AdmissionServer::count(request, AdmissionServer::header("Origin", "https://evil.example")));
	}

	void testSubprotocolNotOffered()
	{
		AdmissionServer server({"--answer-protocol", "evil.v9"});
		Listener l;
		Session session(l);
		ConnectOptions o = to(server.url("/x"));
		o.subprotocols = {"chat.v1", "chat.v2"};
		CPPUNIT_ASSERT_EQUAL(std::string("handshake failed: the server selected subprotocol 'evil.v9' that was not offered "
										 "(offered: chat.v1, chat.v2)"),
			connectAndWait(session, l, o));
		CPPUNIT_ASSERT(l.waitState(SessionState::Closed));
		CPPUNIT_ASSERT_EQUAL(std::string(), session.subprotocol());
	}

	void testSubprotocolWithoutOffer()
	{
		AdmissionServer server({"--answer-protocol", "evil.v9"});
		Listener l;
		Session session(l);
		CPPUNIT_ASSERT_EQUAL(std::string("handshake failed: the server selected subprotocol 'evil.v9' but none was offered"),
			connectAndWait(session, l, to(server.url("/x"))));
		CPPUNIT_ASSERT(l.waitState(SessionState::Closed));
	}

	void testOfferNotSelected()
	{
		// A server that speaks none of the offered ones and answers 101 without a subprotocol.
		AdmissionServer server({"--protocols", "other.v1"});
		Listener l;
		Session session(l);
		ConnectOptions o = to(server.url("/x"));
		o.subprotocols = {"chat.v1"};
		CPPUNIT_ASSERT_EQUAL(std::string("handshake failed: the server selected no subprotocol (offered: chat.v1)"),
			connectAndWait(session, l, o));
	}

	void testRefusalFirstLineDoesNotWaitForTheRest()
	{
		// A body announced as 1 MB of which only the first line comes: reported at once, not at
		// the deadline and not after 1 MB.
		FakeServer server(FakeServer::Mode::Answer, 0,
			refusalAnswer("403 Forbidden", "Content-Length: 1000000\r\nContent-Type: text/plain\r\n", "origin https://evil.example not allowed\nmore"));
		Listener l;
		Session session(l);
		ConnectOptions o = to(server.url());
		o.connectTimeoutMs = 20000;
		const auto start = std::chrono::steady_clock::now();
		CPPUNIT_ASSERT_EQUAL(std::string("handshake refused: HTTP 403 Forbidden: origin https://evil.example not allowed"),
			connectAndWait(session, l, o));
		CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
	}

	void testRefusalBodyWithoutEndStopsAtTheDeadline()
	{
		// No Content-Length, a body line without its end, and the connection left open: the
		// deadline ends it, with what came.
		FakeServer server(FakeServer::Mode::Answer, 0, refusalAnswer("429 Too Many Requests", "Content-Type: text/plain\r\n", "slow down"));
		Listener l;
		Session session(l);
		ConnectOptions o = to(server.url());
		o.connectTimeoutMs = 400;
		const auto start = std::chrono::steady_clock::now();
		CPPUNIT_ASSERT_EQUAL(std::string("handshake refused: HTTP 429 Too Many Requests: slow down"), connectAndWait(session, l, o));
		const auto took = std::chrono::steady_clock::now() - start;
		CPPUNIT_ASSERT(took >= std::chrono::milliseconds(350));
		CPPUNIT_ASSERT(took < std::chrono::seconds(5));
	}

	void testRefusalBodyIsBounded()
	{
		// 100,000 bytes without a line end: at most MaxBodyBytes are read, 200 shown.
		FakeServer server(FakeServer::Mode::Answer, 0,
			refusalAnswer("400 Bad Request", "Content-Length: 100000\r\n", std::string(100000, 'x')));
		Listener l;
		Session session(l);
		ConnectOptions o = to(server.url());
		o.connectTimeoutMs = 20000;
		const auto start = std::chrono::steady_clock::now();
		const std::string error = connectAndWait(session, l, o);
		CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
		CPPUNIT_ASSERT_EQUAL("handshake refused: HTTP 400 Bad Request: " + std::string(200, 'x') + "...", error);
	}

	void testRefusalWithoutBody()
	{
		// Content-Length: 0, and a chunked body with its line: both at once.
		{
			FakeServer server(FakeServer::Mode::Answer, 0, refusalAnswer("503 Service Unavailable", "Content-Length: 0\r\n", ""));
			Listener l;
			Session session(l);
			ConnectOptions o = to(server.url());
			o.connectTimeoutMs = 20000;
			CPPUNIT_ASSERT_EQUAL(std::string("handshake refused: HTTP 503 Service Unavailable"), connectAndWait(session, l, o));
		}
		{
			FakeServer server(FakeServer::Mode::Answer, 0,
				refusalAnswer("401 Unauthorized", "Transfer-Encoding: chunked\r\n", "e\r\ntoken expired\n\r\n0\r\n\r\n"));
			Listener l;
			Session session(l);
			ConnectOptions o = to(server.url());
			o.connectTimeoutMs = 20000;
			CPPUNIT_ASSERT_EQUAL(std::string("handshake refused: HTTP 401 Unauthorized: token expired"), connectAndWait(session, l, o));
		}
	}

	void testBadOptions()
	{
		auto refused = [](const HandshakeOptions& o) -> std::string {
			try
			{
				checkHandshakeOptions(o);
			}
			catch (const std::invalid_argument& e)
			{
				return e.what();
			}
			return {};
		};
		HandshakeOptions o;
		CPPUNIT_ASSERT_EQUAL(std::string(), refused(o));
		o.subprotocols = {"chat v1"};
		CPPUNIT_ASSERT(refused(o).find("bad subprotocol 'chat v1'") == 0);
		o.subprotocols = {"a", "b", "a"};
		CPPUNIT_ASSERT_EQUAL(std::string("subprotocol 'a' is offered twice"), refused(o));
		o = {};
		o.origin = "https://a.example\r\nX: y";
		CPPUNIT_ASSERT(refused(o).find("bad origin") == 0);
		o = {};
		o.token = "a b";
		CPPUNIT_ASSERT_EQUAL(std::string("bad token: contains a space or a control character"), refused(o));
		o = {};
		o.headers = {{"", "x"}};
		CPPUNIT_ASSERT_EQUAL(std::string("bad header: empty name"), refused(o));
		o.headers = {{"Sec-WebSocket-Protocol", "x"}};
		CPPUNIT_ASSERT(refused(o).find("header 'Sec-WebSocket-Protocol' is set by the client itself") == 0);
		o.headers = {{"Origin", "https://a.example"}};
		CPPUNIT_ASSERT_EQUAL(std::string(), refused(o));  // alone, an Origin header is fine
		o.origin = "https://b.example";
		CPPUNIT_ASSERT(refused(o).find("header 'Origin' given next to the origin option") == 0);
		o = {};
		o.token = "t";
		o.headers = {{"authorization", "Basic eDp5"}};
		CPPUNIT_ASSERT(refused(o).find("header 'authorization' given next to the token option") == 0);
		CPPUNIT_ASSERT((splitSubprotocols(" chat.v2, chat.v1 ,,x y") == std::vector<std::string>{"chat.v2", "chat.v1", "x", "y"}));

		// The session reports them as one error, without connecting.
		FakeServer server(FakeServer::Mode::Silent);
		Listener l;
		Session session(l);
		ConnectOptions c = to(server.url());
		c.subprotocols = {"ok", "not ok"};
		CPPUNIT_ASSERT(connectAndWait(session, l, c).find("bad subprotocol 'not ok'") == 0);
		CPPUNIT_ASSERT_EQUAL(std::string(), server.lastRequest());
	}

	void testLoadRunHandshakeOnEveryConnection()
	{
		AdmissionServer server({"--protocols", "chat.v1", "--token", "t0k", "--origin", "http://localhost:3000"});
		LoadOptions o;
		o.url = server.url("/load");
		o.count = 300;
		o.conns = 3;
		o.window = 8;
		o.expect = Expect::Echo;
		o.subprotocols = {"chat.v1"};
		o.origin = "http://localhost:3000";
		o.token = "t0k";
		o.headers = {{"X-Run", "load"}};
		LoadRun run(o);
		const LoadSummary s = run.run();
		CPPUNIT_ASSERT_MESSAGE(s.error + " " + s.line(), s.ok(300));
		CPPUNIT_ASSERT_EQUAL(std::string("chat.v1"), s.subprotocol);
		CPPUNIT_ASSERT_MESSAGE(s.line(), s.line().find(" subprotocol=chat.v1") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL(0, s.refusedStatus);
		const std::vector<std::string> requests = server.waitRequests(3);
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), requests.size());
		for (const std::string& r : requests)
		{
			CPPUNIT_ASSERT_EQUAL_MESSAGE(r, std::size_t(1), AdmissionServer::count(r, AdmissionServer::header("Sec-WebSocket-Protocol", "chat.v1")));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(r, std::size_t(1), AdmissionServer::count(r, AdmissionServer::header("Origin", "http://localhost:3000")));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(r, std::size_t(1), AdmissionServer::count(r, AdmissionServer::header("Authorization", "Bearer t0k")));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(r, std::size_t(1), AdmissionServer::count(r, AdmissionServer::header("X-Run", "load")));
		}
		// Without the offer there is no subprotocol in the summary.
		LoadOptions plain = o;
		plain.subprotocols.clear();
		plain.count = 10;
		const LoadSummary p = LoadRun(plain).run();
		CPPUNIT_ASSERT_MESSAGE(p.error, p.ok(10));
		CPPUNIT_ASSERT_EQUAL(std::string(), p.subprotocol);
		CPPUNIT_ASSERT(p.line().find("subprotocol") == std::string::npos);
	}

	void testLoadRunRefused()
	{
		AdmissionServer server({"--refuse", "403", "--body", "origin https://evil.example not allowed"});
		LoadOptions o;
		o.url = server.url("/load");
		o.count = 100;
		o.conns = 2;
		o.origin = "https://evil.example";
		const LoadSummary s = LoadRun(o).run();
		CPPUNIT_ASSERT_EQUAL("handshake refused: HTTP 403 Forbidden: origin https://evil.example not allowed (" + o.url + ")", s.error);
		CPPUNIT_ASSERT_EQUAL(403, s.refusedStatus);
		CPPUNIT_ASSERT(!s.ok(100));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), s.sent);

		AdmissionServer auth({"--token", "right"});
		o.url = auth.url("/load");
		o.token = "wrong";
		const LoadSummary a = LoadRun(o).run();
		CPPUNIT_ASSERT_MESSAGE(a.error, a.error.find("handshake refused: HTTP 401 Unauthorized: invalid or missing token "
													 "(WWW-Authenticate: Bearer realm=\"parley-test\"") == 0);
		CPPUNIT_ASSERT_EQUAL(401, a.refusedStatus);
	}

	void testLoadRunSubprotocolNotOffered()
	{
		AdmissionServer server({"--answer-protocol", "evil.v9"});
		LoadOptions o;
		o.url = server.url("/load");
		o.count = 10;
		o.subprotocols = {"chat.v1"};
		const LoadSummary s = LoadRun(o).run();
		CPPUNIT_ASSERT_EQUAL("handshake failed: the server selected subprotocol 'evil.v9' that was not offered (offered: chat.v1) ("
				+ o.url + ")", s.error);
		CPPUNIT_ASSERT_EQUAL(0, s.refusedStatus);
		o.subprotocols.clear();
		const LoadSummary n = LoadRun(o).run();
		CPPUNIT_ASSERT_MESSAGE(n.error, n.error.find("handshake failed: the server selected subprotocol 'evil.v9' but none was offered") == 0);
	}

	void testLoadRunRefusalBodyWithoutEnd()
	{
		FakeServer server(FakeServer::Mode::Answer, 0, refusalAnswer("429 Too Many Requests", "", "slow down"));
		LoadOptions o;
		o.url = server.url();
		o.count = 10;
		o.connectTimeoutMs = 400;
		const auto start = std::chrono::steady_clock::now();
		const LoadSummary s = LoadRun(o).run();
		CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
		CPPUNIT_ASSERT_EQUAL("handshake refused: HTTP 429 Too Many Requests: slow down (" + o.url + ")", s.error);
		CPPUNIT_ASSERT_EQUAL(429, s.refusedStatus);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(AdmissionTest, "client");
