//
// LoadRunTlsTest.cpp — the verified exchange over wss:// against a real third-party TLS WebSocket
// echo server (python3-websockets, certificate made by the openssl command), and its clean
// failures: untrusted or misnamed certificates, a CA file that is not there, a plain port, a
// silent port, and ws:// to a TLS port.
//
#include "client/ClientTestHost.h"
#include "client/FakeServer.h"
#include "client/TlsTestServer.h"
#include "parley/client/LoadRun.h"
#include <cppunit/extensions/HelperMacros.h>
#include <chrono>

using namespace parley;
using namespace parley::client;
using parley::test::TestCertificate;
using parley::test::TlsEchoServer;

namespace {

using Clock = std::chrono::steady_clock;

LoadOptions echoRun(const std::string& url, std::uint64_t count, unsigned window, const std::string& caFile = {})
{
	LoadOptions o;
	o.url = url;
	o.count = count;
	o.window = window;
	o.expect = Expect::Echo;
	o.caFile = caFile;
	return o;
}

/// Runs and returns the error of a run that must fail before sending anything; bounded.
std::string failureOf(const LoadOptions& o, Clock::duration* took = nullptr)
{
	const auto start = Clock::now();
	LoadSummary s = LoadRun(o).run();
	if (took)
		*took = Clock::now() - start;
	CPPUNIT_ASSERT(!s.ok(o.count));
	CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), s.sent);
	CPPUNIT_ASSERT_MESSAGE(s.error, s.error.find('\n') == std::string::npos);
	return s.error;
}

} // namespace

class LoadRunTlsTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(LoadRunTlsTest);
	CPPUNIT_TEST(testTenThousandWindow64);
	CPPUNIT_TEST(testFourConnections);
	CPPUNIT_TEST(testLargeBinaryMessages);
	CPPUNIT_TEST(testProgressAndCancel);
	CPPUNIT_TEST(testUntrustedCertificateRefused);
	CPPUNIT_TEST(testInsecure);
	CPPUNIT_TEST(testWrongNameRefused);
	CPPUNIT_TEST(testBadCaFile);
	CPPUNIT_TEST(testWssToPlainPort);
	CPPUNIT_TEST(testWssToSilentPort);
	CPPUNIT_TEST(testWsToTlsPort);
	CPPUNIT_TEST_SUITE_END();

public:
	void testTenThousandWindow64()
	{
		TestCertificate cert;
		TlsEchoServer server(cert);
		LoadSummary s = LoadRun(echoRun(server.url("/echo"), 10000, 64, cert.certFile())).run();
		CPPUNIT_ASSERT_EQUAL(std::string(), s.error);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10000), s.sent);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10000), s.received);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10000), s.verified);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), s.mismatched);
		CPPUNIT_ASSERT(s.ok(10000));
		CPPUNIT_ASSERT(s.p50Micros > 0 && s.p50Micros <= s.p99Micros && s.p99Micros <= s.maxMicros);
	}

	void testFourConnections()
	{
		TestCertificate cert;
		TlsEchoServer server(cert);
		LoadOptions o = echoRun(server.url(), 10001, 64, cert.certFile());
		o.conns = 4;
		LoadSummary s = LoadRun(o).run();
		CPPUNIT_ASSERT_EQUAL(std::string(), s.error);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10001), s.verified);
		CPPUNIT_ASSERT(s.ok(10001));
		// Strict request/reply too.
		o.window = 1;
		o.count = 2000;
		LoadSummary one = LoadRun(o).run();
		CPPUNIT_ASSERT_EQUAL(std::string(), one.error);
		CPPUNIT_ASSERT(one.ok(2000));
	}

	void testLargeBinaryMessages()
	{
		// Messages over 64 KiB: every one spans several TLS records, both ways.
		TestCertificate cert;
		TlsEchoServer server(cert);
		LoadOptions o = echoRun(server.url(), 60, 8, cert.certFile());
		o.binary = true;
		o.size = 70000;
		o.conns = 2;
		LoadSummary s = LoadRun(o).run();
		CPPUNIT_ASSERT_EQUAL(std::string(), s.error);
		CPPUNIT_ASSERT(s.ok(60));
	}

	void testProgressAndCancel()
	{
		TestCertificate cert;
		TlsEchoServer server(cert);
		LoadRun run(echoRun(server.url(), 100000000, 16, cert.certFile()));
		unsigned calls = 0;
		LoadSummary s = run.run(
			[&](const LoadProgress&) {
				if (++calls == 3)
					run.cancel();
			},
			10);
		CPPUNIT_ASSERT(s.cancelled);
		CPPUNIT_ASSERT(s.verified > 0);
		CPPUNIT_ASSERT_EQUAL(std::string(), s.error);
	}

	void testUntrustedCertificateRefused()
	{
		TestCertificate cert;
		TlsEchoServer server(cert);
		const std::string url = server.url("/ws");
		CPPUNIT_ASSERT_EQUAL("TLS handshake with " + url + " failed: certificate verify failed (self-signed certificate)",
			failureOf(echoRun(url, 100, 8)));
		LoadOptions four = echoRun(url, 100, 8);
		four.conns = 4;
		CPPUNIT_ASSERT_EQUAL("TLS handshake with " + url + " failed: certificate verify failed (self-signed certificate)",
			failureOf(four));
	}

	void testInsecure()
	{
		TestCertificate cert("DNS:example.com");
		TlsEchoServer server(cert);
		LoadOptions o = echoRun(server.url(), 1000, 32);
		o.insecure = true;
		LoadSummary s = LoadRun(o).run();
		CPPUNIT_ASSERT_EQUAL(std::string(), s.error);
		CPPUNIT_ASSERT(s.ok(1000));
	}

	void testWrongNameRefused()
	{
		TestCertificate cert("DNS:example.com");
		TlsEchoServer server(cert);
		CPPUNIT_ASSERT_EQUAL("TLS handshake with " + server.url() + " failed: certificate verify failed (IP address mismatch)",
			failureOf(echoRun(server.url(), 100, 8, cert.certFile())));
		const std::string byName = "wss://localhost:" + std::to_string(server.port()) + "/";
		CPPUNIT_ASSERT_EQUAL("TLS handshake with " + byName + " failed: certificate verify failed (hostname mismatch)",
			failureOf(echoRun(byName, 100, 8, cert.certFile())));
	}

	void testBadCaFile()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("cannot load CA file '/nonexistent/ca.pem': No such file or directory"),
			failureOf(echoRun("wss://127.0.0.1:9/", 100, 8, "/nonexistent/ca.pem")));
	}

	void testWssToPlainPort()
	{
		test::ClientTestHost host;
		const std::string url = "wss://127.0.0.1:" + std::to_string(host.port()) + "/echo";
		LoadOptions o = echoRun(url, 100, 8);
		o.insecure = true;
		o.connectTimeoutMs = 3000;
		Clock::duration took{};
		const std::string error = failureOf(o, &took);
		CPPUNIT_ASSERT_MESSAGE(error, error.find("TLS handshake with " + url + " failed: ") == 0);
		CPPUNIT_ASSERT(took < std::chrono::milliseconds(3000 + 2000));
	}

	void testWssToSilentPort()
	{
		test::FakeServer server(test::FakeServer::Mode::Silent);
		const std::string url = "wss://127.0.0.1:" + std::to_string(server.port()) + "/ws";
		LoadOptions o = echoRun(url, 100, 8);
		o.insecure = true;
		o.connectTimeoutMs = 500;
		Clock::duration took{};
		CPPUNIT_ASSERT_EQUAL("TLS handshake with " + url + " failed: no answer within 500 ms", failureOf(o, &took));
		CPPUNIT_ASSERT(took >= std::chrono::milliseconds(500) && took < std::chrono::milliseconds(500 + 2000));
	}

	void testWsToTlsPort()
	{
		TestCertificate cert;
		TlsEchoServer server(cert);
		LoadOptions o = echoRun("ws://127.0.0.1:" + std::to_string(server.port()) + "/", 100, 8);
		o.connectTimeoutMs = 3000;
		Clock::duration took{};
		const std::string error = failureOf(o, &took);
		CPPUNIT_ASSERT_MESSAGE(error, error.find("handshake failed: ") == 0);
		CPPUNIT_ASSERT(took < std::chrono::milliseconds(3000 + 2000));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(LoadRunTlsTest, "client");
