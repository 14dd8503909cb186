//
// HostHttpTest.cpp — the HTTP side of the host: refusals on the public port (answered by the
// event loops), the operator endpoints on the admin port, limits, instances.
//
#include "HostTestSupport.h"
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <chrono>
#include <memory>
#include <string>

using namespace parley::test;

class HostHttpTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostHttpTest);
	CPPUNIT_TEST(testUnknownPath404);
	CPPUNIT_TEST(testPlainGetOnRoute426);
	CPPUNIT_TEST(testBadKey400);
	CPPUNIT_TEST(testVersion12Is426);
	CPPUNIT_TEST(testPostOnRoute405);
	CPPUNIT_TEST(testHttp10Upgrade400);
	CPPUNIT_TEST(testMissingOrDoubleHost400);
	CPPUNIT_TEST(testTwoKeysOrVersions400);
	CPPUNIT_TEST(testUpgradeWithBody400);
	CPPUNIT_TEST(testMalformedHeads400);
	CPPUNIT_TEST(testHeadOverLimit431);
	CPPUNIT_TEST(testTlsOrNoiseOnThePlainPort400AtOnce);
	CPPUNIT_TEST(testHeadInPiecesAndBareLineFeeds);
	CPPUNIT_TEST(testRefusalEndsTheConnection);
	CPPUNIT_TEST(testHeadRequestGetsNoBody);
	CPPUNIT_TEST(testOperatorEndpointsOnlyOnAdminPort);
	CPPUNIT_TEST(testHealth);
	CPPUNIT_TEST(testMetrics);
	CPPUNIT_TEST(testMaxConnections503);
	CPPUNIT_TEST(testConnectionsSpreadOverTheLoops);
	CPPUNIT_TEST(testTwoInstancesInOneProcess);
	CPPUNIT_TEST(testPortInUse);
	CPPUNIT_TEST(testUnknownPluginInRoute);
	CPPUNIT_TEST(testRouteWithoutPlugins);
	CPPUNIT_TEST(testBadPluginSetting);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override { _host = std::make_unique<TestHost>(); }
	void tearDown() override { _host.reset(); }

	void testUnknownPath404()
	{
		CPPUNIT_ASSERT_EQUAL(404, httpGet(_host->port(), "/nothing-here").status);
		CPPUNIT_ASSERT_EQUAL(404, httpRequest(_host->port(), upgradeRequest("/wss")).status);
		CPPUNIT_ASSERT_EQUAL(404, httpGet(_host->port(), "/").status);
		CPPUNIT_ASSERT_EQUAL(404, httpGet(_host->port(), "/ws/").status);
		CPPUNIT_ASSERT_EQUAL(404, httpRequest(_host->port(), "POST /nothing HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status);
		// An absolute-form target names its path.
		CPPUNIT_ASSERT_EQUAL(426, httpRequest(_host->port(), "GET http://127.0.0.1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status);
	}

	void testPlainGetOnRoute426()
	{
		const HttpAnswer a = httpGet(_host->port(), "/ws");
		CPPUNIT_ASSERT_EQUAL(426, a.status);
		CPPUNIT_ASSERT_MESSAGE(a.head, a.hasHeader("Upgrade: websocket"));
		CPPUNIT_ASSERT_MESSAGE(a.head, a.hasHeader("Sec-WebSocket-Version: 13"));
		CPPUNIT_ASSERT(!a.body.empty());
		CPPUNIT_ASSERT_EQUAL(426, httpGet(_host->port(), "/echo?x=1").status);
	}

	void testBadKey400()
	{
		for (const std::string key : {"short==", "", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZ!=="})
		{
			std::string request = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
				"Sec-WebSocket-Version: 13\r\n";
			if (!key.empty()) request += "Sec-WebSocket-Key: " + key + "\r\n";
			const HttpAnswer a = httpRequest(_host->port(), request + "\r\n");
			CPPUNIT_ASSERT_EQUAL_MESSAGE(key, 400, a.status);
			CPPUNIT_ASSERT_MESSAGE(a.head, a.hasHeader("Sec-WebSocket-Version: 13"));
			CPPUNIT_ASSERT(!a.body.empty());
		}
		// (The loop publishes its counters at the end of a turn: the answer may come first.)
		CPPUNIT_ASSERT(eventually([this] { return _host->server().metrics().handshakesRefused == 4; }));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), _host->server().metrics().refusedByStatus[400]);
	}

	void testVersion12Is426()
	{
		const HttpAnswer a = httpRequest(_host->port(),
			"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 12\r\n\r\n");
		CPPUNIT_ASSERT_EQUAL(426, a.status);
		CPPUNIT_ASSERT_MESSAGE(a.head, a.hasHeader("Sec-WebSocket-Version: 13"));
	}

	void testPostOnRoute405()
	{
		const HttpAnswer a = httpRequest(_host->port(),
			"POST /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n");
		CPPUNIT_ASSERT_EQUAL(405, a.status);
		CPPUNIT_ASSERT_MESSAGE(a.head, a.hasHeader("Sec-WebSocket-Version: 13"));
	}

	void testHttp10Upgrade400()
	{
		const HttpAnswer a = httpRequest(_host->port(),
			"GET /ws HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
		CPPUNIT_ASSERT_EQUAL(400, a.status);
	}

	void testMissingOrDoubleHost400()
	{
		const std::string upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Sec-WebSocket-Version: 13\r\n";
		HttpAnswer a = httpRequest(_host->port(), "GET /ws HTTP/1.1\r\n" + upgrade + "\r\n");
		CPPUNIT_ASSERT_EQUAL(400, a.status);
		CPPUNIT_ASSERT_MESSAGE(a.body, a.body.find("Host") != std::string::npos);
		a = httpRequest(_host->port(), "GET /ws HTTP/1.1\r\nHost: a\r\nHost: b\r\n" + upgrade + "\r\n");
		CPPUNIT_ASSERT_EQUAL(400, a.status);
		// Not on a route either: a request without Host is refused before routing.
		CPPUNIT_ASSERT_EQUAL(400, httpRequest(_host->port(), "GET /nothing HTTP/1.1\r\n\r\n").status);
	}

	void testTwoKeysOrVersions400()
	{
		const std::string start = "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
		const std::string key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
		const std::string otherKey = "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n";
		const std::string version = "Sec-WebSocket-Version: 13\r\n";
		for (const std::string& request : {start + key + otherKey + version + "\r\n", start + key + key + version + "\r\n",
				 start + key + version + version + "\r\n", start + key + version + "Sec-WebSocket-Version: 8\r\n\r\n"})
		{
			RawSocket socket(_host->port());
			socket.send(request);
			const std::string head = socket.readHead();
			CPPUNIT_ASSERT_MESSAGE(request + head, head.compare(0, 12, "HTTP/1.1 400") == 0);
			CPPUNIT_ASSERT_MESSAGE(head, head.find("\r\nConnection: close\r\n") != std::string::npos);
		}
	}

	void testUpgradeWithBody400()
	{
		// A body after an upgrade request would otherwise be read as frames.
		const std::string start = std::string(upgradeRequest("/echo")).substr(0, upgradeRequest("/echo").size() - 2);
		for (const std::string& request : {start + "Content-Length: 5\r\n\r\nhello", start + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
				 start + "Content-Length: 0\r\nContent-Length: 5\r\n\r\nhello", start + "Content-Length: x\r\n\r\n"})
		{
			RawSocket socket(_host->port());
			socket.send(request);
			const std::string head = socket.readHead();
			CPPUNIT_ASSERT_MESSAGE(request + "\n" + head, head.compare(0, 12, "HTTP/1.1 400") == 0);
			const std::size_t length = std::stoul(head.substr(head.find("Content-Length: ") + 16));
			CPPUNIT_ASSERT(socket.readExactly(length).find("no body") != std::string::npos);
			CPPUNIT_ASSERT(socket.readEof());
		}
		// Content-Length: 0 is no body: that upgrade goes through.
		RawSocket socket(_host->port());
		socket.send(start + "Content-Length: 0\r\n\r\n");
		CPPUNIT_ASSERT(socket.readHead().compare(0, 12, "HTTP/1.1 101") == 0);
	}

	void testMalformedHeads400()
	{
		const std::string upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Sec-WebSocket-Version: 13\r\n\r\n";
		for (const std::string& request : {std::string("GARBAGE\r\n\r\n"), std::string("GET /ws\r\nHost: x\r\n\r\n"),
				 "GET /ws HTTP/1.1 extra\r\nHost: x\r\n" + upgrade, "GET  /ws HTTP/1.1\r\nHost: x\r\n" + upgrade,
				 "GET /ws HTTP/1.1\r\nHost: x\r\nno colon here\r\n" + upgrade, "GET /ws HTTP/1.1\r\nHost : x\r\n" + upgrade,
				 "GET /ws HTTP/1.1\r\nHost: x\r\n folded: line\r\n" + upgrade, "GET /ws FTP/1.1\r\nHost: x\r\n" + upgrade,
				 "GET /ws HTTP/1.1\r\nHost: x\rinjected\r\n" + upgrade, std::string("GET * HTTP/1.1\r\nHost: x\r\n\r\n"),
				 std::string("\r\n\r\n")})
		{
			RawSocket socket(_host->port());
			socket.send(request);
			const std::string head = socket.readHead();
			CPPUNIT_ASSERT_MESSAGE(request + "\n" + head, head.compare(0, 12, "HTTP/1.1 400") == 0);
		}
		CPPUNIT_ASSERT(eventually([this] { return _host->server().metrics().refusedByStatus[400] == 11; }));
		// The host still serves.
		WsClient c(_host->port(), "/echo");
		c.sendText("after garbage");
		CPPUNIT_ASSERT_EQUAL(std::string("after garbage"), c.readFrame().payload);
	}

	void testHeadOverLimit431()
	{
		// A long header field, a head that never ends, and more fields than Poco takes.
		const std::string request = upgradeRequest("/echo");
		const std::string longField = request.substr(0, request.size() - 2) + "X-Big: " + std::string(5000, 'a') + "\r\n\r\n";
		std::string many = "GET /echo HTTP/1.1\r\nHost: x\r\n";
		for (int i = 0; i < 200; ++i) many += "a" + std::to_string(i % 10) + ":\r\n";
		_host = std::make_unique<TestHost>([](parley::HostConfig& config) { config.maxHeaderBytes = 4096; });
		for (const std::string& head : {longField.substr(0, 5000), std::string(5000, 'G'), many + "\r\n"})
		{
			RawSocket socket(_host->port());
			socket.send(head);
			const std::string answer = socket.readHead();
			CPPUNIT_ASSERT_MESSAGE(answer, answer.compare(0, 12, "HTTP/1.1 431") == 0);
			CPPUNIT_ASSERT_MESSAGE(answer, answer.find("Connection: close") != std::string::npos);
		}
		// The limit is on the head, not on what follows it: a head just under the limit with
		// frames after it is a WebSocket.
		const std::string fits = request.substr(0, request.size() - 2) + "X-Pad: " +
			std::string(4096 - request.size() - 9, 'p') + "\r\n\r\n";
		CPPUNIT_ASSERT_EQUAL(std::size_t(4096), fits.size());
		RawSocket socket(_host->port());
		socket.send(fits + frame(OpText, std::string(8000, 'f')));
		CPPUNIT_ASSERT(socket.readHead().compare(0, 12, "HTTP/1.1 101") == 0);
		CPPUNIT_ASSERT_EQUAL(std::string(8000, 'f'), socket.readFrame().payload);
		CPPUNIT_ASSERT(eventually([this] { return _host->server().metrics().refusedByStatus[431] == 3; }));
	}

	void testTlsOrNoiseOnThePlainPort400AtOnce()
	{
		// A TLS ClientHello (or any byte that cannot start a request line) gets its 400 at once,
		// not after the handshake deadline.
		for (const std::string& start : {std::string("\x16\x03\x01\x00\xa5\x01", 6), std::string("\x00\xff", 2)})
		{
			RawSocket socket(_host->port());
			const auto began = std::chrono::steady_clock::now();
			socket.send(start);
			const std::string head = socket.readHead();
			CPPUNIT_ASSERT_MESSAGE(head, head.compare(0, 12, "HTTP/1.1 400") == 0);
			const std::size_t length = std::stoul(head.substr(head.find("Content-Length: ") + 16));
			const std::string body = socket.readExactly(length);
			CPPUNIT_ASSERT_MESSAGE(body, start[0] != '\x16' || body.find("a TLS handshake on a plain ws:// port") == 0);
			CPPUNIT_ASSERT(socket.readEof());
			CPPUNIT_ASSERT(std::chrono::steady_clock::now() - began < std::chrono::seconds(3));
		}
	}

	void testHeadInPiecesAndBareLineFeeds()
	{
		RawSocket socket(_host->port());
		const std::string request = "GET /echo HTTP/1.1\nHost: x\nUpgrade: websocket\nConnection: Upgrade\n"
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n\n";
		for (std::size_t i = 0; i < request.size(); i += 7)
		{
			socket.send(request.substr(i, 7));
			::usleep(2000);
		}
		const std::string head = socket.readHead();
		CPPUNIT_ASSERT_MESSAGE(head, head.compare(0, 12, "HTTP/1.1 101") == 0);
		socket.send(frame(OpText, "pieces"));
		CPPUNIT_ASSERT_EQUAL(std::string("pieces"), socket.readFrame().payload);
	}

	void testRefusalEndsTheConnection()
	{
		// After a refused upgrade the client's optimistic frames are not read as frames, and
		// the host ends the connection after its answer.
		for (const std::string& request : {upgradeRequest("/nothing"), httpGetRequest("/ws"),
				 std::string("POST /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")})
		{
			RawSocket socket(_host->port());
			socket.send(request + frame(OpText, "should not be answered"));
			const std::string head = socket.readHead();
			const std::size_t length = std::stoul(head.substr(head.find("Content-Length: ") + 16));
			socket.readExactly(length);
			CPPUNIT_ASSERT_MESSAGE(head, socket.readEof());
		}
	}

	void testHeadRequestGetsNoBody()
	{
		RawSocket socket(_host->port());
		socket.send("HEAD /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
		const std::string head = socket.readHead();
		CPPUNIT_ASSERT_MESSAGE(head, head.compare(0, 12, "HTTP/1.1 404") == 0);
		CPPUNIT_ASSERT_MESSAGE(head, head.find("Content-Length: ") != std::string::npos);
		CPPUNIT_ASSERT(socket.readEof());
	}

	void testOperatorEndpointsOnlyOnAdminPort()
	{
		CPPUNIT_ASSERT(_host->adminPort() != _host->port());
		for (const char* path : {"/health", "/metrics", "/plugins"})
		{
			CPPUNIT_ASSERT_EQUAL_MESSAGE(path, 404, httpGet(_host->port(), path).status);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(path, 200, httpGet(_host->adminPort(), path).status);
		}
		CPPUNIT_ASSERT_EQUAL(404, httpGet(_host->adminPort(), "/ws").status);
		const HttpAnswer post = httpRequest(_host->adminPort(), "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
		CPPUNIT_ASSERT_EQUAL(405, post.status);
		CPPUNIT_ASSERT_MESSAGE(post.head, post.hasHeader("Allow: GET"));
		// The admin port speaks plain HTTP, not WebSocket.
		CPPUNIT_ASSERT_EQUAL(404, httpRequest(_host->adminPort(), upgradeRequest("/ws")).status);
	}

	void testHealth()
	{
		HttpAnswer a = httpGet(_host->adminPort(), "/health");
		CPPUNIT_ASSERT_EQUAL(200, a.status);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(a.body, std::string("{\"status\":\"ok\",\"connections\":0}\n"), a.body);
		CPPUNIT_ASSERT(a.head.find("application/json") != std::string::npos);
		WsClient c1(_host->port(), "/echo");
		WsClient c2(_host->port(), "/ws");
		c1.sendText("x");
		c1.readFrame();
		c2.sendText("y");
		c2.readFrame();
		a = httpGet(_host->adminPort(), "/health");
		CPPUNIT_ASSERT_EQUAL_MESSAGE(a.body, std::string("{\"status\":\"ok\",\"connections\":2}\n"), a.body);
	}

	void testMetrics()
	{
		{
			WsClient c(_host->port(), "/echo");
			for (int i = 0; i < 10; ++i)
			{
				c.sendText("0123456789");
				c.readFrame();
			}
			c.send(closeFrame(1000));
			c.readClose();
			c.readEof();
		}
		{
			WsClient c(_host->port(), "/echo");
			c.send(frame(OpText, "x", true, false));
			c.readClose();
			c.readEof();
		}
		// The counters of a loop are published at the end of its turn: wait until both closes show.
		HttpAnswer a;
		for (int i = 0; i < 100; ++i)
		{
			a = httpGet(_host->adminPort(), "/metrics");
			if (a.body.find("parley_closes_sent_total{code=\"1002\"} 1\n") != std::string::npos &&
				a.body.find("\nparley_connections{route=\"/echo\"} 0\n") != std::string::npos)
				break;
			::usleep(20000);
		}
		CPPUNIT_ASSERT_EQUAL(200, a.status);
		CPPUNIT_ASSERT_MESSAGE(a.head, a.hasHeader("Content-Type: text/plain; version=0.0.4; charset=utf-8"));
		for (const char* line : {"\nparley_messages_received_total{route=\"/echo\"} 10\n", "\nparley_messages_sent_total{route=\"/echo\"} 10\n",
				 "\nparley_messages_received_total{route=\"/ws\"} 0\n", "\nparley_connections_opened_total{route=\"/echo\"} 2\n",
				 "\nparley_protocol_errors_total 1\n", "\nparley_closes_sent_total{code=\"1000\"} 1\n",
				 "\nparley_closes_received_total{code=\"1000\"} 1\n", "\nparley_closes_sent_total{code=\"1002\"} 1\n",
				 "\nparley_connections{route=\"/echo\"} 0\n", "\n# TYPE parley_messages_received_total counter\n",
				 "\n# TYPE parley_connections gauge\n", "\n# TYPE parley_respond_seconds histogram\n"})
			CPPUNIT_ASSERT_MESSAGE(std::string(line) + " missing in:\n" + a.body, ("\n" + a.body).find(line) != std::string::npos);
		const parley::host::Metrics m = _host->server().metrics();
		CPPUNIT_ASSERT(m.bytesIn >= 10 * 16);
		CPPUNIT_ASSERT(m.bytesOut >= 10 * 12);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10), m.routes.at("/echo").messagesIn);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10), m.messagesIn);
		CPPUNIT_ASSERT_EQUAL(m.bytesIn, m.handshakeBytesIn + m.routes.at("/echo").bytesIn + m.routes.at("/ws").bytesIn);
	}

	void testMaxConnections503()
	{
		_host = std::make_unique<TestHost>([](parley::HostConfig& config) { config.engine.maxConnections = 2; });
		auto a = std::make_unique<WsClient>(_host->port(), "/echo");
		WsClient b(_host->port(), "/echo");
		const HttpAnswer refused = httpRequest(_host->port(), upgradeRequest("/echo"));
		CPPUNIT_ASSERT_EQUAL(503, refused.status);
		CPPUNIT_ASSERT(eventually([this] {
			const parley::host::Metrics m = _host->server().metrics();
			return m.connectionsRefused == 1 && m.refusedByStatus.count(503) && m.refusedByStatus.at(503) == 1;
		}));
		// A slot comes back when a connection ends.
		a->send(closeFrame(1000));
		a->readClose();
		CPPUNIT_ASSERT(a->readEof());
		a.reset();
		bool upgraded = false;
		for (int i = 0; i < 200 && !upgraded; ++i)
		{
			upgraded = httpRequest(_host->port(), upgradeRequest("/echo")).status == 101;
			if (!upgraded) ::usleep(10000);
		}
		CPPUNIT_ASSERT(upgraded);
		b.sendText("still here");
		CPPUNIT_ASSERT_EQUAL(std::string("still here"), b.readFrame().payload);
	}

	void testConnectionsSpreadOverTheLoops()
	{
		// The loops accept from one listening socket; a loop clearly above the least loaded one
		// leaves new connections to it. 600 connections opened one after another on 2 loops.
		std::vector<std::unique_ptr<WsClient>> clients;
		for (int i = 0; i < 600; ++i) clients.push_back(std::make_unique<WsClient>(_host->port(), "/echo"));
		parley::host::Metrics m;
		CPPUNIT_ASSERT(eventually([&] {
			m = _host->server().metrics();
			return m.connections == 600;
		}));
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), m.connectionsByLoop.size());
		const std::string shown = std::to_string(m.connectionsByLoop[0]) + " / " + std::to_string(m.connectionsByLoop[1]);
		CPPUNIT_ASSERT_MESSAGE(shown, m.connectionsByLoop[0] >= 240 && m.connectionsByLoop[1] >= 240);
		CPPUNIT_ASSERT(httpGet(_host->adminPort(), "/metrics").body.find("\nparley_loop_connections{loop=\"1\"} ") != std::string::npos);
		// Every one of them works.
		for (auto& c : clients) c->sendText("spread");
		for (auto& c : clients) CPPUNIT_ASSERT_EQUAL(std::string("spread"), c->readFrame().payload);
	}

	void testTwoInstancesInOneProcess()
	{
		TestHost second;
		CPPUNIT_ASSERT(second.port() != _host->port());
		WsClient a(_host->port(), "/echo");
		WsClient b(second.port(), "/ws");
		a.sendText("first");
		b.sendText("second");
		CPPUNIT_ASSERT_EQUAL(std::string("first"), a.readFrame().payload);
		CPPUNIT_ASSERT(isRandomSuffixReply(b.readFrame().payload, "second"));
		second.server().stop();
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), b.readClose().closeCode());
		a.sendText("first again");
		CPPUNIT_ASSERT_EQUAL(std::string("first again"), a.readFrame().payload);
	}

	void testPortInUse()
	{
		Poco::Net::ServerSocket taken(Poco::Net::SocketAddress("127.0.0.1", 0));
		const std::uint16_t port = taken.address().port();
		try
		{
			TestHost clash([port](parley::HostConfig& config) { config.port = port; });
			CPPUNIT_FAIL("a second server started on a port in use");
		}
		catch (const parley::ConfigError& e)
		{
			const std::string what = e.what();
			CPPUNIT_ASSERT_EQUAL(std::string("server.port: port " + std::to_string(port) + " on 127.0.0.1 is in use"), what);
		}
		// Also against another HostServer.
		try
		{
			const std::uint16_t busy = _host->port();
			TestHost clash([busy](parley::HostConfig& config) { config.port = busy; });
			CPPUNIT_FAIL("a second server started on the first one's port");
		}
		catch (const parley::ConfigError& e)
		{
			CPPUNIT_ASSERT(std::string(e.what()).find("is in use") != std::string::npos);
		}
	}

	void testUnknownPluginInRoute()
	{
		try
		{
			TestHost bad([](parley::HostConfig& config) { config.routes["/chat"] = {"echo", "no-such-plugin"}; });
			CPPUNIT_FAIL("a route with an unknown plugin was accepted");
		}
		catch (const parley::ConfigError& e)
		{
			const std::string what = e.what();
			CPPUNIT_ASSERT_MESSAGE(what, what.find("route./chat") == 0);
			CPPUNIT_ASSERT_MESSAGE(what, what.find("'no-such-plugin'") != std::string::npos);
		}
	}

	void testRouteWithoutPlugins()
	{
		try
		{
			TestHost bad([](parley::HostConfig& config) { config.routes["/empty"] = {}; });
			CPPUNIT_FAIL("a route without plugins was accepted");
		}
		catch (const parley::ConfigError& e)
		{
			CPPUNIT_ASSERT_MESSAGE(e.what(), std::string(e.what()).find("route./empty") == 0);
		}
	}

	void testBadPluginSetting()
	{
		try
		{
			TestHost bad([](parley::HostConfig& config) { config.pluginSettings["random-suffix"]["max"] = "lots"; });
			CPPUNIT_FAIL("a bad plugin setting was accepted");
		}
		catch (const parley::ConfigError& e)
		{
			const std::string what = e.what();
			CPPUNIT_ASSERT_MESSAGE(what, what.find("plugin.random-suffix") != std::string::npos);
			CPPUNIT_ASSERT_MESSAGE(what, what.find("max") != std::string::npos);
		}
	}

private:
	std::unique_ptr<TestHost> _host;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostHttpTest, "host");
