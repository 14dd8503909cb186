//
// HostProxyTest.cpp — server.proxy_protocol: the PROXY header (v1 and v2) before TLS and HTTP,
// the client's address in whoami and in the per-address limits, and the connections closed and
// counted for an untrusted proxy, a bad header, a header that never ends.
//
#include "Haproxy.h"
#include "HostTestSupport.h"
#include "ProcessRunner.h"
#include "support/TestCertificates.h"
#include <Poco/TemporaryFile.h>
#include <arpa/inet.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <fstream>
#include <iostream>
#include <thread>

using namespace parley::test;
using parley::AddressPrefix;
using parley::HostConfig;

namespace {

std::string v1(const std::string& family, const std::string& source, const std::string& destination, unsigned sourcePort,
	unsigned destinationPort)
{
	return "PROXY " + family + " " + source + " " + destination + " " + std::to_string(sourcePort) + " " +
		std::to_string(destinationPort) + "\r\n";
}

/// A v2 header: command 0x20 LOCAL / 0x21 PROXY; `source`, `destination` IPv4 or IPv6 text (the
/// family follows from the source), `tlv` appended after the addresses.
std::string v2(unsigned char command, const std::string& source, const std::string& destination, unsigned sourcePort,
	unsigned destinationPort, const std::string& tlv = "")
{
	std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
	h += static_cast<char>(command);
	const bool six = source.find(':') != std::string::npos;
	h += static_cast<char>(six ? 0x21 : 0x11);   // AF_INET6 / AF_INET, STREAM
	std::string addresses;
	unsigned char buffer[16];
	const int family = six ? AF_INET6 : AF_INET;
	const std::size_t size = six ? 16 : 4;
	::inet_pton(family, source.c_str(), buffer);
	addresses.append(reinterpret_cast<char*>(buffer), size);
	::inet_pton(family, destination.c_str(), buffer);
	addresses.append(reinterpret_cast<char*>(buffer), size);
	for (unsigned port : {sourcePort, destinationPort})
	{
		addresses += static_cast<char>(port >> 8);
		addresses += static_cast<char>(port & 0xff);
	}
	addresses += tlv;
	h += static_cast<char>(addresses.size() >> 8);
	h += static_cast<char>(addresses.size() & 0xff);
	return h + addresses;
}

/// A v2 LOCAL header (a proxy's own health check): no addresses.
std::string v2Local()
{
	std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
	return h + std::string("\x20\x00\x00\x00", 4);
}

void proxied(HostConfig& c, unsigned version, const std::string& trusted = "127.0.0.1")
{
	c.routes["/who"] = {"whoami"};
	c.proxy.version = version;
	c.proxy.trusted = AddressPrefix::parseList(trusted);
}

/// Upgrades on /who (after whatever `s` already sent) and returns whoami's answer to "hi".
std::string whoami(RawSocket& s, const std::string& before = "")
{
	s.send(before + upgradeRequest("/who"));
	const std::string head = s.readHead();
	if (head.compare(0, 12, "HTTP/1.1 101") != 0) throw std::runtime_error("upgrade refused: " + head);
	s.send(frame(OpText, "hi"));
	return s.readFrame().payload;
}

std::string addressOf(const std::string& json)
{
	const std::string key = "\"remote_address\":\"";
	const std::size_t at = json.find(key);
	if (at == std::string::npos) return "?";
	return json.substr(at + key.size(), json.find('"', at + key.size()) - at - key.size());
}

std::string portOf(const std::string& json)
{
	const std::string key = "\"remote_port\":";
	const std::size_t at = json.find(key);
	if (at == std::string::npos) return "?";
	return json.substr(at + key.size(), json.find(',', at) - at - key.size());
}

/// The status of the upgrade answer after `before` on a new connection.
int upgradeStatus(std::uint16_t port, const std::string& before)
{
	RawSocket s(port);
	s.send(before + upgradeRequest("/echo"));
	const std::string head = s.readHead();
	return std::atoi(head.substr(9, 3).c_str());
}

/// A port free on 127.0.0.1 now (bound, read, released).
std::uint16_t freePort()
{
	const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t length = sizeof(a);
	::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
	::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
	::close(fd);
	return ntohs(a.sin_port);
}

std::uint16_t localPort(int fd)
{
	sockaddr_in a{};
	socklen_t length = sizeof(a);
	::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
	return ntohs(a.sin_port);
}

} // namespace

class HostProxyTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostProxyTest);
	CPPUNIT_TEST(testV1GivesTheClientAddress);
	CPPUNIT_TEST(testV2GivesTheClientAddress);
	CPPUNIT_TEST(testHeaderInPieces);
	CPPUNIT_TEST(testLocalAndUnknownKeepThePeer);
	CPPUNIT_TEST(testPerAddressLimitCountsTheClient);
	CPPUNIT_TEST(testTruncatedHeaderTimesOut);
	CPPUNIT_TEST(testInvalidHeadersAreClosedAndCounted);
	CPPUNIT_TEST(testUntrustedProxyIsClosedAndCounted);
	CPPUNIT_TEST(testProxyThenTls);
	CPPUNIT_TEST(testBadConfiguration);
	CPPUNIT_TEST(testThroughHaproxy);
	CPPUNIT_TEST(testReloadKeepsTheProxySettings);
	CPPUNIT_TEST_SUITE_END();

public:
	void testV1GivesTheClientAddress()
	{
		TestHost host([](HostConfig& c) { proxied(c, 1); });
		{
			// The header and the request in one write: the request is not lost.
			RawSocket s(host.port());
			const std::string answer = whoami(s, v1("TCP4", "203.0.113.7", "192.0.2.1", 51234, 443));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("203.0.113.7"), addressOf(answer));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("51234"), portOf(answer));
		}
		{
			RawSocket s(host.port());
			const std::string answer = whoami(s, v1("TCP6", "2001:db8::7", "2001:db8::1", 65535, 443));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("2001:db8::7"), addressOf(answer));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("65535"), portOf(answer));
		}
		// A v1 port takes v1 only.
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), host.server().metrics().proxyInvalid);
		{
			RawSocket s(host.port());
			s.send(v2(0x21, "203.0.113.7", "192.0.2.1", 1, 2) + upgradeRequest("/echo"));
			CPPUNIT_ASSERT(s.readEof());
		}
		CPPUNIT_ASSERT(eventually([&] { return host.server().metrics().proxyInvalid == 1; }));
		CPPUNIT_ASSERT_MESSAGE(host.logDump(), host.logCount({"a PROXY v2 header where v1 is configured"}) == 1);
	}

	void testV2GivesTheClientAddress()
	{
		TestHost host([](HostConfig& c) { proxied(c, 2); });
		{
			RawSocket s(host.port());
			const std::string answer = whoami(s, v2(0x21, "198.51.100.20", "192.0.2.1", 40001, 443));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("198.51.100.20"), addressOf(answer));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("40001"), portOf(answer));
		}
		{
			// IPv6 with TLVs after the addresses (skipped).
			const std::string tlv = std::string("\x04\x00\x03", 3) + "abc" + std::string("\x05\x00\x02\x01\x02", 5);
			RawSocket s(host.port());
			const std::string answer = whoami(s, v2(0x21, "2001:db8:1::9", "2001:db8::1", 8, 443, tlv));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("2001:db8:1::9"), addressOf(answer));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("8"), portOf(answer));
		}
		// A v2 port takes v2 only.
		{
			RawSocket s(host.port());
			s.send(v1("TCP4", "203.0.113.7", "192.0.2.1", 1, 2) + upgradeRequest("/echo"));
			CPPUNIT_ASSERT(s.readEof());
		}
		CPPUNIT_ASSERT(eventually([&] { return host.server().metrics().proxyInvalid == 1; }));
		CPPUNIT_ASSERT_MESSAGE(host.logDump(), host.logCount({"a PROXY v1 header where v2 is configured"}) == 1);
	}

	void testHeaderInPieces()
	{
		for (unsigned version : {1u, 2u})
		{
			TestHost host([version](HostConfig& c) { proxied(c, version); });
			const std::string header = version == 1 ? v1("TCP4", "203.0.113.9", "192.0.2.1", 1234, 80)
													: v2(0x21, "203.0.113.9", "192.0.2.1", 1234, 80);
			RawSocket s(host.port());
			// A byte at a time, with pauses the loop sees as separate reads; then the request.
			for (char ch : header)
			{
				s.send(std::string(1, ch));
				std::this_thread::sleep_for(std::chrono::milliseconds(2));
			}
			const std::string answer = whoami(s);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("203.0.113.9"), addressOf(answer));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("1234"), portOf(answer));
			const auto m = host.server().metrics();
			CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), m.proxyInvalid + m.proxyTimeouts + m.proxyUntrusted);
		}
	}

	void testLocalAndUnknownKeepThePeer()
	{
		{
			TestHost host([](HostConfig& c) { proxied(c, 2); });
			RawSocket s(host.port());
			const std::string answer = whoami(s, v2Local());
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("127.0.0.1"), addressOf(answer));
		}
		{
			TestHost host([](HostConfig& c) { proxied(c, 1); });
			RawSocket s(host.port());
			const std::string answer = whoami(s, "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n");
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("127.0.0.1"), addressOf(answer));
		}
	}

	void testPerAddressLimitCountsTheClient()
	{
		for (unsigned version : {1u, 2u})
		{
			TestHost host([version](HostConfig& c) {
				proxied(c, version);
				c.engine.maxConnectionsPerIp = 2;
			});
			auto header = [version](const std::string& client, unsigned port) {
				return version == 1 ? v1("TCP4", client, "192.0.2.1", port, 443) : v2(0x21, client, "192.0.2.1", port, 443);
			};
			// Two connections of one client through the proxy (all from 127.0.0.1).
			std::vector<std::unique_ptr<RawSocket>> open;
			for (unsigned i = 0; i < 2; ++i)
			{
				open.push_back(std::make_unique<RawSocket>(host.port()));
				open.back()->send(header("203.0.113.50", 1000 + i) + upgradeRequest("/echo"));
				CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 101"), open.back()->readHead().substr(0, 12));
			}
			// Its third is refused as a direct one is: 429 ...
			RawSocket third(host.port());
			third.send(header("203.0.113.50", 1002) + upgradeRequest("/echo"));
			const std::string refused = third.readHead();
			CPPUNIT_ASSERT_EQUAL_MESSAGE(refused, std::string("HTTP/1.1 429"), refused.substr(0, 12));
			// ... while another client through the same proxy gets in.
			CPPUNIT_ASSERT_EQUAL(101, upgradeStatus(host.port(), header("203.0.113.51", 1003)));
			CPPUNIT_ASSERT(eventually([&] { return host.server().metrics().peerLimitRefusals == 1; }));
			CPPUNIT_ASSERT_MESSAGE(host.logDump(), host.logCount({"203.0.113.50", "refused with 429"}) == 1);
			// One closes: there is room for that client again.
			open.pop_back();
			CPPUNIT_ASSERT(eventually([&] { return upgradeStatus(host.port(), header("203.0.113.50", 1004)) == 101; }));
		}
	}

	void testTruncatedHeaderTimesOut()
	{
		TestHost host([](HostConfig& c) {
			proxied(c, 2);
			c.engine.handshakeTimeoutMs = 300;
		});
		RawSocket s(host.port());
		s.send(v2(0x21, "203.0.113.7", "192.0.2.1", 1, 2).substr(0, 20));   // then silence
		CPPUNIT_ASSERT(s.readEof());   // closed at the deadline (a tick after it), nothing answered
		CPPUNIT_ASSERT(eventually([&] { return host.server().metrics().proxyTimeouts == 1; }));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), host.server().metrics().handshakeTimeouts);
		CPPUNIT_ASSERT_MESSAGE(host.logDump(), host.logCount({"no whole PROXY header within engine.handshake_timeout_ms"}) == 1);
		const std::string metrics = httpGet(host.adminPort(), "/metrics").body;
		CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("parley_proxy_refused_total{reason=\"timeout\"} 1\n") != std::string::npos);
	}

	void testInvalidHeadersAreClosedAndCounted()
	{
		const std::vector<std::pair<unsigned, std::string>> cases = {
			{1, upgradeRequest("/echo")},                                     // HTTP without a header
			{2, upgradeRequest("/echo")},
			{1, std::string("\x16\x03\x01\x02\x00", 5)},                    // a TLS ClientHello without a header
			{1, "PROXY TCP4 203.0.113.7 192.0.2.1 1 2\n"},                    // LF without CR
			{1, "PROXY TCP4 203.0.113.777 192.0.2.1 1 2\r\n"},                // a bad address
			{1, "PROXY TCP4 2001:db8::1 192.0.2.1 1 2\r\n"},                  // IPv6 in TCP4
			{1, "PROXY TCP4 203.0.113.7 192.0.2.1 65536 2\r\n"},              // a port out of range
			{1, "PROXY TCP4 203.0.113.7 192.0.2.1 01 2\r\n"},                 // a leading zero
			{1, "PROXY TCP4 203.0.113.7 192.0.2.1 1\r\n"},                    // a field missing
			{1, "PROXY UDP4 203.0.113.7 192.0.2.1 1 2\r\n"},                  // not TCP
			{1, "PROXY TCP4 " + std::string(120, '1')},                       // no CRLF within 107 bytes
			{2, std::string("\r\n\r\n\0\r\nQUIT\n\x11\x11\x00\x0c", 16) + std::string(12, 'x')}, // version 1 in a v2 header
			{2, std::string("\r\n\r\n\0\r\nQUIT\n\x22\x11\x00\x0c", 16) + std::string(12, 'x')}, // command 2
			{2, std::string("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x04", 16) + std::string(4, 'x')},  // shorter than its addresses
			{2, std::string("\r\n\r\n\0\r\nQUIT\n\x21\x12\x00\x0c", 16) + std::string(12, 'x')}, // UDP
			{2, std::string("\r\n\r\n\0\r\nQUIT\n\x21\x11\xff\xff", 16)},   // longer than the cap
			{2, std::string("\r\n\r\n\0\r\nQUIZ\n\x21\x11\x00\x0c", 16) + std::string(12, 'x')}, // wrong signature
		};
		for (unsigned version : {1u, 2u})
		{
			TestHost host([version](HostConfig& c) { proxied(c, version); });
			std::uint64_t expected = 0;
			for (const auto& c : cases)
			{
				if (c.first != version) continue;
				RawSocket s(host.port());
				s.send(c.second);
				CPPUNIT_ASSERT_MESSAGE(c.second, s.readEof());   // closed, no HTTP answer
				++expected;
				CPPUNIT_ASSERT_MESSAGE(c.second, eventually([&] { return host.server().metrics().proxyInvalid == expected; }));
			}
			// A header cut by the client's end of the stream.
			{
				RawSocket s(host.port());
				s.send(version == 1 ? std::string("PROXY TCP4 203.0.113.7") : v2(0x21, "203.0.113.7", "192.0.2.1", 1, 2).substr(0, 14));
				::shutdown(s.fd(), SHUT_WR);
				CPPUNIT_ASSERT(s.readEof());
				++expected;
				CPPUNIT_ASSERT(eventually([&] { return host.server().metrics().proxyInvalid == expected; }));
			}
			CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), host.server().metrics().handshakesRefused);
			const std::string metrics = httpGet(host.adminPort(), "/metrics").body;
			CPPUNIT_ASSERT_MESSAGE(metrics,
				metrics.find("parley_proxy_refused_total{reason=\"invalid\"} " + std::to_string(expected) + "\n") != std::string::npos);
			// One line per interval (logging.rate_limit_ms), the first at once.
			CPPUNIT_ASSERT_MESSAGE(host.logDump(), host.logCount({"closed: ", "(server.proxy_protocol = v"}) == 1);
		}
	}

	void testUntrustedProxyIsClosedAndCounted()
	{
		TestHost host([](HostConfig& c) { proxied(c, 2, "10.0.0.1, 2001:db8::/32"); });
		RawSocket s(host.port());
		s.send(v2(0x21, "203.0.113.7", "192.0.2.1", 1, 2) + upgradeRequest("/echo"));
		CPPUNIT_ASSERT(s.readEof());
		CPPUNIT_ASSERT(eventually([&] { return host.server().metrics().proxyUntrusted == 1; }));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), host.server().metrics().proxyInvalid);
		CPPUNIT_ASSERT_MESSAGE(host.logDump(), host.logCount({"connection from 127.0.0.1:", "not in server.trusted_proxies"}) == 1);
		const std::string metrics = httpGet(host.adminPort(), "/metrics").body;
		CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("parley_proxy_refused_total{reason=\"untrusted\"} 1\n") != std::string::npos);
		// A prefix that holds 127.0.0.1 lets it in.
		TestHost trusting([](HostConfig& c) { proxied(c, 2, "10.0.0.1, 127.0.0.0/8"); });
		CPPUNIT_ASSERT_EQUAL(101, upgradeStatus(trusting.port(), v2(0x21, "203.0.113.7", "192.0.2.1", 1, 2)));
	}

	void testProxyThenTls()
	{
		TestHost host([](HostConfig& c) {
			proxied(c, 2);
			const TestCertificates& certificates = TestCertificates::get();
			c.tls.enabled = true;
			c.tls.certificateFile = certificates.certFile();
			c.tls.privateKeyFile = certificates.keyFile();
		});
		{
			// The header and the ClientHello may come in one read: the TLS layer gets its bytes.
			RawSocket s(host.port());
			s.send(v2(0x21, "2001:db8::42", "2001:db8::1", 7000, 443));
			s.startTls(TestCertificates::get().caFile());
			const std::string answer = whoami(s);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("2001:db8::42"), addressOf(answer));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("7000"), portOf(answer));
			CPPUNIT_ASSERT_MESSAGE(answer, answer.find("\"tls\":true") != std::string::npos);
		}
		{
			// TLS without the header: closed, counted as invalid (not as a TLS failure).
			RawSocket s(host.port());
			CPPUNIT_ASSERT_THROW(s.startTls(TestCertificates::get().caFile()), std::runtime_error);
		}
		CPPUNIT_ASSERT(eventually([&] { return host.server().metrics().proxyInvalid == 1; }));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), host.server().metrics().tlsFailures);
	}

	void testBadConfiguration()
	{
		const std::vector<std::pair<std::string, std::string>> cases = {
			{"server.proxy_protocol = v3\nserver.trusted_proxies = 127.0.0.1\n", "server.proxy_protocol: 'v3' is not v1, v2 or off"},
			{"server.proxy_protocol = v2\n", "server.trusted_proxies: server.proxy_protocol = v2 needs the addresses"},
			{"server.proxy_protocol = v1\nserver.trusted_proxies = 10.0.0.0/33\n", "server.trusted_proxies: '10.0.0.0/33': the prefix length must be 0..32"},
			{"server.proxy_protocol = v2\nserver.trusted_proxies = 10.0.0.1/8\n", "server.trusted_proxies: '10.0.0.1/8': bits are set after the /8 prefix"},
			{"server.proxy_protocol = v2\nserver.trusted_proxies = proxy.example\n", "server.trusted_proxies: 'proxy.example' is not an IPv4 or IPv6"},
			{"server.proxy_protocol = v2\nserver.trusted_proxies = ::1, \n", "server.trusted_proxies: an empty entry in the list"},
		};
		for (const auto& c : cases)
		{
			Poco::TemporaryFile config;
			{
				std::ofstream out(config.path());
				out << "server.port = 0\nadmin.port = 0\nplugins.dir = " << pluginDir() << "\nroute./echo = echo\n" << c.first;
			}
			ProcessRunner host(binDir() + "/parley-host", {"--config=" + config.path()}, 60);
			const int code = host.wait();
			CPPUNIT_ASSERT_MESSAGE(host.output(), code != 0);
			CPPUNIT_ASSERT_MESSAGE(host.output(), host.output().find("parley-host: ") == 0);
			CPPUNIT_ASSERT_MESSAGE(host.output(), host.output().find(c.second) != std::string::npos);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(host.output(), host.output().size() - 1, host.output().find('\n'));
		}
	}

	void testThroughHaproxy()
	{
		// Debian's HAProxy in TCP mode in front (scripts/setup.sh installs it): `send-proxy` is v1,
		// `send-proxy-v2` v2. The host sees the test's own socket: its port, not HAProxy's.
		if (!debianToolOrSkip("haproxy", "haproxy")) return;
		for (unsigned version : {1u, 2u})
		{
			TestHost host([version](HostConfig& c) { proxied(c, version); });
			const std::uint16_t front = freePort();
			Poco::TemporaryFile config;
			{
				std::ofstream out(config.path());
				out << "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n"
					<< "frontend parley\n  bind 127.0.0.1:" << front << "\n  default_backend hosts\n"
					<< "backend hosts\n  server h1 127.0.0.1:" << host.port() << (version == 1 ? " send-proxy" : " send-proxy-v2") << "\n";
			}
			ProcessRunner haproxy(Poco::File("/usr/sbin/haproxy").exists() ? "/usr/sbin/haproxy" : "haproxy", {"-db", "-f", config.path()}, 60);
			std::unique_ptr<RawSocket> s;
			CPPUNIT_ASSERT_MESSAGE(haproxy.output(), eventually([&] {
				try
				{
					s = std::make_unique<RawSocket>(front);
					return true;
				}
				catch (const std::exception&)
				{
					return false;
				}
			}));
			const std::string answer = whoami(*s);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("127.0.0.1"), addressOf(answer));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::to_string(localPort(s->fd())), portOf(answer));
			s.reset();
			haproxy.requestTermination();
			haproxy.wait();
			const auto m = host.server().metrics();
			CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), m.proxyInvalid + m.proxyTimeouts + m.proxyUntrusted);
		}
	}

	void testReloadKeepsTheProxySettings()
	{
		// Both keys need a restart: a SIGHUP that changes them names them and changes nothing.
		TestHost host([](HostConfig& c) { proxied(c, 2); });
		HostConfig next = baseConfig();
		proxied(next, 1, "10.0.0.1");
		std::string why;
		CPPUNIT_ASSERT_MESSAGE(why, host.server().reload(next, &why));
		CPPUNIT_ASSERT_MESSAGE(host.logDump(),
			host.logCount({"need a restart", "server.proxy_protocol, server.trusted_proxies"}) == 1);
		RawSocket s(host.port());
		const std::string answer = whoami(s, v2(0x21, "203.0.113.77", "192.0.2.1", 4242, 443));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(answer, std::string("203.0.113.77"), addressOf(answer));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostProxyTest, "host");
