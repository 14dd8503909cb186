//
// SessionTlsTest.cpp — the interactive client session over wss:// against a real third-party TLS
// WebSocket server (python3-websockets with a certificate made by the openssl command): trust by
// CA file, refusal of untrusted and misnamed certificates, --insecure, and clean failures against
// a port that does not speak what the URL says.
//
#include "client/ClientTestHost.h"
#include "client/FakeServer.h"
#include "client/SessionRecorder.h"
#include "client/TlsTestServer.h"
#include "parley/client/Session.h"
#include <cppunit/extensions/HelperMacros.h>
#include <chrono>

using namespace parley;
using namespace parley::client;
using parley::test::Recorder;
using parley::test::TestCertificate;
using parley::test::TlsEchoServer;

namespace {

using Clock = std::chrono::steady_clock;

ConnectOptions tlsTo(const std::string& url, const std::string& caFile = {}, bool insecure = false)
{
	ConnectOptions o;
	o.url = url;
	o.caFile = caFile;
	o.insecure = insecure;
	return o;
}

/// Connects and waits for the session to end up Closed; returns its one error ("" if none or many).
std::string failureOf(const ConnectOptions& options, Clock::duration* took = nullptr)
{
	Recorder r;
	Session session(r);
	const auto start = Clock::now();
	session.connect(options);
	CPPUNIT_ASSERT_MESSAGE("no end for " + options.url, r.waitState(SessionState::Closed));
	if (took)
		*took = Clock::now() - start;
	std::lock_guard<std::mutex> lock(r.mutex);
	CPPUNIT_ASSERT_EQUAL(std::uint16_t(1006), r.states.back().code);
	CPPUNIT_ASSERT_EQUAL_MESSAGE(options.url, std::size_t(1), r.errors.size());
	CPPUNIT_ASSERT_MESSAGE(r.errors.front(), r.errors.front().find('\n') == std::string::npos);
	return r.errors.front();
}

/// Connects, expects Open, then closes with 1000.
void expectOpens(const ConnectOptions& options)
{
	Recorder r;
	Session session(r);
	session.connect(options);
	CPPUNIT_ASSERT_MESSAGE(options.url, r.waitFor([&] {
		return !r.states.empty() && (r.states.back().state == SessionState::Open || r.states.back().state == SessionState::Closed);
	}));
	{
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_MESSAGE(options.url + ": " + (r.errors.empty() ? std::string() : r.errors.front()),
			r.states.back().state == SessionState::Open);
	}
	session.close(1000);
	CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
}

} // namespace

class SessionTlsTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(SessionTlsTest);
	CPPUNIT_TEST(testExchangeOverWss);
	CPPUNIT_TEST(testHostNameAndSni);
	CPPUNIT_TEST(testUntrustedCertificateRefused);
	CPPUNIT_TEST(testInsecureAcceptsAnyCertificate);
	CPPUNIT_TEST(testWrongNameRefused);
	CPPUNIT_TEST(testBadCaFile);
	CPPUNIT_TEST(testWssToPlainPort);
	CPPUNIT_TEST(testWssToSilentPort);
	CPPUNIT_TEST(testWsToTlsPort);
	CPPUNIT_TEST(testWsAnsweredWithTls);
	CPPUNIT_TEST_SUITE_END();

public:
	void testExchangeOverWss()
	{
		TestCertificate cert;
		TlsEchoServer server(cert);
		Recorder r;
		Session session(r);
		session.connect(tlsTo(server.url("/echo"), cert.certFile()));
		CPPUNIT_ASSERT_MESSAGE(server.output(), r.waitState(SessionState::Open));

		session.sendText("hello over tls");
		const std::string binary("\x00\x01\xfe\xff tls", 8);
		session.sendBinary(binary);
		CPPUNIT_ASSERT(r.waitFor([&] {
			return r.findFrame(Direction::Received, FrameKind::Text) && r.findFrame(Direction::Received, FrameKind::Binary);
		}));
		{
			std::lock_guard<std::mutex> lock(r.mutex);
			CPPUNIT_ASSERT_EQUAL(std::string("hello over tls"), r.findFrame(Direction::Received, FrameKind::Text)->payload);
			CPPUNIT_ASSERT(r.findFrame(Direction::Received, FrameKind::Binary)->payload == binary);
		}
		// A large message crosses many TLS records both ways.
		const std::string big(300000, 'z');
		session.sendText(big);
		CPPUNIT_ASSERT(r.waitFor([&] {
			for (const FrameRecord& f : r.frames)
				if (f.direction == Direction::Received && f.payload.size() == big.size())
					return true;
			return false;
		}));

		session.ping("rtt");
		CPPUNIT_ASSERT(r.waitFor([&] { return !r.rtts.empty(); }));
		{
			std::lock_guard<std::mutex> lock(r.mutex);
			const FrameRecord* pong = r.findFrame(Direction::Received, FrameKind::Pong);
			CPPUNIT_ASSERT(pong && pong->payload == "rtt");
			CPPUNIT_ASSERT(r.rtts.front().count() >= 0);
		}

		session.close(1000, "bye");
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1000), r.states.back().code);
		const FrameRecord* gotClose = r.findFrame(Direction::Received, FrameKind::Close);
		CPPUNIT_ASSERT(gotClose && gotClose->closeCode == 1000);
		CPPUNIT_ASSERT_MESSAGE(r.errors.empty() ? "" : r.errors.front(), r.errors.empty());
	}

	void testHostNameAndSni()
	{
		// By name: the name goes in SNI and must be in the certificate (DNS:localhost).
		TestCertificate cert;
		TlsEchoServer server(cert);
		expectOpens(tlsTo("wss://localhost:" + std::to_string(server.port()) + "/", cert.certFile()));
	}

	void testUntrustedCertificateRefused()
	{
		TestCertificate cert;
		TlsEchoServer server(cert);
		const std::string url = server.url("/ws");
		CPPUNIT_ASSERT_EQUAL("TLS handshake with " + url + " failed: certificate verify failed (self-signed certificate)",
			failureOf(tlsTo(url)));
		// Another self-signed certificate is no better.
		TestCertificate other;
		CPPUNIT_ASSERT_EQUAL("TLS handshake with " + url + " failed: certificate verify failed (self-signed certificate)",
			failureOf(tlsTo(url, other.certFile())));
	}

	void testInsecureAcceptsAnyCertificate()
	{
		TestCertificate cert("DNS:example.com");
		TlsEchoServer server(cert);
		expectOpens(tlsTo(server.url(), {}, true));
		expectOpens(tlsTo("wss://localhost:" + std::to_string(server.port()) + "/", {}, true));
	}

	void testWrongNameRefused()
	{
		// Trusted, but for another name.
		TestCertificate cert("DNS:example.com");
		TlsEchoServer server(cert);
		const std::string byIp = server.url();
		CPPUNIT_ASSERT_EQUAL("TLS handshake with " + byIp + " failed: certificate verify failed (IP address mismatch)",
			failureOf(tlsTo(byIp, cert.certFile())));
		const std::string byName = "wss://localhost:" + std::to_string(server.port()) + "/";
		CPPUNIT_ASSERT_EQUAL("TLS handshake with " + byName + " failed: certificate verify failed (hostname mismatch)",
			failureOf(tlsTo(byName, cert.certFile())));
	}

	void testBadCaFile()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("cannot load CA file '/nonexistent/ca.pem': No such file or directory"),
			failureOf(tlsTo("wss://127.0.0.1:9/", "/nonexistent/ca.pem")));
		TestCertificate cert;
		CPPUNIT_ASSERT_EQUAL("cannot load CA file '" + cert.keyFile() + "': no certificate or crl found",
			failureOf(tlsTo("wss://127.0.0.1:9/", cert.keyFile())));
	}

	void testWssToPlainPort()
	{
		// The Parley host speaks plain HTTP there: the TLS handshake fails at once, clearly.
		test::ClientTestHost host;
		const std::string url = "wss://127.0.0.1:" + std::to_string(host.port()) + "/ws";
		ConnectOptions o = tlsTo(url, {}, true);
		o.connectTimeoutMs = 3000;
		Clock::duration took{};
		const std::string error = failureOf(o, &took);
		CPPUNIT_ASSERT_MESSAGE(error, error.find("TLS handshake with " + url + " failed: ") == 0);
		CPPUNIT_ASSERT(took < std::chrono::milliseconds(3000 + 2000));
	}

	void testWssToSilentPort()
	{
		// A server that waits for an HTTP request and never answers the ClientHello: the
		// connect timeout ends it.
		test::FakeServer server(test::FakeServer::Mode::Silent);
		const std::string url = "wss://127.0.0.1:" + std::to_string(server.port()) + "/ws";
		ConnectOptions o = tlsTo(url, {}, true);
		o.connectTimeoutMs = 500;
		Clock::duration took{};
		const std::string error = failureOf(o, &took);
		CPPUNIT_ASSERT_EQUAL("TLS handshake with " + url + " failed: no answer within 500 ms", error);
		CPPUNIT_ASSERT(took >= std::chrono::milliseconds(500) && took < std::chrono::milliseconds(500 + 2000));
	}

	void testWsToTlsPort()
	{
		TestCertificate cert;
		TlsEchoServer server(cert);
		const std::string url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/";
		ConnectOptions o = tlsTo(url);
		o.connectTimeoutMs = 3000;
		Clock::duration took{};
		const std::string error = failureOf(o, &took);
		CPPUNIT_ASSERT_MESSAGE(error, error.find("handshake failed: ") == 0);
		CPPUNIT_ASSERT(took < std::chrono::milliseconds(3000 + 2000));
	}

	void testWsAnsweredWithTls()
	{
		// A TLS server that answers plain HTTP with an alert record: the error says so.
		test::FakeServer server(test::FakeServer::Mode::TlsAlert);
		CPPUNIT_ASSERT_EQUAL(std::string("handshake failed: the server answered with TLS (use wss://)"),
			failureOf(tlsTo(server.url())));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(SessionTlsTest, "client");
