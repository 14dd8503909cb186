//
// LoadRunTest.cpp — the verified exchange against the real host (in-process, ephemeral port,
// real plugins) and against misbehaving servers.
//
#include "client/ClientTestHost.h"
#include "client/FakeServer.h"
#include "parley/client/LoadRun.h"
#include "support/Ports.h"
#include <cppunit/extensions/HelperMacros.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace parley;
using namespace parley::client;

namespace {

using parley::test::closedPort;

LoadOptions optionsFor(const std::string& url, std::uint64_t count, unsigned window, Expect expect)
{
	LoadOptions o;
	o.url = url;
	o.count = count;
	o.window = window;
	o.expect = expect;
	return o;
}

} // namespace

class LoadRunTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(LoadRunTest);
	CPPUNIT_TEST(testWindow1RandomSuffix);
	CPPUNIT_TEST(testWindow256RandomSuffix);
	CPPUNIT_TEST(testFourConnections);
	CPPUNIT_TEST(testEchoBinaryPadded);
	CPPUNIT_TEST(testProgressAndCancel);
	CPPUNIT_TEST(testRefusedConnection);
	CPPUNIT_TEST(testHttpRefusal);
	CPPUNIT_TEST(testBadUrl);
	CPPUNIT_TEST(testEchoRouteIsNotRandomSuffix);
	CPPUNIT_TEST(testRangeIsChecked);
	CPPUNIT_TEST(testWrongOrderDetected);
	CPPUNIT_TEST(testServerCloseMidRun);
	CPPUNIT_TEST(testServerDropMidRun);
	CPPUNIT_TEST(testHostClosesTooBig);
	CPPUNIT_TEST(testReplyTimeout);
	CPPUNIT_TEST(testBadAccept);
	CPPUNIT_TEST(testSummaryLine);
	CPPUNIT_TEST_SUITE_END();

public:
	void testWindow1RandomSuffix()
	{
		test::ClientTestHost host;
		LoadRun run(optionsFor(host.url("/ws"), 10000, 1, Expect::RandomSuffix));
		LoadSummary s = run.run();
		CPPUNIT_ASSERT_EQUAL(std::string(), s.error);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10000), s.verified);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), s.mismatched);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), s.missing);
		CPPUNIT_ASSERT(s.ok(10000));
		CPPUNIT_ASSERT(s.p50Micros > 0 && s.p50Micros <= s.p99Micros && s.p99Micros <= s.maxMicros);
	}

	void testWindow256RandomSuffix()
	{
		test::ClientTestHost host;
		LoadRun run(optionsFor(host.url("/ws"), 10000, 256, Expect::RandomSuffix));
		LoadSummary s = run.run();
		CPPUNIT_ASSERT_EQUAL(std::string(), s.error);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10000), s.sent);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10000), s.received);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10000), s.verified);
		CPPUNIT_ASSERT(s.ok(10000));
		CPPUNIT_ASSERT(!s.ok(10001));
	}

	void testFourConnections()
	{
		test::ClientTestHost host;
		LoadOptions o = optionsFor(host.url("/ws"), 10001, 64, Expect::RandomSuffix);
		o.conns = 4;
		LoadSummary s = LoadRun(o).run();
		CPPUNIT_ASSERT_EQUAL(std::string(), s.error);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10001), s.verified);
		CPPUNIT_ASSERT(s.ok(10001));
	}

	void testEchoBinaryPadded()
	{
		test::ClientTestHost host;
		LoadOptions o = optionsFor(host.url("/echo"), 2000, 32, Expect::Echo);
		o.binary = true;
		o.size = 3000;
		o.conns = 2;
		LoadSummary s = LoadRun(o).run();
		CPPUNIT_ASSERT_EQUAL(std::string(), s.error);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2000), s.verified);
		CPPUNIT_ASSERT(s.ok(2000));
		// Messages over 64 KiB (64-bit length field), cut across many reads.
		o.binary = false;
		o.size = 70000;
		o.count = 40;
		o.window = 8;
		LoadSummary big = LoadRun(o).run();
		CPPUNIT_ASSERT_EQUAL(std::string(), big.error);
		CPPUNIT_ASSERT(big.ok(40));
	}

	void testProgressAndCancel()
	{
		test::ClientTestHost host;
		LoadRun run(optionsFor(host.url("/ws"), 100000000, 1, Expect::RandomSuffix));
		unsigned calls = 0;
		std::uint64_t lastReceived = 0;
		LoadSummary s = run.run(
			[&](const LoadProgress& p) {
				++calls;
				CPPUNIT_ASSERT(p.received >= lastReceived);
				lastReceived = p.received;
				if (calls == 3)
					run.cancel();
			},
			10);
		CPPUNIT_ASSERT(s.cancelled);
		CPPUNIT_ASSERT_EQUAL(3u, calls);
		CPPUNIT_ASSERT(s.verified > 0);
		CPPUNIT_ASSERT(s.verified < 100000000);
		CPPUNIT_ASSERT(!s.ok(100000000));
		CPPUNIT_ASSERT(s.line().find("(cancelled)") != std::string::npos);
	}

	void testRefusedConnection()
	{
		const std::string url = "ws://127.0.0.1:" + std::to_string(closedPort()) + "/ws";
		LoadSummary s = LoadRun(optionsFor(url, 100, 8, Expect::Prefix)).run();
		CPPUNIT_ASSERT(!s.ok(100));
		CPPUNIT_ASSERT_EQUAL("cannot connect to " + url + ": Connection refused", s.error);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), s.sent);
	}

	void testHttpRefusal()
	{
		test::ClientTestHost host;
		LoadSummary s = LoadRun(optionsFor(host.url("/no-such-route"), 100, 8, Expect::Prefix)).run();
		CPPUNIT_ASSERT(!s.ok(100));
		CPPUNIT_ASSERT_MESSAGE(s.error, s.error.find("handshake refused: HTTP 404") == 0);
	}

	void testBadUrl()
	{
		LoadSummary s = LoadRun(optionsFor("http://127.0.0.1/ws", 100, 8, Expect::Prefix)).run();
		CPPUNIT_ASSERT(!s.ok(100));
		CPPUNIT_ASSERT_MESSAGE(s.error, s.error.find("bad URL 'http://127.0.0.1/ws'") == 0);
	}

	void testEchoRouteIsNotRandomSuffix()
	{
		test::ClientTestHost host;
		LoadSummary s = LoadRun(optionsFor(host.url("/echo"), 500, 16, Expect::RandomSuffix)).run();
		CPPUNIT_ASSERT_EQUAL(std::string(), s.error);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(500), s.received);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(500), s.mismatched);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), s.verified);
		CPPUNIT_ASSERT(!s.ok(500));
		CPPUNIT_ASSERT_MESSAGE(s.firstMismatch, s.firstMismatch.find("message 0") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(s.firstMismatch, s.firstMismatch.find("got '0:0'") != std::string::npos);
		// The same replies are right for prefix and echo checks.
		CPPUNIT_ASSERT(LoadRun(optionsFor(host.url("/echo"), 500, 16, Expect::Echo)).run().ok(500));
		CPPUNIT_ASSERT(LoadRun(optionsFor(host.url("/echo"), 500, 16, Expect::Prefix)).run().ok(500));
		// And random-suffix replies are not echoes.
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(500),
			LoadRun(optionsFor(host.url("/ws"), 500, 16, Expect::Echo)).run().mismatched);
	}

	void testRangeIsChecked()
	{
		test::ClientTestHost host;
		// The host draws from [0, 999999]: a range that excludes almost all of it must fail,
		// and a separator the host does not use must fail every reply.
		LoadOptions o = optionsFor(host.url("/ws"), 300, 16, Expect::RandomSuffix);
		o.min = 0;
		o.max = 9;
		LoadSummary s = LoadRun(o).run();
		CPPUNIT_ASSERT(s.mismatched > 250);
		o.min = 0;
		o.max = 999999;
		o.separator = ":";
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(300), LoadRun(o).run().mismatched);
	}

	void testWrongOrderDetected()
	{
		test::FakeServer server(test::FakeServer::Mode::SwapPairs);
		LoadSummary s = LoadRun(optionsFor(server.url(), 100, 4, Expect::Echo)).run();
		CPPUNIT_ASSERT_EQUAL(std::string(), s.error);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(100), s.received);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(100), s.mismatched);
		CPPUNIT_ASSERT_MESSAGE(s.firstMismatch, s.firstMismatch.find("expected '0:0', got '0:1'") != std::string::npos);
		CPPUNIT_ASSERT(!s.ok(100));
	}

	void testServerCloseMidRun()
	{
		test::FakeServer server(test::FakeServer::Mode::CloseAfter, 120);
		LoadOptions o = optionsFor(server.url(), 1000, 1, Expect::Prefix);
		LoadSummary s = LoadRun(o).run();
		CPPUNIT_ASSERT_EQUAL(std::string("server closed connection 0 with 1011 (responder failed) after 120 replies"), s.error);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(120), s.verified);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(121), s.sent);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), s.missing);
		CPPUNIT_ASSERT(!s.ok(1000));
	}

	void testServerDropMidRun()
	{
		test::FakeServer server(test::FakeServer::Mode::DropAfter, 5);
		LoadSummary s = LoadRun(optionsFor(server.url(), 1000, 1, Expect::Prefix)).run();
		CPPUNIT_ASSERT_MESSAGE(s.error, s.error.find("server closed connection 0 without a close frame after 5 replies") == 0
			|| s.error.find("connection 0 lost after 5 replies") == 0);
		CPPUNIT_ASSERT(!s.ok(1000));
	}

	void testHostClosesTooBig()
	{
		test::ClientTestHost host(1000);
		LoadOptions o = optionsFor(host.url("/echo"), 10, 1, Expect::Echo);
		o.size = 5000;
		LoadSummary s = LoadRun(o).run();
		CPPUNIT_ASSERT_MESSAGE(s.error, s.error.find("server closed connection 0 with 1009") == 0);
		CPPUNIT_ASSERT_MESSAGE(s.error, s.error.find("after 0 replies") != std::string::npos);
		CPPUNIT_ASSERT(!s.ok(10));
	}

	void testReplyTimeout()
	{
		test::FakeServer server(test::FakeServer::Mode::Silent);
		LoadOptions o = optionsFor(server.url(), 50, 8, Expect::Prefix);
		o.replyTimeoutMs = 300;
		LoadSummary s = LoadRun(o).run();
		CPPUNIT_ASSERT_MESSAGE(s.error, s.error.find("no reply on connection 0 for 300 ms (8 in flight") == 0);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(8), s.sent);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(8), s.missing);
		CPPUNIT_ASSERT(!s.ok(50));
	}

	void testBadAccept()
	{
		test::FakeServer server(test::FakeServer::Mode::BadAccept);
		LoadSummary s = LoadRun(optionsFor(server.url(), 10, 1, Expect::Prefix)).run();
		CPPUNIT_ASSERT_MESSAGE(s.error, s.error.find("handshake failed: wrong Sec-WebSocket-Accept") == 0);
	}

	void testSummaryLine()
	{
		LoadSummary s;
		s.sent = 3;
		s.received = 2;
		s.verified = 1;
		s.mismatched = 1;
		s.missing = 1;
		s.elapsedSeconds = 1.5;
		s.messagesPerSecond = 2;
		s.p50Micros = 10;
		s.p99Micros = 20;
		s.maxMicros = 30;
		CPPUNIT_ASSERT_EQUAL(std::string("sent=3 received=2 verified=1 mismatched=1 missing=1 elapsed=1.500s rate=2 msg/s "
										 "p50=10us p99=20us max=30us"),
			s.line());
		CPPUNIT_ASSERT(!s.ok(3));
		LoadSummary good;
		good.sent = good.received = good.verified = 3;
		CPPUNIT_ASSERT(good.ok(3));
		good.error = "x";
		CPPUNIT_ASSERT(!good.ok(3));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(LoadRunTest, "client");
