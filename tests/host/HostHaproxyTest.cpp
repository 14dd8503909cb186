//
// HostHaproxyTest.cpp — three real parley-host processes behind Debian's haproxy running the
// examples of etc/haproxy/ themselves (their ports, paths and check intervals replaced): the
// hosts' configurations are etc/haproxy/host.properties and host-tls.properties. leastconn spreads
// the connections evenly; a draining host leaves HAProxy's pool (its /health answers 503) before
// it sends its clients 1001, and they reconnect to the others; TLS ends at HAProxy (parley.cfg,
// mode http) or at the hosts (parley-passthrough.cfg, mode tcp); the PROXY v2 header gives the
// hosts the client's address and port.
//
#include "Haproxy.h"
#include "HostFiles.h"
#include "HostProcess.h"
#include "support/TestCertificates.h"
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <memory>
#include <poll.h>
#include <string>
#include <vector>

using namespace parley::test;

class HostHaproxyTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostHaproxyTest);
	CPPUNIT_TEST(testLeastconnSpreadsConnections);
	CPPUNIT_TEST(testDrainingHostLeavesThePoolBeforeItsClientsClose);
	CPPUNIT_TEST(testTlsTerminatedByHaproxy);
	CPPUNIT_TEST(testTlsPassthroughToHosts);
	CPPUNIT_TEST(testProxyV2GivesTheClientsAddress);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override { _files = std::make_unique<HostFiles>("haproxy"); }

	void tearDown() override
	{
		for (auto& host : _hosts)
		{
			if (!host) continue;
			::kill(host->runner.pid(), SIGKILL);
			host->runner.wait();
		}
		_hosts.clear();
		_files.reset();
	}

	/// 30 WebSockets opened one after the other through HAProxy's ws:// frontend land 10 on each
	/// host (balance leastconn), as the hosts' /health and HAProxy's statistics both count; each
	/// one echoes.
	void testLeastconnSpreadsConnections()
	{
		if (!debianToolOrSkip("haproxy", "haproxy")) return;
		startHosts(false);
		Haproxy haproxy("parley.cfg", backends(), checkEdits(), _files->dir());
		waitAllUp(haproxy, "parley_hosts");
		std::vector<std::unique_ptr<WsClient>> clients = openClients(haproxy.plainPort(), 30);
		CPPUNIT_ASSERT(eventually([this] { return connections(0) + connections(1) + connections(2) == 30; }));
		const auto stats = haproxy.stats();
		for (int i = 0; i < 3; ++i)
		{
			const int atHost = connections(i);
			const int atHaproxy = stats.at("parley_hosts/host" + std::to_string(i + 1)).sessions;
			CPPUNIT_ASSERT_MESSAGE("host " + std::to_string(i + 1) + " has " + std::to_string(atHost), atHost >= 9 && atHost <= 11);
			CPPUNIT_ASSERT_EQUAL(atHost, atHaproxy);
		}
		for (std::size_t i = 0; i < clients.size(); ++i) echoes(*clients[i], "again " + std::to_string(i));
	}

	/// SIGTERM to one of three hosts with 30 clients: clients that come before HAProxy notices are
	/// sent to another host; HAProxy marks it DOWN (its /health answers 503) while it still serves
	/// (engine.drain_delay_ms) — no client has anything to read yet;
	/// new connections go to the other two only; then its clients, and only they, get 1001 and
	/// reconnect through HAProxy to the others; the drained host exits 0.
	void testDrainingHostLeavesThePoolBeforeItsClientsClose()
	{
		if (!debianToolOrSkip("haproxy", "haproxy")) return;
		startHosts(false);
		Haproxy haproxy("parley.cfg", backends(), checkEdits(), _files->dir());
		waitAllUp(haproxy, "parley_hosts");
		std::vector<std::unique_ptr<WsClient>> clients = openClients(haproxy.plainPort(), 30);
		CPPUNIT_ASSERT(eventually([this] { return connections(0) + connections(1) + connections(2) == 30; }));
		const int onFirst = connections(0);
		CPPUNIT_ASSERT(onFirst >= 9);

		_hosts[0]->signal(SIGTERM);
		_hosts[0]->waitFor("draining:");
		// Before HAProxy notices, the draining host refuses new connections: HAProxy retries them
		// on another host (option redispatch), so they all succeed.
		std::vector<std::unique_ptr<WsClient>> early = openClients(haproxy.plainPort(), 3);
		const Haproxy::ServerStats down = haproxy.waitForStatus("parley_hosts/host1", "DOWN");
		CPPUNIT_ASSERT_EQUAL_MESSAGE("a client was sent something (its 1001?) before HAProxy took its host out",
			std::size_t(0), readable(clients, {}, 0).size());

		// New clients go to the two others only (HAProxy's count of host1's sessions stays put).
		std::vector<std::unique_ptr<WsClient>> late = openClients(haproxy.plainPort(), 20);
		CPPUNIT_ASSERT(eventually([this, onFirst] { return connections(1) + connections(2) == 30 - onFirst + 23; }));
		CPPUNIT_ASSERT_EQUAL(down.total, haproxy.server("parley_hosts/host1").total);

		// After the delay the draining host's clients, and only they, get 1001.
		std::vector<std::size_t> closed;
		const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
		while (static_cast<int>(closed.size()) < onFirst && std::chrono::steady_clock::now() < deadline)
		{
			for (std::size_t i : readable(clients, closed, 200))
			{
				const Frame f = clients[i]->readFrame();
				CPPUNIT_ASSERT_EQUAL_MESSAGE("client " + std::to_string(i), int(OpClose), int(f.opcode));
				CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), f.closeCode());
				clients[i]->send(closeFrame(1001));
				CPPUNIT_ASSERT(clients[i]->readEof());
				closed.push_back(i);
			}
		}
		CPPUNIT_ASSERT_EQUAL(onFirst, static_cast<int>(closed.size()));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(_hosts[0]->runner.output(), 0, _hosts[0]->runner.wait());
		CPPUNIT_ASSERT_MESSAGE(_hosts[0]->runner.output(),
			_hosts[0]->runner.output().find("drained " + std::to_string(onFirst) + " connections in ") != std::string::npos);
		_hosts[0].reset();

		// They reconnect through HAProxy to the two others; everyone is served.
		for (std::size_t i : closed) clients[i] = std::make_unique<WsClient>(haproxy.plainPort(), "/echo");
		CPPUNIT_ASSERT(eventually([this] { return connections(1) + connections(2) == 53; }));
		for (std::size_t i = 0; i < clients.size(); ++i) echoes(*clients[i], "after " + std::to_string(i));
		for (std::size_t i = 0; i < late.size(); ++i) echoes(*late[i], "late " + std::to_string(i));
		for (std::size_t i = 0; i < early.size(); ++i) echoes(*early[i], "early " + std::to_string(i));
	}

	/// wss:// to HAProxy (its certificate: cert and key in one PEM), plain ws:// to the hosts: the
	/// client verifies HAProxy's certificate, the hosts see no TLS (whoami says "tls":false).
	void testTlsTerminatedByHaproxy()
	{
		if (!debianToolOrSkip("haproxy", "haproxy")) return;
		const TestCertificates& certificates = TestCertificates::get();
		startHosts(false);
		Haproxy haproxy("parley.cfg", backends(), checkEdits(), _files->dir());
		waitAllUp(haproxy, "parley_hosts");
		std::vector<std::unique_ptr<WsClient>> clients;
		for (int i = 0; i < 6; ++i)
		{
			clients.push_back(std::make_unique<WsClient>(haproxy.tlsPort(), "/whoami", 0, certificates.caFile()));
			CPPUNIT_ASSERT(!clients.back()->tlsVersion().empty());
			clients.back()->sendText("who " + std::to_string(i));
			const std::string reply = clients.back()->readFrame().payload;
			CPPUNIT_ASSERT_MESSAGE(reply, reply.find("\"tls\":false") != std::string::npos);
			CPPUNIT_ASSERT_MESSAGE(reply, reply.find("\"message\":\"who " + std::to_string(i) + "\"") != std::string::npos);
		}
		CPPUNIT_ASSERT(eventually([this] { return connections(0) == 2 && connections(1) == 2 && connections(2) == 2; }));
	}

	/// parley-passthrough.cfg: HAProxy in mode tcp, the hosts terminate TLS with their own
	/// certificate (the client sees the host's certificate; whoami says "tls":true), and their
	/// health is still checked over plain HTTP on the operator port.
	void testTlsPassthroughToHosts()
	{
		if (!debianToolOrSkip("haproxy", "haproxy")) return;
		const TestCertificates& certificates = TestCertificates::get();
		startHosts(true);
		Haproxy haproxy("parley-passthrough.cfg", backends(), checkEdits(), _files->dir());
		waitAllUp(haproxy, "parley_tls_hosts");
		std::vector<std::unique_ptr<WsClient>> clients;
		for (int i = 0; i < 6; ++i)
		{
			clients.push_back(std::make_unique<WsClient>(haproxy.tlsPort(), "/whoami", 0, certificates.caFile()));
			clients.back()->sendText("who " + std::to_string(i));
			const std::string reply = clients.back()->readFrame().payload;
			CPPUNIT_ASSERT_MESSAGE(reply, reply.find("\"tls\":true") != std::string::npos);
			CPPUNIT_ASSERT_MESSAGE(reply, reply.find("\"remote_port\":" + std::to_string(localPort(*clients.back()))) != std::string::npos);
		}
		CPPUNIT_ASSERT(eventually([this] { return connections(0) == 2 && connections(1) == 2 && connections(2) == 2; }));
		const auto stats = haproxy.stats();
		for (int i = 1; i <= 3; ++i) CPPUNIT_ASSERT_EQUAL(2, stats.at("parley_tls_hosts/host" + std::to_string(i)).sessions);
	}

	/// send-proxy-v2: whoami on the host reports the client's own address and port (127.0.0.1 and
	/// the client socket's local port), not those of HAProxy's connection to the host.
	void testProxyV2GivesTheClientsAddress()
	{
		if (!debianToolOrSkip("haproxy", "haproxy")) return;
		startHosts(false);
		Haproxy haproxy("parley.cfg", backends(), checkEdits(), _files->dir());
		waitAllUp(haproxy, "parley_hosts");
		for (int i = 0; i < 6; ++i)
		{
			WsClient client(haproxy.plainPort(), "/whoami");
			client.sendText("who");
			const std::string reply = client.readFrame().payload;
			CPPUNIT_ASSERT_MESSAGE(reply, reply.find("\"remote_address\":\"127.0.0.1\"") != std::string::npos);
			CPPUNIT_ASSERT_MESSAGE("client port " + std::to_string(localPort(client)) + ": " + reply,
				reply.find("\"remote_port\":" + std::to_string(localPort(client)) + ",") != std::string::npos);
		}
	}

private:
	/// The test's changes to the examples of etc/haproxy/: health checks every 200 ms (100 ms when
	/// a host is going down), so that a draining host is out within about 300 ms.
	static std::vector<Edit> checkEdits()
	{
		return {{"default-server check inter 2s fastinter 500ms downinter 2s fall 2 rise 2",
			"default-server check inter 200ms fastinter 100ms downinter 200ms fall 2 rise 2"}};
	}

	/// Starts three hosts from etc/haproxy/host.properties (host-tls.properties if `tls`) on free
	/// ports, with the real plugins, a drain delay of 2 s (above the checks' 300 ms with a margin
	/// for a loaded machine) and the test certificates.
	void startHosts(bool tls)
	{
		const TestCertificates& certificates = TestCertificates::get();
		std::vector<Edit> edits = {{"engine.drain_delay_ms = 4000", "engine.drain_delay_ms = 2000"}};
		if (tls)
		{
			edits.push_back({"tls/cert.pem", certificates.certFile()});
			edits.push_back({"tls/key.pem", certificates.keyFile()});
		}
		const std::string text = exampleText(tls ? "etc/haproxy/host-tls.properties" : "etc/haproxy/host.properties", edits) +
			"\n# the test's\nserver.port = 0\nadmin.port = 0\nplugins.watch = false\nplugins.dir = " + pluginDir() + "\n";
		const std::string config = _files->write(text);
		for (int i = 0; i < 3; ++i) _hosts.push_back(std::make_unique<HostProcess>(config, 120));
	}

	std::vector<Haproxy::Backend> backends() const
	{
		std::vector<Haproxy::Backend> result;
		for (const auto& host : _hosts) result.push_back({host->port, host->adminPort});
		return result;
	}

	static void waitAllUp(const Haproxy& haproxy, const std::string& backend)
	{
		for (int i = 1; i <= 3; ++i) haproxy.waitForStatus(backend + "/host" + std::to_string(i), "UP");
	}

	/// The open connections of host `i` as its /health counts them.
	int connections(std::size_t i) const
	{
		const HttpAnswer health = httpGet(_hosts[i]->adminPort, "/health");
		const std::string key = "\"connections\":";
		const std::size_t at = health.body.find(key);
		CPPUNIT_ASSERT_MESSAGE(health.body, at != std::string::npos);
		return std::stoi(health.body.substr(at + key.size()));
	}

	/// Opens `n` WebSockets on /echo through `port`, one after the other, each checked by an echo.
	static std::vector<std::unique_ptr<WsClient>> openClients(std::uint16_t port, int n)
	{
		std::vector<std::unique_ptr<WsClient>> clients;
		for (int i = 0; i < n; ++i)
		{
			clients.push_back(std::make_unique<WsClient>(port, "/echo"));
			echoes(*clients.back(), "hello " + std::to_string(i));
		}
		return clients;
	}

	static void echoes(WsClient& client, const std::string& text)
	{
		client.sendText(text);
		const Frame f = client.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpText), int(f.opcode));
		CPPUNIT_ASSERT_EQUAL(text, f.payload);
	}

	/// The indexes of the clients, but those in `except`, with bytes to read within `ms` milliseconds.
	static std::vector<std::size_t> readable(const std::vector<std::unique_ptr<WsClient>>& clients,
		const std::vector<std::size_t>& except, int ms)
	{
		std::vector<pollfd> fds;
		for (std::size_t i = 0; i < clients.size(); ++i)
		{
			const bool skip = std::find(except.begin(), except.end(), i) != except.end();
			fds.push_back({skip ? -1 : clients[i]->fd(), POLLIN, 0});
		}
		std::vector<std::size_t> result;
		if (::poll(fds.data(), fds.size(), ms) <= 0) return result;
		for (std::size_t i = 0; i < fds.size(); ++i)
			if (fds[i].revents != 0) result.push_back(i);
		return result;
	}

	/// The local port of the client's socket (the port HAProxy sees it from).
	static std::uint16_t localPort(const RawSocket& socket)
	{
		sockaddr_in address{};
		socklen_t length = sizeof(address);
		::getsockname(socket.fd(), reinterpret_cast<sockaddr*>(&address), &length);
		return ntohs(address.sin_port);
	}

	std::unique_ptr<HostFiles> _files;
	std::vector<std::unique_ptr<HostProcess>> _hosts;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostHaproxyTest, "host");
