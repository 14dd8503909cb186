//
// HostHaproxyTest.cpp — three real parley-host processes behind Debian's haproxy running the
// examples of etc/haproxy/ themselves (their ports, paths and check intervals replaced): the
// hosts' configurations are etc/haproxy/host.properties and host-tls.properties. leastconn spreads
// the connections evenly; a draining host leaves HAProxy's pool (its /health answers 503) before
// it sends its clients 1001, and they reconnect to the others; TLS ends at HAProxy (parley.cfg,
// mode http) or at the hosts (parley-passthrough.cfg, mode tcp); the PROXY v2 header gives the
// hosts the client's address and port.
//
#include "HaproxyHosts.h"
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
	void setUp() override { _farm = std::make_unique<HaproxyHosts>("haproxy"); }

	void tearDown() override { _farm.reset(); }

	/// 30 WebSockets opened one after the other through HAProxy's ws:// frontend land 10 on each
	/// host (balance leastconn), as the hosts' /health and HAProxy's statistics both count; each
	/// one echoes.
	void testLeastconnSpreadsConnections()
	{
		if (!debianToolOrSkip("haproxy", "haproxy")) return;
		_farm->start(false);
		Haproxy haproxy("parley.cfg", _farm->backends(), HaproxyHosts::checkEdits(), _farm->dir());
		HaproxyHosts::waitAllUp(haproxy, "parley_hosts");
		std::vector<std::unique_ptr<WsClient>> clients = openClients(haproxy.plainPort(), 30);
		CPPUNIT_ASSERT(eventually([this] { return _farm->connections(0) + _farm->connections(1) + _farm->connections(2) == 30; }));
		const auto stats = haproxy.stats();
		for (int i = 0; i < 3; ++i)
		{
			const int atHost = _farm->connections(i);
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
		_farm->start(false);
		Haproxy haproxy("parley.cfg", _farm->backends(), HaproxyHosts::checkEdits(), _farm->dir());
		HaproxyHosts::waitAllUp(haproxy, "parley_hosts");
		std::vector<std::unique_ptr<WsClient>> clients = openClients(haproxy.plainPort(), 30);
		CPPUNIT_ASSERT(eventually([this] { return _farm->connections(0) + _farm->connections(1) + _farm->connections(2) == 30; }));
		const int onFirst = _farm->connections(0);
		CPPUNIT_ASSERT(onFirst >= 9);

		_farm->hosts[0]->signal(SIGTERM);
		_farm->hosts[0]->waitFor("draining:");
		// Before HAProxy notices, the draining host refuses new connections: HAProxy retries them
		// on another host (option redispatch), so they all succeed.
		std::vector<std::unique_ptr<WsClient>> early = openClients(haproxy.plainPort(), 3);
		const Haproxy::ServerStats down = haproxy.waitForStatus("parley_hosts/host1", "DOWN");
		CPPUNIT_ASSERT_EQUAL_MESSAGE("a client was sent something (its 1001?) before HAProxy took its host out",
			std::size_t(0), readable(clients, {}, 0).size());

		// New clients go to the two others only (HAProxy's count of host1's sessions stays put).
		std::vector<std::unique_ptr<WsClient>> late = openClients(haproxy.plainPort(), 20);
		CPPUNIT_ASSERT(eventually([this, onFirst] { return _farm->connections(1) + _farm->connections(2) == 30 - onFirst + 23; }));
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
		CPPUNIT_ASSERT_EQUAL_MESSAGE(_farm->hosts[0]->runner.output(), 0, _farm->hosts[0]->runner.wait());
		CPPUNIT_ASSERT_MESSAGE(_farm->hosts[0]->runner.output(),
			_farm->hosts[0]->runner.output().find("drained " + std::to_string(onFirst) + " connections in ") != std::string::npos);
		_farm->hosts[0].reset();

		// They reconnect through HAProxy to the two others; everyone is served.
		for (std::size_t i : closed) clients[i] = std::make_unique<WsClient>(haproxy.plainPort(), "/echo");
		CPPUNIT_ASSERT(eventually([this] { return _farm->connections(1) + _farm->connections(2) == 53; }));
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
		_farm->start(false);
		Haproxy haproxy("parley.cfg", _farm->backends(), HaproxyHosts::checkEdits(), _farm->dir());
		HaproxyHosts::waitAllUp(haproxy, "parley_hosts");
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
		CPPUNIT_ASSERT(eventually([this] { return _farm->connections(0) == 2 && _farm->connections(1) == 2 && _farm->connections(2) == 2; }));
	}

	/// parley-passthrough.cfg: HAProxy in mode tcp, the hosts terminate TLS with their own
	/// certificate (the client sees the host's certificate; whoami says "tls":true), and their
	/// health is still checked over plain HTTP on the operator port.
	void testTlsPassthroughToHosts()
	{
		if (!debianToolOrSkip("haproxy", "haproxy")) return;
		const TestCertificates& certificates = TestCertificates::get();
		_farm->start(true);
		Haproxy haproxy("parley-passthrough.cfg", _farm->backends(), HaproxyHosts::checkEdits(), _farm->dir());
		HaproxyHosts::waitAllUp(haproxy, "parley_tls_hosts");
		std::vector<std::unique_ptr<WsClient>> clients;
		for (int i = 0; i < 6; ++i)
		{
			clients.push_back(std::make_unique<WsClient>(haproxy.tlsPort(), "/whoami", 0, certificates.caFile()));
			clients.back()->sendText("who " + std::to_string(i));
			const std::string reply = clients.back()->readFrame().payload;
			CPPUNIT_ASSERT_MESSAGE(reply, reply.find("\"tls\":true") != std::string::npos);
			CPPUNIT_ASSERT_MESSAGE(reply, reply.find("\"remote_port\":" + std::to_string(localPort(*clients.back()))) != std::string::npos);
		}
		CPPUNIT_ASSERT(eventually([this] { return _farm->connections(0) == 2 && _farm->connections(1) == 2 && _farm->connections(2) == 2; }));
		const auto stats = haproxy.stats();
		for (int i = 1; i <= 3; ++i) CPPUNIT_ASSERT_EQUAL(2, stats.at("parley_tls_hosts/host" + std::to_string(i)).sessions);
	}

	/// send-proxy-v2: whoami on the host reports the client's own address and port (127.0.0.1 and
	/// the client socket's local port), not those of HAProxy's connection to the host.
	void testProxyV2GivesTheClientsAddress()
	{
		if (!debianToolOrSkip("haproxy", "haproxy")) return;
		_farm->start(false);
		Haproxy haproxy("parley.cfg", _farm->backends(), HaproxyHosts::checkEdits(), _farm->dir());
		HaproxyHosts::waitAllUp(haproxy, "parley_hosts");
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

	/// The local port of the client's socket (the port HAProxy sees it from).
	static std::uint16_t localPort(const RawSocket& socket)
	{
		sockaddr_in address{};
		socklen_t length = sizeof(address);
		::getsockname(socket.fd(), reinterpret_cast<sockaddr*>(&address), &length);
		return ntohs(address.sin_port);
	}

	std::unique_ptr<HaproxyHosts> _farm;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostHaproxyTest, "host");
