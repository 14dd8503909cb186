//
// HostTlsTest.cpp — wss:// on the public port: OpenSSL inside the event loops, certificates made
// at test time, our own TLS client, python3-websockets, python3-websocket and Node's ws.
//
#include "HostTestSupport.h"
#include "ProcessRunner.h"
#include "support/TestCertificates.h"
#include <Poco/File.h>
#include <Poco/TemporaryFile.h>
#include <chrono>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <fstream>
#include <thread>

using namespace parley::test;

namespace {

void useTls(parley::HostConfig& config)
{
	const TestCertificates& certificates = TestCertificates::get();
	config.tls.enabled = true;
	config.tls.certificateFile = certificates.certFile();
	config.tls.privateKeyFile = certificates.keyFile();
}

std::string ca()
{
	return TestCertificates::get().caFile();
}

} // namespace

class HostTlsTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostTlsTest);
	CPPUNIT_TEST(testEchoAndCloseOverTls);
	CPPUNIT_TEST(testFramesSplitAcrossRecordsAndManyInOne);
	CPPUNIT_TEST(testLargeMessagesAndSlowReader);
	CPPUNIT_TEST(testHttpRefusalsOverTls);
	CPPUNIT_TEST(testClientGoneMidHandshake);
	CPPUNIT_TEST(testSilentClientCutAtTheDeadline);
	CPPUNIT_TEST(testPlainHttpToTheTlsPort);
	CPPUNIT_TEST(testTls12AndOlderVersions);
	CPPUNIT_TEST(testSessionTicketsOnlyWhenAsked);
	CPPUNIT_TEST(testBadCertificateOrKeyAtStartup);
	CPPUNIT_TEST(testParleyClient10000);
	CPPUNIT_TEST(testPythonClients);
	CPPUNIT_TEST(testNodeWs);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override { _host = std::make_unique<TestHost>(useTls); }
	void tearDown() override { _host.reset(); }

	void testEchoAndCloseOverTls()
	{
		WsClient c(_host->port(), "/echo", 0, ca());
		CPPUNIT_ASSERT_EQUAL(std::string("TLSv1.3"), c.tlsVersion());
		c.sendText("over tls");
		CPPUNIT_ASSERT_EQUAL(std::string("over tls"), c.readFrame().payload);
		c.sendBinary(std::string("\x00\xff\x10", 3));
		Frame f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(OpBinary), f.opcode);
		CPPUNIT_ASSERT_EQUAL(std::string("\x00\xff\x10", 3), f.payload);
		c.send(frame(OpPing, "tls ping"));
		f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(OpPong), f.opcode);
		CPPUNIT_ASSERT_EQUAL(std::string("tls ping"), f.payload);
		WsClient r(_host->port(), "/ws", 0, ca());
		r.sendText("suffix");
		CPPUNIT_ASSERT(isRandomSuffixReply(r.readFrame().payload, "suffix"));
		c.send(closeFrame(1000, "bye"));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1000), c.readClose().closeCode());
		CPPUNIT_ASSERT(c.readEof());
	}

	void testFramesSplitAcrossRecordsAndManyInOne()
	{
		WsClient c(_host->port(), "/echo", 0, ca());
		// One frame in three TLS records, with pauses: the host gathers it across reads.
		const std::string f = frame(OpText, "split across three records");
		c.send(f.substr(0, 1));
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
		c.send(f.substr(1, 9));
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
		c.send(f.substr(10));
		CPPUNIT_ASSERT_EQUAL(std::string("split across three records"), c.readFrame().payload);
		// 300 frames in one record, then 300 in records cut at odd places: replies in order.
		std::string burst;
		for (int i = 0; i < 600; ++i) burst += frame(OpText, "m" + std::to_string(i));
		const std::size_t half = burst.size() / 2;
		c.send(burst.substr(0, half));
		for (std::size_t at = half; at < burst.size(); at += 37) c.send(burst.substr(at, 37));
		for (int i = 0; i < 600; ++i) CPPUNIT_ASSERT_EQUAL("m" + std::to_string(i), c.readFrame().payload);
	}

	void testLargeMessagesAndSlowReader()
	{
		// 4 MiB messages: many records each way; the reader starts late, so the host's TLS writes
		// come up short and resume from its output buffer.
		WsClient c(_host->port(), "/echo", 8192, ca());
		std::string big(4u << 20, 'z');
		for (std::size_t i = 0; i < big.size(); i += 4093) big[i] = static_cast<char>('a' + i % 26);
		std::thread writer([&c, &big] {
			for (int i = 0; i < 3; ++i) c.send(frame(OpBinary, big));
		});
		std::this_thread::sleep_for(std::chrono::milliseconds(300));
		for (int i = 0; i < 3; ++i) CPPUNIT_ASSERT(c.readFrame().payload == big);
		writer.join();
		c.sendText("after");
		CPPUNIT_ASSERT_EQUAL(std::string("after"), c.readFrame().payload);
	}

	void testHttpRefusalsOverTls()
	{
		HttpAnswer a = httpRequest(_host->port(), upgradeRequest("/nothing"), ca());
		CPPUNIT_ASSERT_EQUAL(404, a.status);
		a = httpRequest(_host->port(), httpGetRequest("/ws"), ca());
		CPPUNIT_ASSERT_EQUAL(426, a.status);
		RawSocket s(_host->port());
		s.startTls(ca());
		s.send("GET /ws HTTP/1.1\r\n\r\n");
		const std::string head = s.readHead();
		CPPUNIT_ASSERT_MESSAGE(head, head.compare(0, 12, "HTTP/1.1 400") == 0);
		const std::size_t length = std::stoul(head.substr(head.find("Content-Length: ") + 16));
		s.readExactly(length);
		CPPUNIT_ASSERT(s.readEof());
	}

	void testClientGoneMidHandshake()
	{
		// A ClientHello cut short, then TCP ends; and a client that resets right after connecting.
		for (int round = 0; round < 2; ++round)
		{
			RawSocket s(_host->port());
			if (round == 0) s.send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
		}
		{
			RawSocket s(_host->port());
			linger lg{1, 0};
			::setsockopt(s.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		CPPUNIT_ASSERT(eventually([this] { return _host->server().metrics().tlsFailures >= 2; }));
		CPPUNIT_ASSERT(eventually([this] { return _host->server().metrics().handshakes == 0; }));
		WsClient c(_host->port(), "/echo", 0, ca());
		c.sendText("still fine");
		CPPUNIT_ASSERT_EQUAL(std::string("still fine"), c.readFrame().payload);
	}

	void testSilentClientCutAtTheDeadline()
	{
		// The TLS handshake counts against the handshake deadline, like the request head.
		_host = std::make_unique<TestHost>([](parley::HostConfig& config) {
			useTls(config);
			config.engine.handshakeTimeoutMs = 600;
		});
		RawSocket silent(_host->port());
		RawSocket slowHello(_host->port());
		slowHello.send(std::string("\x16\x03\x01", 3));
		const auto start = std::chrono::steady_clock::now();
		CPPUNIT_ASSERT(silent.readEof());
		CPPUNIT_ASSERT(slowHello.readEof());
		const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
		CPPUNIT_ASSERT_MESSAGE(std::to_string(took), took >= 0.4 && took < 5.0);
		CPPUNIT_ASSERT(eventually([this] { return _host->server().metrics().handshakeTimeouts == 2; }));
		// A TLS client that completes in time (the deadline then covers the head, too).
		WsClient c(_host->port(), "/echo", 0, ca());
		c.sendText("in time");
		CPPUNIT_ASSERT_EQUAL(std::string("in time"), c.readFrame().payload);
	}

	void testPlainHttpToTheTlsPort()
	{
		RawSocket plain(_host->port());
		plain.send(upgradeRequest("/echo"));
		// Closed without an answer: no HTTP (the client would read it as plain text) and no crash.
		CPPUNIT_ASSERT(plain.readEof());
		CPPUNIT_ASSERT(eventually([this] { return _host->server().metrics().tlsFailures == 1; }));
		WsClient c(_host->port(), "/echo", 0, ca());
		c.sendText("tls still works");
		CPPUNIT_ASSERT_EQUAL(std::string("tls still works"), c.readFrame().payload);
	}

	void testTls12AndOlderVersions()
	{
		// TLS 1.2 is served; TLS 1.1 is refused by the default openSSL.server.requireTLSv1_2.
		for (int version : {TLS1_2_VERSION, TLS1_1_VERSION})
		{
			RawSocket s(_host->port());
			SSL_CTX* context = SSL_CTX_new(TLS_client_method());
			SSL_CTX_set_min_proto_version(context, version);
			SSL_CTX_set_max_proto_version(context, version);
			SSL_CTX_set_security_level(context, 0);
			SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
			SSL* ssl = SSL_new(context);
			SSL_set_fd(ssl, s.fd());
			const int rc = SSL_connect(ssl);
			ERR_clear_error();
			if (version == TLS1_2_VERSION)
			{
				CPPUNIT_ASSERT_EQUAL(1, rc);
				CPPUNIT_ASSERT_EQUAL(std::string("TLSv1.2"), std::string(SSL_get_version(ssl)));
				const std::string request = upgradeRequest("/echo");
				CPPUNIT_ASSERT(SSL_write(ssl, request.data(), static_cast<int>(request.size())) > 0);
				char buffer[256];
				const int n = SSL_read(ssl, buffer, sizeof(buffer));
				CPPUNIT_ASSERT(n > 12 && std::string(buffer, 12) == "HTTP/1.1 101");
			}
			else
			{
				CPPUNIT_ASSERT(rc != 1);
			}
			SSL_free(ssl);
			SSL_CTX_free(context);
		}
	}

	void testSessionTicketsOnlyWhenAsked()
	{
		// A second connection offers the first one's session: resumed only with sessionTickets.
		for (bool tickets : {false, true})
		{
			_host = std::make_unique<TestHost>([tickets](parley::HostConfig& config) {
				useTls(config);
				config.tls.sessionTickets = tickets;
			});
			SSL_CTX* context = SSL_CTX_new(TLS_client_method());
			SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
			SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_CLIENT);
			SSL_SESSION* session = nullptr;
			bool reused = false;
			for (int round = 0; round < 2; ++round)
			{
				RawSocket s(_host->port());
				SSL* ssl = SSL_new(context);
				SSL_set_fd(ssl, s.fd());
				if (session) SSL_set_session(ssl, session);
				CPPUNIT_ASSERT_EQUAL(1, SSL_connect(ssl));
				const std::string request = upgradeRequest("/echo");
				SSL_write(ssl, request.data(), static_cast<int>(request.size()));
				char buffer[512];
				CPPUNIT_ASSERT(SSL_read(ssl, buffer, sizeof(buffer)) > 0); // (TLS 1.3 tickets come after the handshake)
				if (round == 1) reused = SSL_session_reused(ssl) == 1;
				if (!session) session = SSL_get1_session(ssl);
				SSL_shutdown(ssl); // (a session whose connection was not shut down is not resumed)
				SSL_free(ssl);
			}
			SSL_SESSION_free(session);
			SSL_CTX_free(context);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(tickets ? "tickets on" : "tickets off", tickets, reused);
		}
	}

	void testBadCertificateOrKeyAtStartup()
	{
		const TestCertificates& certificates = TestCertificates::get();
		struct Case
		{
			std::string certificate, key, expect;
		};
		const std::vector<Case> cases{
			{"/no/such/cert.pem", certificates.keyFile(), "openSSL.server.certificateFile: '/no/such/cert.pem' does not exist"},
			{certificates.certFile(), "/no/such/key.pem", "openSSL.server.privateKeyFile: '/no/such/key.pem' does not exist"},
			{certificates.garbageFile(), certificates.keyFile(), "openSSL.server.certificateFile: cannot load a PEM certificate"},
			{certificates.certFile(), certificates.garbageFile(), "openSSL.server.privateKeyFile: cannot load a PEM private key"},
			{certificates.certFile(), certificates.otherKeyFile(), "openSSL.server.privateKeyFile: the key in"},
			{certificates.certFile(), "", "openSSL.server.certificateFile: cannot load a PEM private key"},
		};
		for (const Case& c : cases)
		{
			try
			{
				TestHost bad([&c](parley::HostConfig& config) {
					useTls(config);
					config.tls.certificateFile = c.certificate;
					config.tls.privateKeyFile = c.key;
				});
				CPPUNIT_FAIL("started with a bad certificate or key: " + c.expect);
			}
			catch (const parley::ConfigError& e)
			{
				const std::string what = e.what();
				CPPUNIT_ASSERT_MESSAGE(what, what.find(c.expect) == 0);
				CPPUNIT_ASSERT_MESSAGE(what, what.find('\n') == std::string::npos);
			}
		}
		// The binary: one line naming the key, a non-zero exit, nothing served.
		Poco::TemporaryFile config;
		{
			std::ofstream out(config.path());
			out << "server.port = 0\nadmin.port = 0\nplugins.dir = " << pluginDir() << "\nroute./echo = echo\n"
				<< "server.tls = true\nopenSSL.server.certificateFile = " << certificates.certFile()
				<< "\nopenSSL.server.privateKeyFile = " << certificates.otherKeyFile() << "\n";
		}
		ProcessRunner host(binDir() + "/parley-host", {"--config=" + config.path()}, 60);
		const int code = host.wait();
		CPPUNIT_ASSERT_MESSAGE(host.output(), code != 0);
		CPPUNIT_ASSERT_MESSAGE(host.output(), host.output().find("parley-host: ") == 0);
		CPPUNIT_ASSERT_MESSAGE(host.output(), host.output().find("openSSL.server.privateKeyFile") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.output(), host.output().size() - 1, host.output().find('\n'));
	}

	void testParleyClient10000()
	{
		// The console client over wss://, trusting the test CA: every reply verified.
		const std::string url = "wss://127.0.0.1:" + std::to_string(_host->port());
		for (const std::vector<std::string>& args :
			{std::vector<std::string>{"--url=" + url + "/ws", "--ca=" + ca(), "--count=10000", "--expect=random-suffix"},
				std::vector<std::string>{"--url=" + url + "/echo", "--ca=" + ca(), "--count=10000", "--conns=4", "--window=256",
					"--size=3000", "--expect=echo"}})
		{
			ProcessRunner client(binDir() + "/parley-client", args, 120);
			const int code = client.wait();
			CPPUNIT_ASSERT_EQUAL_MESSAGE(client.output(), 0, code);
			CPPUNIT_ASSERT_MESSAGE(client.output(), client.output().find("verified=10000 mismatched=0 missing=0") != std::string::npos);
		}
		// Without the CA the certificate cannot be verified: one line, nothing sent.
		ProcessRunner untrusting(binDir() + "/parley-client", {"--url=" + url + "/ws", "--count=10"}, 60);
		CPPUNIT_ASSERT(untrusting.wait() != 0);
		CPPUNIT_ASSERT_MESSAGE(untrusting.output(), untrusting.output().find("certificate verify failed") != std::string::npos);
	}

	void testPythonClients()
	{
		ProcessRunner python(parley::test::python(),
			{sourceDir() + "/tests/host/py/tls_clients.py", std::to_string(_host->port()), ca(), "500"}, 120);
		const int code = python.wait();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(python.output(), 0, code);
		CPPUNIT_ASSERT_MESSAGE(python.output(), python.output().find("all tls checks passed") != std::string::npos);
	}

	void testNodeWs()
	{
		if (!onPath("node") || !onPath("npm"))
		{
			std::cout << " [skipped: node or npm is not installed] ";
			return;
		}
		const std::string dir = nodeTestDir("tls_client.js");
		ProcessRunner node("node", {dir + "/tls_client.js", std::to_string(_host->port()), ca(), "500"}, 120);
		const int code = node.wait();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(node.output(), 0, code);
		CPPUNIT_ASSERT_MESSAGE(node.output(), node.output().find("all tls checks passed") != std::string::npos);
	}

private:
	std::unique_ptr<TestHost> _host;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostTlsTest, "host");
