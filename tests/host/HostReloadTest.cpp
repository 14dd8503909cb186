//
// HostReloadTest.cpp — the real parley-host binary: SIGHUP reloads the TLS certificate (new
// connections get the renewed one, open ones keep theirs) and the limits that apply live;
// --check-config checks a configuration without binding anything.
//
#include "HostFiles.h"
#include "HostProcess.h"
#include "ProcessRunner.h"
#include "support/TestCertificates.h"
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace parley::test;

class HostReloadTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostReloadTest);
	CPPUNIT_TEST(testSighupReloadsTheCertificate);
	CPPUNIT_TEST(testSighupAppliesLiveLimits);
	CPPUNIT_TEST(testCheckConfigGoodBindsNothing);
	CPPUNIT_TEST(testCheckConfigErrors);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_files = std::make_unique<HostFiles>("reload");
	}

	void tearDown() override
	{
		_files.reset();
	}

	/// The certificate and key files are replaced by a renewed pair (another serial), then
	/// SIGHUP: a new connection sees the new serial, the open one keeps working.
	void testSighupReloadsTheCertificate()
	{
		const TestCertificates& certificates = TestCertificates::get();
		const std::string& dir = _files->dir();
		const std::string cert = dir + "live.pem";
		const std::string key = dir + "live.key";
		copy(certificates.certFile(), cert);
		copy(certificates.keyFile(), key);
		// The renewal: a new key and a certificate from the same CA with serial 0x1092.
		const std::string ca = certificates.dir();
		run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout '" + dir + "new.key' -out '" + dir +
			"new.csr' -subj '/CN=localhost'");
		run("openssl x509 -req -in '" + dir + "new.csr' -CA '" + ca + "ca.pem' -CAkey '" + ca + "ca.key' -set_serial 4242 -out '" +
			dir + "new.pem' -days 2 -extfile '" + ca + "ext.cnf'");

		const std::string file = writeConfig("route./echo = echo\nserver.tls = true\nopenSSL.server.certificateFile = " + cert +
			"\nopenSSL.server.privateKeyFile = " + key + "\n");
		HostProcess host(file);
		WsClient before(host.port, "/echo", 0, certificates.caFile());
		const std::string oldSerial = before.peerSerial();
		CPPUNIT_ASSERT(!oldSerial.empty());
		CPPUNIT_ASSERT(oldSerial != "1092");

		copy(dir + "new.pem", cert);
		copy(dir + "new.key", key);
		host.signal(SIGHUP);
		host.waitFor("TLS reloaded for new connections");
		WsClient after(host.port, "/echo", 0, certificates.caFile());
		CPPUNIT_ASSERT_EQUAL(std::string("1092"), after.peerSerial());
		after.sendText("new certificate");
		CPPUNIT_ASSERT_EQUAL(std::string("new certificate"), after.readFrame().payload);
		// The open connection keeps its session.
		before.sendText("old certificate");
		CPPUNIT_ASSERT_EQUAL(std::string("old certificate"), before.readFrame().payload);
		CPPUNIT_ASSERT_EQUAL(oldSerial, before.peerSerial());

		// A broken renewal (the key does not match) is refused; the running certificate stays.
		copy(certificates.otherKeyFile(), key);
		host.signal(SIGHUP);
		host.waitFor("configuration reload refused");
		WsClient still(host.port, "/echo", 0, certificates.caFile());
		CPPUNIT_ASSERT_EQUAL(std::string("1092"), still.peerSerial());
		host.signal(SIGQUIT);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.runner.output(), 0, host.runner.wait());
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(), host.runner.output().find("openSSL.server.privateKeyFile") != std::string::npos);
	}

	/// engine.max_connections_per_ip and engine.max_connections change with SIGHUP: open
	/// connections stay, new ones meet the new limit (429, then 503); engine.threads is named as
	/// needing a restart.
	void testSighupAppliesLiveLimits()
	{
		const std::string file = writeConfig("route./echo = echo\nengine.threads = 1\n");
		HostProcess host(file);
		WsClient first(host.port, "/echo");
		WsClient second(host.port, "/echo");

		rewrite(file, "route./echo = echo\nengine.threads = 1\nengine.max_connections_per_ip = 2\n");
		host.signal(SIGHUP);
		host.waitFor("configuration reloaded");
		CPPUNIT_ASSERT_EQUAL(429, httpGet(host.port, "/echo", upgradeHeaders()).status);
		first.sendText("still open");
		CPPUNIT_ASSERT_EQUAL(std::string("still open"), first.readFrame().payload);

		rewrite(file, "route./echo = echo\nengine.threads = 2\nengine.max_connections = 2\n");
		host.signal(SIGHUP);
		host.waitFor("need a restart (the running values stay): engine.threads");
		host.waitFor("configuration reloaded");
		CPPUNIT_ASSERT_EQUAL(503, httpGet(host.port, "/echo", upgradeHeaders()).status);
		second.sendText("still open too");
		CPPUNIT_ASSERT_EQUAL(std::string("still open too"), second.readFrame().payload);

		rewrite(file, "route./echo = echo\nengine.threads = 1\n");
		host.signal(SIGHUP);
		host.waitFor("configuration reloaded");
		WsClient third(host.port, "/echo");
		third.sendText("room again");
		CPPUNIT_ASSERT_EQUAL(std::string("room again"), third.readFrame().payload);
		host.signal(SIGQUIT);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.runner.output(), 0, host.runner.wait());
	}

	/// --check-config on a good configuration prints "configuration ok" and exits 0 without
	/// binding: the ports it names are held by the test meanwhile.
	void testCheckConfigGoodBindsNothing()
	{
		Poco::Net::ServerSocket busy(Poco::Net::SocketAddress("127.0.0.1", 0));
		Poco::Net::ServerSocket busyAdmin(Poco::Net::SocketAddress("127.0.0.1", 0));
		const TestCertificates& certificates = TestCertificates::get();
		const std::string file = writeConfig("route./echo = echo\nroute./ws = random-suffix\nroute./ws.gates = jwt\n"
											 "plugin.jwt.secret = 0123456789abcdef0123456789abcdef\nserver.tls = true\n"
											 "openSSL.server.certificateFile = " + certificates.certFile() +
											 "\nopenSSL.server.privateKeyFile = " + certificates.keyFile() + "\n",
			busy.address().port(), busyAdmin.address().port());
		ProcessRunner check(binDir() + "/parley-host", {"--check-config", "--config=" + file}, 60);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(check.output(), 0, check.wait());
		CPPUNIT_ASSERT_MESSAGE(check.output(), check.output().rfind("configuration ok: " + file + " (2 routes, ", 0) == 0);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(check.output(), std::size_t(1), lineCount(check.output()));
	}

	/// Each kind of error: one line naming the key, exit 78 (EX_CONFIG), nothing served.
	void testCheckConfigErrors()
	{
		const TestCertificates& certificates = TestCertificates::get();
		const std::vector<std::pair<std::string, std::string>> cases = {
			{"route./echo = no-such-plugin\n", "route./echo: unknown plugin 'no-such-plugin'"},
			{"route./echo = echo\nengine.max_message_size = lots\n", "engine.max_message_size"},
			{"route./echo = echo\nengine.deflate.levle = 3\n", "engine.deflate.levle"},
			{"route./echo = echo\nroute./echo.gates = echo\n", "route./echo.gates: 'echo' is a responder, not a gate"},
			// The registry refuses the plugin for its settings (its own error line), then the route.
			{"route./echo = echo\nroute./echo.gates = jwt\nplugin.jwt.leeway_s = 30\n", "neither secret"},
			{"route./echo = echo\nroute./echo.gates = jwt\nplugin.jwt.leeway_s = 30\n", "parley-host: route./echo.gates: unknown gate 'jwt'"},
			{"route./echo = echo\nserver.tls = true\nopenSSL.server.certificateFile = /nonexistent/cert.pem\n",
				"openSSL.server.certificateFile: '/nonexistent/cert.pem' does not exist"},
			{"route./echo = echo\nserver.tls = true\nopenSSL.server.certificateFile = " + certificates.certFile() +
					"\nopenSSL.server.privateKeyFile = " + certificates.otherKeyFile() + "\n",
				"openSSL.server.privateKeyFile: the key in"},
			{"route./echo = echo\nserver.address = no.such.host.invalid\n", "server.address: 'no.such.host.invalid'"},
			{"echo = echo\n", "route.*: no route configured"},
			{"route./echo = echo\nlogging.channels.f.class = NoSuchChannel\n", "logging.channels.f.class"},
		};
		for (const auto& entry : cases)
		{
			const std::string file = writeConfig(entry.first);
			ProcessRunner check(binDir() + "/parley-host", {"--check-config", "--config=" + file}, 60);
			const int code = check.wait();
			const std::string& out = check.output();
			CPPUNIT_ASSERT_EQUAL_MESSAGE(entry.first + out, 78, code);
			CPPUNIT_ASSERT_MESSAGE(entry.second + " missing in: " + out, out.find(entry.second) != std::string::npos);
			const bool pluginRefused = entry.first.find("plugin.jwt") != std::string::npos;
			CPPUNIT_ASSERT_MESSAGE(out, out.rfind("parley-host: ", 0) == 0 || pluginRefused);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(out, std::size_t(pluginRefused ? 2 : 1), lineCount(out));
		}
	}

private:
	/// Headers that make httpGet an upgrade request.
	static std::string upgradeHeaders()
	{
		return "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			   "Sec-WebSocket-Version: 13\r\n";
	}

	static std::size_t lineCount(const std::string& text)
	{
		std::size_t n = 0;
		for (char c : text) n += c == '\n';
		return n;
	}

	static void copy(const std::string& from, const std::string& to)
	{
		std::ifstream in(from, std::ios::binary);
		std::ofstream out(to, std::ios::binary | std::ios::trunc);
		out << in.rdbuf();
		CPPUNIT_ASSERT_MESSAGE("cannot copy " + from + " to " + to, in && out);
	}

	static void run(const std::string& command)
	{
		CPPUNIT_ASSERT_EQUAL_MESSAGE(command, 0, std::system((command + " >/dev/null 2>&1").c_str()));
	}

	/// A configuration file on the given ports (0: free ones) with the build's plugins.
	std::string writeConfig(const std::string& body, std::uint16_t port = 0, std::uint16_t adminPort = 0)
	{
		return _files->write(header(port, adminPort) + body);
	}

	/// Replaces a configuration file's body (for SIGHUP).
	static void rewrite(const std::string& path, const std::string& body)
	{
		std::ofstream out(path, std::ios::trunc);
		out << header(0, 0) << body;
	}

	static std::string header(std::uint16_t port, std::uint16_t adminPort)
	{
		return "server.address = 127.0.0.1\nserver.port = " + std::to_string(port) + "\nadmin.port = " + std::to_string(adminPort) +
			"\nplugins.watch = false\nplugins.dir = " + pluginDir() + "\n";
	}

	std::unique_ptr<HostFiles> _files;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostReloadTest, "host");
