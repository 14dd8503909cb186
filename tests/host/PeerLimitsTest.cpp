//
// PeerLimitsTest.cpp — the per-address limits by themselves: IPv4 per address, IPv6 per /64,
// the token bucket of new connections, and entries that go away.
//
#include "PeerLimits.h"
#include <arpa/inet.h>
#include <cppunit/extensions/HelperMacros.h>
#include <netinet/in.h>

using parley::host::PeerAddress;
using parley::host::PeerLimits;

namespace {

PeerAddress address(const char* text, std::uint16_t port = 40000)
{
	sockaddr_storage s{};
	if (std::string(text).find(':') == std::string::npos)
	{
		auto* in = reinterpret_cast<sockaddr_in*>(&s);
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		::inet_pton(AF_INET, text, &in->sin_addr);
	}
	else
	{
		auto* in6 = reinterpret_cast<sockaddr_in6*>(&s);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		::inet_pton(AF_INET6, text, &in6->sin6_addr);
	}
	return PeerAddress::from(s);
}

} // namespace

class PeerLimitsTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(PeerLimitsTest);
	CPPUNIT_TEST(testAddressText);
	CPPUNIT_TEST(testConnectionsPerAddressAndPer64);
	CPPUNIT_TEST(testNewConnectionsPerSecond);
	CPPUNIT_TEST_SUITE_END();

public:
	void testAddressText()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("203.0.113.7"), address("203.0.113.7").text());
		CPPUNIT_ASSERT_EQUAL(std::string("2001:db8::1"), address("2001:db8::1").text());
		// An IPv4 client on a dual-stack socket is shown (and counted) as IPv4.
		CPPUNIT_ASSERT_EQUAL(std::string("198.51.100.2"), address("::ffff:198.51.100.2").text());
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(5555), address("10.0.0.1", 5555).port);
	}

	void testConnectionsPerAddressAndPer64()
	{
		PeerLimits limits(2, 0);
		CPPUNIT_ASSERT(limits.admit(address("203.0.113.7"), 0) == PeerLimits::Outcome::Admitted);
		CPPUNIT_ASSERT(limits.admit(address("203.0.113.7", 1), 0) == PeerLimits::Outcome::Admitted);
		CPPUNIT_ASSERT(limits.admit(address("203.0.113.7", 2), 0) == PeerLimits::Outcome::TooManyConnections);
		CPPUNIT_ASSERT(limits.admit(address("203.0.113.8"), 0) == PeerLimits::Outcome::Admitted);
		CPPUNIT_ASSERT(limits.admit(address("::ffff:203.0.113.7"), 0) == PeerLimits::Outcome::TooManyConnections);
		// IPv6: one /64 is one client.
		CPPUNIT_ASSERT(limits.admit(address("2001:db8:1:2::1"), 0) == PeerLimits::Outcome::Admitted);
		CPPUNIT_ASSERT(limits.admit(address("2001:db8:1:2:ffff::9"), 0) == PeerLimits::Outcome::Admitted);
		CPPUNIT_ASSERT(limits.admit(address("2001:db8:1:2:abcd::5"), 0) == PeerLimits::Outcome::TooManyConnections);
		CPPUNIT_ASSERT(limits.admit(address("2001:db8:1:3::1"), 0) == PeerLimits::Outcome::Admitted);
		// A close frees one.
		limits.release(address("203.0.113.7"), 0);
		CPPUNIT_ASSERT(limits.admit(address("203.0.113.7", 3), 0) == PeerLimits::Outcome::Admitted);
		// Entries without connections go.
		for (const char* a : {"203.0.113.7", "203.0.113.7", "203.0.113.8", "2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:3::1"})
			limits.release(address(a), 0);
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), limits.tracked());
	}

	void testNewConnectionsPerSecond()
	{
		PeerLimits limits(0, 4);
		const PeerAddress a = address("192.0.2.1");
		for (int i = 0; i < 4; ++i) CPPUNIT_ASSERT(limits.admit(a, 1000) == PeerLimits::Outcome::Admitted);
		CPPUNIT_ASSERT(limits.admit(a, 1000) == PeerLimits::Outcome::TooFast);
		CPPUNIT_ASSERT(limits.admit(address("192.0.2.2"), 1000) == PeerLimits::Outcome::Admitted);
		// 4 per second: one more after 250 ms, four after a second (the burst is 4).
		CPPUNIT_ASSERT(limits.admit(a, 1100) == PeerLimits::Outcome::TooFast);
		CPPUNIT_ASSERT(limits.admit(a, 1250) == PeerLimits::Outcome::Admitted);
		CPPUNIT_ASSERT(limits.admit(a, 1250) == PeerLimits::Outcome::TooFast);
		for (int i = 0; i < 4; ++i) CPPUNIT_ASSERT(limits.admit(a, 5000) == PeerLimits::Outcome::Admitted);
		CPPUNIT_ASSERT(limits.admit(a, 5000) == PeerLimits::Outcome::TooFast);
		// Refused attempts hold nothing: once the bucket is full and the connections closed, the
		// address is forgotten.
		for (int i = 0; i < 9; ++i) limits.release(a, 9000);
		limits.release(address("192.0.2.2"), 9000);
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), limits.tracked());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(PeerLimitsTest, "host");
