//
// HostAdmissionTest.cpp — what a handshake must pass before its 101, over real sockets:
// subprotocol selection, allowed origins, gate plugins (in order, blocking on the workers,
// throwing, too slow), per-address limits, and a gate's admission that expires.
//
#include "HostTestSupport.h"
#include "ProcessRunner.h"
#include <Poco/JSON/Parser.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <cppunit/extensions/HelperMacros.h>
#include <poll.h>
#include <chrono>
#include <ctime>
#include <thread>
#include <tuple>

using namespace parley;
using namespace parley::test;

namespace {

/// The answer to an upgrade of `path` with extra header lines (each ending in \r\n).
HttpAnswer upgrade(std::uint16_t port, const std::string& path, const std::string& headers = "")
{
	return httpRequest(port, upgradeRequest(path, headers));
}

std::string headerValue(const std::string& head, const std::string& name)
{
	const std::size_t at = head.find("\r\n" + name + ": ");
	if (at == std::string::npos) return "<none>";
	const std::size_t start = at + 4 + name.size();
	return head.substr(start, head.find("\r\n", start) - start);
}

} // namespace

class HostAdmissionTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostAdmissionTest);
	CPPUNIT_TEST(testSubprotocolSelectedByRoutePreference);
	CPPUNIT_TEST(testSubprotocolRefusedWithTheRoutesList);
	CPPUNIT_TEST(testOriginsListAndWildcards);
	CPPUNIT_TEST(testOriginDefaultRefusesBrowsers);
	CPPUNIT_TEST(testGateAdmitsAndRefuses);
	CPPUNIT_TEST(testGatesRunInOrderAndStopAtTheFirstRefusal);
	CPPUNIT_TEST(testBlockingGateLeavesOthersAlone);
	CPPUNIT_TEST(testThrowingGateRefusesWith503);
	CPPUNIT_TEST(testSlowGateTimesOutWith503);
	CPPUNIT_TEST(testAbandonedHandshakesLeaveTheWorkers);
	CPPUNIT_TEST(testExpiredAdmissionClosesWith1008);
	CPPUNIT_TEST(testConnectionsPerAddress);
	CPPUNIT_TEST(testHandshakesPerAddressPerSecond);
	CPPUNIT_TEST(testReloadRefusesAnUnknownGate);
	CPPUNIT_TEST(testResponderSeesItsConnection);
	CPPUNIT_TEST(testBlockingResponderSeesItsConnection);
	CPPUNIT_TEST(testParleyClientAgainstTheRules);
	CPPUNIT_TEST(testJwtOverSockets);
	CPPUNIT_TEST_SUITE_END();

public:
	void testSubprotocolSelectedByRoutePreference()
	{
		TestHost host([](HostConfig& c) {
			c.routes["/proto"] = {"echo"};
			c.routeOptions["/proto"].subprotocols = {"graphql-transport-ws", "chat.v1"};
		});
		// The route's order wins over the client's.
		HttpAnswer a = upgrade(host.port(), "/proto", "Sec-WebSocket-Protocol: chat.v1, graphql-transport-ws\r\n");
		CPPUNIT_ASSERT_EQUAL_MESSAGE(a.head, 101, a.status);
		CPPUNIT_ASSERT_EQUAL(std::string("graphql-transport-ws"), headerValue(a.head, "Sec-WebSocket-Protocol"));
		a = upgrade(host.port(), "/proto", "Sec-WebSocket-Protocol: mqtt, chat.v1\r\n");
		CPPUNIT_ASSERT_EQUAL(101, a.status);
		CPPUNIT_ASSERT_EQUAL(std::string("chat.v1"), headerValue(a.head, "Sec-WebSocket-Protocol"));
		// Offers over several fields count together.
		a = upgrade(host.port(), "/proto", "Sec-WebSocket-Protocol: mqtt\r\nSec-WebSocket-Protocol: chat.v1\r\n");
		CPPUNIT_ASSERT_EQUAL(101, a.status);
		CPPUNIT_ASSERT_EQUAL(std::string("chat.v1"), headerValue(a.head, "Sec-WebSocket-Protocol"));
		// No offer: no subprotocol named.
		a = upgrade(host.port(), "/proto");
		CPPUNIT_ASSERT_EQUAL(101, a.status);
		CPPUNIT_ASSERT_EQUAL(std::string("<none>"), headerValue(a.head, "Sec-WebSocket-Protocol"));
		// Messages flow on the selected protocol.
		RawSocket s(host.port());
		s.send(upgradeRequest("/proto", "Sec-WebSocket-Protocol: chat.v1\r\n") + frame(OpText, "hi"));
		CPPUNIT_ASSERT(s.readHead().find("Sec-WebSocket-Protocol: chat.v1\r\n") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL(std::string("hi"), s.readFrame().payload);
	}

	void testSubprotocolRefusedWithTheRoutesList()
	{
		TestHost host([](HostConfig& c) {
			c.routes["/proto"] = {"echo"};
			c.routeOptions["/proto"].subprotocols = {"graphql-transport-ws", "chat.v1"};
		});
		HttpAnswer a = upgrade(host.port(), "/proto", "Sec-WebSocket-Protocol: mqtt, stomp\r\n");
		CPPUNIT_ASSERT_EQUAL(400, a.status);
		CPPUNIT_ASSERT_MESSAGE(a.body, a.body.find("/proto speaks graphql-transport-ws, chat.v1; offered: mqtt, stomp") != std::string::npos);
		// A route without subprotocols never answers an offer with a 101 the client must reject.
		a = upgrade(host.port(), "/echo", "Sec-WebSocket-Protocol: chat.v1\r\n");
		CPPUNIT_ASSERT_EQUAL(400, a.status);
		CPPUNIT_ASSERT_MESSAGE(a.body, a.body.find("/echo speaks no subprotocol; offered: chat.v1") != std::string::npos);
		// Offers that are not tokens.
		for (const char* bad : {"chat v1", "a/b", "chat.v1;q=1"})
		{
			a = upgrade(host.port(), "/proto", std::string("Sec-WebSocket-Protocol: ") + bad + "\r\n");
			CPPUNIT_ASSERT_EQUAL_MESSAGE(bad, 400, a.status);
			CPPUNIT_ASSERT_MESSAGE(a.body, a.body.find("malformed Sec-WebSocket-Protocol") != std::string::npos);
		}
		// Empty list elements are ignored (RFC 7230 §7); an empty field is no offer.
		a = upgrade(host.port(), "/proto", "Sec-WebSocket-Protocol: , chat.v1,\r\n");
		CPPUNIT_ASSERT_EQUAL(101, a.status);
		CPPUNIT_ASSERT_EQUAL(std::string("chat.v1"), headerValue(a.head, "Sec-WebSocket-Protocol"));
		a = upgrade(host.port(), "/proto", "Sec-WebSocket-Protocol: \r\n");
		CPPUNIT_ASSERT_EQUAL(101, a.status);
		CPPUNIT_ASSERT_EQUAL(std::string("<none>"), headerValue(a.head, "Sec-WebSocket-Protocol"));
		CPPUNIT_ASSERT(eventually([&] { return host.server().metrics().subprotocolRefusals == 2; }));
	}

	void testOriginsListAndWildcards()
	{
		TestHost host([](HostConfig& c) {
			c.originsSet = true;
			c.origins = OriginList::parse("https://app.example.com, http://localhost:*, https://*.example.org, null");
			c.routes["/strict"] = {"echo"};
			c.routeOptions["/strict"].hasOrigins = true;
			c.routeOptions["/strict"].origins = OriginList::parse("https://only.example.net");
			c.routes["/open"] = {"echo"};
			c.routeOptions["/open"].hasOrigins = true;
			c.routeOptions["/open"].origins = OriginList::parse("*");
		});
		const std::pair<const char*, int> cases[] = {
			{"https://app.example.com", 101}, {"https://app.example.com:443", 101}, {"HTTPS://App.Example.com", 101},
			{"http://app.example.com", 403}, {"https://app.example.com:8443", 403}, {"https://evil.example.com", 403},
			{"https://app.example.com.evil.net", 403},
			{"http://localhost", 101}, {"http://localhost:5173", 101}, {"https://localhost:5173", 403},
			{"https://a.example.org", 101}, {"https://a.b.example.org", 101}, {"https://example.org", 403},
			{"https://badexample.org", 403}, {"null", 101}, {"garbage", 403}, {"https://app.example.com/path", 403},
		};
		std::uint64_t refused = 0;
		for (const auto& [origin, status] : cases)
		{
			const HttpAnswer a = upgrade(host.port(), "/echo", std::string("Origin: ") + origin + "\r\n");
			CPPUNIT_ASSERT_EQUAL_MESSAGE(origin, status, a.status);
			if (status == 403)
			{
				++refused;
				CPPUNIT_ASSERT_MESSAGE(a.body, a.body.find(std::string("origin ") + origin + " is not allowed on /echo (server.origins)") != std::string::npos);
			}
		}
		// No Origin: not a browser, allowed.
		CPPUNIT_ASSERT_EQUAL(101, upgrade(host.port(), "/echo").status);
		// A route's list replaces server.origins.
		CPPUNIT_ASSERT_EQUAL(403, upgrade(host.port(), "/strict", "Origin: https://app.example.com\r\n").status);
		CPPUNIT_ASSERT_EQUAL(101, upgrade(host.port(), "/strict", "Origin: https://only.example.net\r\n").status);
		CPPUNIT_ASSERT_EQUAL(101, upgrade(host.port(), "/open", "Origin: https://anything.example\r\n").status);
		// Two Origin fields: refused.
		CPPUNIT_ASSERT_EQUAL(403, upgrade(host.port(), "/open", "Origin: https://a.example\r\nOrigin: https://b.example\r\n").status);
		refused += 2;
		CPPUNIT_ASSERT(eventually([&] { return host.server().metrics().originRefusals == refused; }));
		const HttpAnswer m = httpGet(host.adminPort(), "/metrics");
		CPPUNIT_ASSERT_MESSAGE(m.body, m.body.find("\nparley_origin_refusals_total " + std::to_string(refused) + "\n") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(m.body, m.body.find("\nparley_handshakes_refused_total{status=\"403\"} " + std::to_string(refused) + "\n") != std::string::npos);
	}

	void testOriginDefaultRefusesBrowsers()
	{
		TestHost host([](HostConfig& c) {
			c.originsSet = false;
			c.origins = OriginList();
		});
		// Without server.origins every browser origin is refused, the host's own address too (a
		// page whose name was rebound to 127.0.0.1 sends Origin and Host alike: DNS rebinding).
		for (const char* origin : {"https://evil.example", "http://127.0.0.1", "null"})
		{
			const HttpAnswer a = upgrade(host.port(), "/echo", std::string("Origin: ") + origin + "\r\n");
			CPPUNIT_ASSERT_EQUAL_MESSAGE(origin, 403, a.status);
			CPPUNIT_ASSERT_MESSAGE(a.body, a.body.find("no server.origins set: browser origins are refused") != std::string::npos);
		}
		const HttpAnswer rebound = httpRequest(host.port(),
			"GET /echo HTTP/1.1\r\nHost: evil.example:8080\r\nOrigin: http://evil.example:8080\r\nUpgrade: websocket\r\n"
			"Connection: Upgrade\r\nSec-WebSocket-Key: " + std::string(testKey()) + "\r\nSec-WebSocket-Version: 13\r\n\r\n");
		CPPUNIT_ASSERT_EQUAL(403, rebound.status);
		// Clients that are not browsers send no Origin.
		CPPUNIT_ASSERT_EQUAL(101, upgrade(host.port(), "/echo").status);
	}

	void testGateAdmitsAndRefuses()
	{
		TestHost host([](HostConfig& c) {
			c.routes["/gated"] = {"echo"};
			c.routeOptions["/gated"].gates = {"header-gate"};
			c.routes["/forbidden"] = {"echo"};
			c.routeOptions["/forbidden"].gates = {"header-gate"};
		});
		HttpAnswer a = upgrade(host.port(), "/gated", "X-Token: wrong\r\n");
		CPPUNIT_ASSERT_EQUAL(401, a.status);
		CPPUNIT_ASSERT_EQUAL(std::string("wrong token\n"), a.body);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(a.head, std::string("Token realm=\"test\""), headerValue(a.head, "WWW-Authenticate"));
		// Framing fields a gate adds are dropped: one Content-Length, the host's.
		CPPUNIT_ASSERT_EQUAL_MESSAGE(a.head, std::string("12"), headerValue(a.head, "Content-Length"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(a.head, std::string::npos, a.head.find("Transfer-Encoding"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(a.head, a.head.find("Content-Length"), a.head.rfind("Content-Length"));
		a = upgrade(host.port(), "/gated");
		CPPUNIT_ASSERT_EQUAL(401, a.status);
		CPPUNIT_ASSERT_EQUAL(std::string("no token\n"), a.body);
		// Admitted: the 101, then messages as usual (frames sent right behind the head wait for the gate).
		RawSocket s(host.port());
		s.send(upgradeRequest("/gated", "X-Token: secret\r\nX-User: alice\r\n") + frame(OpText, "early"));
		CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 101"), s.readHead().substr(0, 12));
		CPPUNIT_ASSERT_EQUAL(std::string("early"), s.readFrame().payload);
		s.send(frame(OpText, "later"));
		CPPUNIT_ASSERT_EQUAL(std::string("later"), s.readFrame().payload);
		// The token in the query works too (GateRequest::parameter).
		CPPUNIT_ASSERT_EQUAL(101, upgrade(host.port(), "/gated?x=1&token=se%63ret").status);
		CPPUNIT_ASSERT(eventually([&] { return host.server().metrics().gateRefusals == 2; }));
	}

	void testGatesRunInOrderAndStopAtTheFirstRefusal()
	{
		TestHost host([](HostConfig& c) {
			c.routes["/two"] = {"echo"};
			c.routeOptions["/two"].gates = {"header-gate", "sleepy-gate"};
			c.pluginSettings["sleepy-gate"]["sleep_ms"] = "10";
			c.pluginSettings["header-gate"]["status"] = "403";
		});
		// Refused by the first: the second never runs (a refusal is quick and names the first).
		const HttpAnswer a = upgrade(host.port(), "/two", "X-Token: nope\r\n");
		CPPUNIT_ASSERT_EQUAL(403, a.status);
		CPPUNIT_ASSERT_EQUAL(std::string("wrong token\n"), a.body);
		CPPUNIT_ASSERT_EQUAL(101, upgrade(host.port(), "/two", "X-Token: secret\r\nX-User: bob\r\n").status);
	}

	void testBlockingGateLeavesOthersAlone()
	{
		TestHost host([](HostConfig& c) {
			c.routes["/slow"] = {"echo"};
			c.routeOptions["/slow"].gates = {"sleepy-gate"};
			c.pluginSettings["sleepy-gate"]["sleep_ms"] = "1500";
		});
		WsClient chat(host.port(), "/echo");
		RawSocket slow1(host.port());
		RawSocket slow2(host.port());
		slow1.send(upgradeRequest("/slow"));
		slow2.send(upgradeRequest("/slow"));
		// While both wait for their gate on the workers, the loops go on: new handshakes and
		// messages of other connections are answered.
		for (int i = 0; i < 20; ++i)
		{
			chat.sendText("m" + std::to_string(i));
			CPPUNIT_ASSERT_EQUAL("m" + std::to_string(i), chat.readFrame().payload);
		}
		WsClient late(host.port(), "/echo");
		late.sendText("late");
		CPPUNIT_ASSERT_EQUAL(std::string("late"), late.readFrame().payload);
		pollfd p[2] = {{slow1.fd(), POLLIN, 0}, {slow2.fd(), POLLIN, 0}};
		CPPUNIT_ASSERT_EQUAL_MESSAGE("the gated handshakes were answered before their gate decided", 0, ::poll(p, 2, 0));
		CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 101"), slow1.readHead().substr(0, 12));
		CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 101"), slow2.readHead().substr(0, 12));
	}

	void testThrowingGateRefusesWith503()
	{
		TestHost host([](HostConfig& c) {
			c.routes["/broken"] = {"echo"};
			c.routeOptions["/broken"].gates = {"throwing-gate"};
		});
		const HttpAnswer a = upgrade(host.port(), "/broken");
		CPPUNIT_ASSERT_EQUAL(503, a.status);
		CPPUNIT_ASSERT_MESSAGE(a.body, a.body.find("gate throwing-gate failed") != std::string::npos);
		CPPUNIT_ASSERT(eventually([&] { return host.logCount({"route /broken", "gate 'throwing-gate' failed", "database unreachable"}) == 1; }));
		CPPUNIT_ASSERT(eventually([&] { return host.server().metrics().gateFailures == 1; }));
		// The host goes on.
		WsClient c(host.port(), "/echo");
		c.sendText("ok");
		CPPUNIT_ASSERT_EQUAL(std::string("ok"), c.readFrame().payload);
	}

	void testSlowGateTimesOutWith503()
	{
		TestHost host([](HostConfig& c) {
			c.routes["/slow"] = {"echo"};
			c.routeOptions["/slow"].gates = {"sleepy-gate"};
			c.pluginSettings["sleepy-gate"]["sleep_ms"] = "3000";
			c.engine.handshakeTimeoutMs = 400;
		});
		const auto start = std::chrono::steady_clock::now();
		const HttpAnswer a = upgrade(host.port(), "/slow");
		const auto waited = std::chrono::steady_clock::now() - start;
		CPPUNIT_ASSERT_EQUAL(503, a.status);
		CPPUNIT_ASSERT_MESSAGE(a.body, a.body.find("gate sleepy-gate did not answer in time") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE("answered at the deadline, not when the gate returned", waited < std::chrono::milliseconds(2500));
		CPPUNIT_ASSERT(eventually([&] { return host.logCount({"route /slow", "gate 'sleepy-gate' did not decide", "refused with 503"}) == 1; }));
	}

	void testAbandonedHandshakesLeaveTheWorkers()
	{
		// One worker; a gate that takes 1 s; handshakes given up at 300 ms. The gates of the
		// handshakes already refused are skipped, so the worker is free again after the first.
		TestHost host([](HostConfig& c) {
			c.pluginWorkers = 1;
			c.engine.handshakeTimeoutMs = 300;
			c.routes["/slow"] = {"echo"};
			c.routeOptions["/slow"].gates = {"sleepy-gate"};
			c.pluginSettings["sleepy-gate"]["sleep_ms"] = "1000";
			c.routes["/fast"] = {"echo"};
			c.routeOptions["/fast"].gates = {"header-gate"};
		});
		std::vector<std::unique_ptr<RawSocket>> slow;
		for (int i = 0; i < 6; ++i)
		{
			slow.push_back(std::make_unique<RawSocket>(host.port()));
			slow.back()->send(upgradeRequest("/slow"));
		}
		for (auto& s : slow) CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 503"), s->readHead().substr(0, 12));
		std::this_thread::sleep_for(std::chrono::milliseconds(900));   // the first gate is done by now
		const HttpAnswer a = upgrade(host.port(), "/fast", "X-Token: secret\r\n");
		CPPUNIT_ASSERT_EQUAL_MESSAGE(a.body, 101, a.status);
	}

	void testExpiredAdmissionClosesWith1008()
	{
		TestHost host([](HostConfig& c) {
			c.routes["/gated"] = {"echo"};
			c.routeOptions["/gated"].gates = {"header-gate"};
		});
		RawSocket s(host.port());
		s.send(upgradeRequest("/gated", "X-Token: secret\r\nX-Expires: " + std::to_string(std::time(nullptr) + 1) + "\r\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 101"), s.readHead().substr(0, 12));
		s.send(frame(OpText, "before"));
		CPPUNIT_ASSERT_EQUAL(std::string("before"), s.readFrame().payload);
		const Frame f = s.readFrame();   // within a tick of the expiry
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(OpClose), f.opcode);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1008), f.closeCode());
		CPPUNIT_ASSERT_EQUAL(std::string("token expired"), f.closeReason());
		CPPUNIT_ASSERT(eventually([&] { return host.server().metrics().tokenExpiries == 1; }));
	}

	void testConnectionsPerAddress()
	{
		TestHost host([](HostConfig& c) { c.engine.maxConnectionsPerIp = 3; });
		std::vector<std::unique_ptr<WsClient>> open;
		for (int i = 0; i < 3; ++i) open.push_back(std::make_unique<WsClient>(host.port(), "/echo"));
		HttpAnswer a = upgrade(host.port(), "/echo");
		CPPUNIT_ASSERT_EQUAL(429, a.status);
		CPPUNIT_ASSERT_MESSAGE(a.body, a.body.find("engine.max_connections_per_ip") != std::string::npos);
		CPPUNIT_ASSERT(a.hasHeader("Retry-After: 1"));
		// One closes: there is room again.
		open.pop_back();
		CPPUNIT_ASSERT(eventually([&] { return upgrade(host.port(), "/echo").status == 101; }));
		CPPUNIT_ASSERT(host.server().metrics().peerLimitRefusals >= 1);
	}

	void testHandshakesPerAddressPerSecond()
	{
		TestHost host([](HostConfig& c) { c.engine.handshakesPerIpPerS = 5; });
		int admitted = 0, limited = 0;
		for (int i = 0; i < 12; ++i)
		{
			const HttpAnswer a = upgrade(host.port(), "/echo");
			if (a.status == 101) ++admitted;
			else if (a.status == 429 && a.body.find("engine.handshakes_per_ip_per_s") != std::string::npos) ++limited;
		}
		// A bucket of 5 that refills at 5/s: 5 at once, about one more per 200 ms of this loop.
		CPPUNIT_ASSERT_MESSAGE(std::to_string(admitted), admitted >= 5 && admitted < 12);
		CPPUNIT_ASSERT_EQUAL(12, admitted + limited);
		std::this_thread::sleep_for(std::chrono::milliseconds(1100));
		CPPUNIT_ASSERT_EQUAL(101, upgrade(host.port(), "/echo").status);
	}

	void testReloadRefusesAnUnknownGate()
	{
		TestHost host;
		HostConfig next = baseConfig();
		next.routes["/gated"] = {"echo"};
		next.routeOptions["/gated"].gates = {"no-such-gate"};
		std::string why;
		CPPUNIT_ASSERT(!host.server().reload(next, &why));
		CPPUNIT_ASSERT_MESSAGE(why, why.find("route./gated.gates: unknown gate 'no-such-gate'") != std::string::npos);
		next.routeOptions["/gated"].gates = {"echo"};
		CPPUNIT_ASSERT(!host.server().reload(next, &why));
		CPPUNIT_ASSERT_MESSAGE(why, why.find("'echo' is a responder, not a gate") != std::string::npos);
		// A good reload turns the gate on for new handshakes.
		next.routeOptions["/gated"].gates = {"header-gate"};
		CPPUNIT_ASSERT_MESSAGE(why, host.server().reload(next, &why));
		CPPUNIT_ASSERT(eventually([&] { return upgrade(host.port(), "/gated").status == 401; }));
	}

	void testResponderSeesItsConnection()
	{
		TestHost host([](HostConfig& c) {
			c.routes["/who"] = {"whoami"};
			c.routeOptions["/who"].subprotocols = {"chat.v1"};
			c.routeOptions["/who"].gates = {"header-gate", "sleepy-gate"};
			c.pluginSettings["sleepy-gate"]["sleep_ms"] = "1";
		});
		RawSocket s(host.port());
		s.send(upgradeRequest("/who?room=5&name=J%C3%BCrgen", "Sec-WebSocket-Protocol: chat.v1\r\nX-Token: secret\r\nX-User: carol\r\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 101"), s.readHead().substr(0, 12));
		s.send(frame(OpText, "who \"am\" I?"));
		const std::string reply = s.readFrame().payload;
		Poco::JSON::Object::Ptr info = Poco::JSON::Parser().parse(reply).extract<Poco::JSON::Object::Ptr>();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(reply, std::string("/who"), info->getValue<std::string>("path"));
		CPPUNIT_ASSERT_EQUAL(std::string("room=5&name=J%C3%BCrgen"), info->getValue<std::string>("query"));
		CPPUNIT_ASSERT_EQUAL(std::string("chat.v1"), info->getValue<std::string>("subprotocol"));
		// The gates in order: header-gate named carol, sleepy-gate appended to it.
		CPPUNIT_ASSERT_EQUAL(std::string("carol+sleepy"), info->getValue<std::string>("identity"));
		Poco::JSON::Object::Ptr attributes = info->getObject("attributes");
		CPPUNIT_ASSERT_EQUAL(std::string("header-gate"), attributes->getValue<std::string>("seen-by"));
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), attributes->getValue<std::string>("ip"));
		CPPUNIT_ASSERT_EQUAL(std::string("1"), attributes->getValue<std::string>("slept-ms"));
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), info->getValue<std::string>("remote_address"));
		sockaddr_in local{};
		socklen_t length = sizeof(local);
		::getsockname(s.fd(), reinterpret_cast<sockaddr*>(&local), &length);
		CPPUNIT_ASSERT_EQUAL(int(ntohs(local.sin_port)), info->getValue<int>("remote_port"));
		CPPUNIT_ASSERT_EQUAL(false, info->getValue<bool>("tls"));
		CPPUNIT_ASSERT(info->getValue<Poco::UInt64>("id") != 0);
		CPPUNIT_ASSERT_EQUAL(std::string("who \"am\" I?"), info->getValue<std::string>("message"));
		// Without gates and subprotocol: empty identity, no attributes.
		TestHost plain([](HostConfig& c) { c.routes["/who"] = {"whoami"}; });
		WsClient w(plain.port(), "/who");
		w.sendText("x");
		info = Poco::JSON::Parser().parse(w.readFrame().payload).extract<Poco::JSON::Object::Ptr>();
		CPPUNIT_ASSERT_EQUAL(std::string(""), info->getValue<std::string>("identity"));
		CPPUNIT_ASSERT_EQUAL(std::string(""), info->getValue<std::string>("subprotocol"));
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), info->getObject("attributes")->size());
	}

	void testBlockingResponderSeesItsConnection()
	{
		// sleepy is blocking(): the whole chain runs on the workers, whoami still sees the connection.
		TestHost host([](HostConfig& c) {
			c.routes["/slow-who"] = {"sleepy", "whoami"};
			c.routeOptions["/slow-who"].gates = {"header-gate"};
			c.pluginSettings["sleepy"]["sleep_ms"] = "1";
		});
		RawSocket s(host.port());
		s.send(upgradeRequest("/slow-who?q=1", "X-Token: secret\r\nX-User: dave\r\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 101"), s.readHead().substr(0, 12));
		for (int i = 0; i < 3; ++i) s.send(frame(OpText, "m" + std::to_string(i)));
		for (int i = 0; i < 3; ++i)
		{
			const std::string reply = s.readFrame().payload;
			Poco::JSON::Object::Ptr info = Poco::JSON::Parser().parse(reply).extract<Poco::JSON::Object::Ptr>();
			CPPUNIT_ASSERT_EQUAL_MESSAGE(reply, std::string("dave"), info->getValue<std::string>("identity"));
			CPPUNIT_ASSERT_EQUAL(std::string("q=1"), info->getValue<std::string>("query"));
			CPPUNIT_ASSERT_EQUAL("m" + std::to_string(i), info->getValue<std::string>("message"));
		}
	}

	void testParleyClientAgainstTheRules()
	{
		TestHost host([](HostConfig& c) {
			c.routes["/proto"] = {"echo"};
			c.routeOptions["/proto"].subprotocols = {"graphql-transport-ws", "chat.v1"};
			c.routeOptions["/proto"].gates = {"header-gate"};
		});
		const std::string url = "--url=ws://127.0.0.1:" + std::to_string(host.port()) + "/proto";
		auto run = [&](std::vector<std::string> args) {
			args.insert(args.begin(), url);
			ProcessRunner client(binDir() + "/parley-client", args, 60);
			const int code = client.wait();
			return std::make_pair(code, client.output());
		};
		auto [code, out] = run({"--subprotocol=mqtt,chat.v1", "-H", "X-Token: secret", "--count=200", "--expect=echo"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 0, code);
		CPPUNIT_ASSERT_MESSAGE(out, out.find("verified=200") != std::string::npos && out.find("subprotocol=chat.v1") != std::string::npos);
		std::tie(code, out) = run({"--subprotocol=chat.v1", "--count=1"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 1, code);
		CPPUNIT_ASSERT_MESSAGE(out, out.find("HTTP 401 Unauthorized: no token") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(out, out.find("WWW-Authenticate: Token realm=\"test\"") != std::string::npos);
		std::tie(code, out) = run({"--subprotocol=mqtt", "-H", "X-Token: secret", "--count=1"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 1, code);
		CPPUNIT_ASSERT_MESSAGE(out, out.find("HTTP 400 Bad Request: /proto speaks graphql-transport-ws, chat.v1; offered: mqtt") != std::string::npos);
		std::tie(code, out) = run({"--origin=https://evil.example", "-H", "X-Token: secret", "--count=1"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 1, code);
		CPPUNIT_ASSERT_MESSAGE(out, out.find("HTTP 403 Forbidden: forbidden: origin https://evil.example is not allowed on /proto") != std::string::npos);
	}

	void testJwtOverSockets()
	{
		const std::string secret = "host-test-secret-0123456789abcdef";
		TestHost host([&secret](HostConfig& c) {
			c.routes["/private"] = {"whoami"};
			c.routeOptions["/private"].gates = {"jwt"};
			c.pluginSettings["jwt"] = {{"secret", secret}, {"cookie", "session"}, {"audience", "parley-tests"},
				{"leeway_s", "0"}, {"close_at_expiry", "true"}};
		});
		const std::int64_t now = std::time(nullptr);
		auto token = [&secret](const std::string& claims, const std::string& alg = "HS256") {
			Poco::JWT::Signer signer(secret);
			signer.addAllAlgorithms();
			Poco::JWT::Token t;
			t.setType("JWT");
			t.payload() = *Poco::JSON::Parser().parse(claims).extract<Poco::JSON::Object::Ptr>();
			return signer.sign(t, alg);
		};
		auto claims = [now](const std::string& sub, std::int64_t exp, const std::string& more = "") {
			return "{\"sub\":\"" + sub + "\",\"aud\":\"parley-tests\",\"exp\":" + std::to_string(now + exp) + more + "}";
		};
		auto identityOf = [&](const std::string& target, const std::string& headers) {
			RawSocket s(host.port());
			s.send(upgradeRequest(target, headers));
			const std::string head = s.readHead();
			if (head.compare(0, 12, "HTTP/1.1 101") != 0) return "refused: " + head;
			s.send(frame(OpText, "?"));
			return Poco::JSON::Parser().parse(s.readFrame().payload).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("identity");
		};
		// The three places a token can come from.
		CPPUNIT_ASSERT_EQUAL(std::string("by-header"), identityOf("/private", "Authorization: Bearer " + token(claims("by-header", 600)) + "\r\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("by-query"), identityOf("/private?access_token=" + token(claims("by-query", 600)), ""));
		CPPUNIT_ASSERT_EQUAL(std::string("by-cookie"), identityOf("/private", "Cookie: theme=dark; session=" + token(claims("by-cookie", 600)) + "\r\n"));
		// Every bad token: 401 with a reason and WWW-Authenticate, and the host goes on.
		const std::string good = token(claims("x", 600));
		const std::string unsigned_ = good.substr(0, good.rfind('.') + 1);
		const std::pair<std::string, std::string> bad[] = {
			{token(claims("x", -60)), "token expired"},
			{token(claims("x", 600, ",\"nbf\":" + std::to_string(now + 300))), "token not yet valid"},
			{token("{\"sub\":\"x\",\"aud\":\"someone-else\",\"exp\":" + std::to_string(now + 600) + "}"), "wrong audience"},
			{good.substr(0, good.size() - 4) + (good.substr(good.size() - 4) == "AAAA" ? "BBBB" : "AAAA"), "bad signature"},
			{"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + unsigned_.substr(unsigned_.find('.') + 1), "algorithm none not allowed"},
			{"not.a.token", "malformed token"},
			{"garbage", "malformed token"},
		};
		for (const auto& [t, reason] : bad)
		{
			const HttpAnswer a = upgrade(host.port(), "/private", "Authorization: Bearer " + t + "\r\n");
			CPPUNIT_ASSERT_EQUAL_MESSAGE(t, 401, a.status);
			CPPUNIT_ASSERT_MESSAGE(reason + " / " + a.body, a.body.find(reason) != std::string::npos);
			CPPUNIT_ASSERT_MESSAGE(a.head, headerValue(a.head, "WWW-Authenticate").find("Bearer realm=") == 0);
		}
		const HttpAnswer none = upgrade(host.port(), "/private");
		CPPUNIT_ASSERT_EQUAL(401, none.status);
		CPPUNIT_ASSERT_EQUAL(std::string("no token\n"), none.body);
		// close_at_expiry: the host closes with 1008 when exp passes.
		RawSocket s(host.port());
		s.send(upgradeRequest("/private", "Authorization: Bearer " + token(claims("brief", 1)) + "\r\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 101"), s.readHead().substr(0, 12));
		const Frame f = s.readFrame();
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1008), f.closeCode());
		CPPUNIT_ASSERT_EQUAL(std::string("token expired"), f.closeReason());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostAdmissionTest, "host");
