//
// ProxyHeaderTest.cpp — the PROXY header parser by itself (v1 and v2, byte by byte, bad input)
// and the trusted-proxy prefixes of server.trusted_proxies.
//
#include "ProxyHeader.h"
#include <cppunit/extensions/HelperMacros.h>
#include <stdexcept>

using parley::AddressPrefix;
using parley::host::ProxyHeader;

namespace {

const std::string V2Sig("\r\n\r\n\0\r\nQUIT\n", 12);

ProxyHeader parse(const std::string& bytes, unsigned version)
{
	return ProxyHeader::parse(bytes.data(), bytes.size(), version);
}

/// Every proper prefix of `header` is Incomplete; the whole is Done with its size, even with
/// bytes after it.
void checkResumable(const std::string& header, unsigned version)
{
	for (std::size_t n = 0; n < header.size(); ++n)
		CPPUNIT_ASSERT_MESSAGE(std::to_string(n), parse(header.substr(0, n), version).status == ProxyHeader::Status::Incomplete);
	const ProxyHeader h = parse(header + "GET / HTTP/1.1\r\n", version);
	CPPUNIT_ASSERT(h.status == ProxyHeader::Status::Done);
	CPPUNIT_ASSERT_EQUAL(header.size(), h.size);
}

} // namespace

class ProxyHeaderTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ProxyHeaderTest);
	CPPUNIT_TEST(testV1);
	CPPUNIT_TEST(testV1Invalid);
	CPPUNIT_TEST(testV2);
	CPPUNIT_TEST(testV2Invalid);
	CPPUNIT_TEST(testPrefixes);
	CPPUNIT_TEST_SUITE_END();

public:
	void testV1()
	{
		const std::string four = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
		checkResumable(four, 1);
		ProxyHeader h = parse(four, 1);
		CPPUNIT_ASSERT(h.hasSource);
		CPPUNIT_ASSERT_EQUAL(std::string("192.168.0.1"), h.source.text());
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(56324), h.source.port);
		const std::string six = "PROXY TCP6 ffff:f...:ffff ffff::1 65535 65535\r\n";
		CPPUNIT_ASSERT(parse(six, 1).status == ProxyHeader::Status::Invalid);
		const std::string good6 = "PROXY TCP6 2001:db8::1 2001:db8::2 0 65535\r\n";
		checkResumable(good6, 1);
		h = parse(good6, 1);
		CPPUNIT_ASSERT_EQUAL(std::string("2001:db8::1"), h.source.text());
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), h.source.port);
		// UNKNOWN: anything may follow, the peer stays.
		for (const char* text : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff:f::1 ffff::2 1 2 and more\r\n"})
		{
			const std::string unknown(text);
			h = parse(unknown, 1);
			CPPUNIT_ASSERT(h.status == ProxyHeader::Status::Done);
			CPPUNIT_ASSERT(!h.hasSource);
			CPPUNIT_ASSERT_EQUAL(unknown.size(), h.size);
		}
		// The longest header fits in 107 bytes.
		const std::string longest = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
		CPPUNIT_ASSERT_EQUAL(std::size_t(104), longest.size());
		CPPUNIT_ASSERT(parse(longest, 1).status == ProxyHeader::Status::Done);
	}

	void testV1Invalid()
	{
		for (const char* bad : {"GET / HTTP/1.1\r\n", "proxy TCP4 1.2.3.4 1.2.3.5 1 2\r\n", "PROXY  TCP4 1.2.3.4 1.2.3.5 1 2\r\n",
				 "PROXY TCP4 1.2.3.4 1.2.3.5 1 2 3\r\n", "PROXY TCP4 1.2.3.4 1.2.3.5 1 2\n", "PROXY TCP4 1.2.3.4 1.2.3.5 1 2\rX",
				 "PROXY TCP4 1.2.3.4 1.2.3.5 -1 2\r\n", "PROXY TCP4 1.2.3.4 1.2.3.5 1 +2\r\n", "PROXY TCP4 1.2.3.4  1.2.3.5 1 2\r\n",
				 "PROXY TCP4 1.2.3 1.2.3.5 1 2\r\n", "PROXY TCP6 1.2.3.4 1.2.3.5 1 2\r\n", "PROXY TCP4 1.2.3.4 1.2.3.5 1 99999\r\n",
				 "PROXY TCP4 1.2.3.4 1.2.3.5 1 2 \r\n", "PROXY TCP4 1.2.3.4 1.2.3.5 1\t2\r\n"})
			CPPUNIT_ASSERT_MESSAGE(bad, parse(bad, 1).status == ProxyHeader::Status::Invalid);
		// Judged at the first byte that cannot belong to a header.
		CPPUNIT_ASSERT(parse("G", 1).status == ProxyHeader::Status::Invalid);
		CPPUNIT_ASSERT(parse("PROXX", 1).status == ProxyHeader::Status::Invalid);
		CPPUNIT_ASSERT(parse("\r\n\r\n", 1).status == ProxyHeader::Status::Invalid);
		CPPUNIT_ASSERT_EQUAL(std::string("a PROXY v2 header where v1 is configured"), std::string(parse("\r\n\r\n", 1).error));
		// No CRLF within 107 bytes.
		const std::string endless = "PROXY TCP4 " + std::string(96, '1');
		CPPUNIT_ASSERT_EQUAL(std::size_t(107), endless.size());
		CPPUNIT_ASSERT(parse(endless.substr(0, 106), 1).status == ProxyHeader::Status::Incomplete);
		CPPUNIT_ASSERT(parse(endless, 1).status == ProxyHeader::Status::Invalid);
	}

	void testV2()
	{
		// PROXY, AF_INET, STREAM: 203.0.113.7:1234 -> 192.0.2.1:443
		const std::string four = V2Sig + std::string("\x21\x11\x00\x0c\xcb\x00\x71\x07\xc0\x00\x02\x01\x04\xd2\x01\xbb", 16);
		checkResumable(four, 2);
		ProxyHeader h = parse(four, 2);
		CPPUNIT_ASSERT(h.hasSource);
		CPPUNIT_ASSERT_EQUAL(std::string("203.0.113.7"), h.source.text());
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1234), h.source.port);
		// AF_INET6 with a TLV after the addresses: 2001:db8::5 port 80.
		std::string six = V2Sig + std::string("\x21\x21\x00\x29", 4);
		six += std::string("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x05", 16) + std::string(16, '\0') + std::string("\x00\x50\x01\xbb", 4);
		six += std::string("\x04\x00\x02xy", 5);
		checkResumable(six, 2);
		h = parse(six, 2);
		CPPUNIT_ASSERT_EQUAL(std::string("2001:db8::5"), h.source.text());
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(80), h.source.port);
		CPPUNIT_ASSERT_EQUAL(six.size(), h.size);
		// LOCAL (whatever follows), UNSPEC and UNIX: the peer stays.
		for (const std::string& keep : {V2Sig + std::string("\x20\x00\x00\x00", 4), V2Sig + std::string("\x20\x11\x00\x03xyz", 7),
				 V2Sig + std::string("\x21\x00\x00\x00", 4), V2Sig + std::string("\x21\x31\x00\xd8", 4) + std::string(216, 'u')})
		{
			h = parse(keep, 2);
			CPPUNIT_ASSERT(h.status == ProxyHeader::Status::Done);
			CPPUNIT_ASSERT(!h.hasSource);
			CPPUNIT_ASSERT_EQUAL(keep.size(), h.size);
		}
	}

	void testV2Invalid()
	{
		const std::string addresses(12, 'a');
		for (const std::string& bad : {V2Sig + std::string("\x11\x11\x00\x0c", 4) + addresses,   // version 1
				 V2Sig + std::string("\x31\x11\x00\x0c", 4) + addresses,                      // version 3
				 V2Sig + std::string("\x22\x11\x00\x0c", 4) + addresses,                      // command 2
				 V2Sig + std::string("\x21\x12\x00\x0c", 4) + addresses,                      // DGRAM
				 V2Sig + std::string("\x21\x41\x00\x0c", 4) + addresses,                      // family 4
				 V2Sig + std::string("\x21\x13\x00\x0c", 4) + addresses,                      // transport 3
				 V2Sig + std::string("\x21\x21\x00\x0c", 4) + addresses,                      // too short for IPv6
				 V2Sig + std::string("\x21\x11\x08\x01", 4),                                  // over the cap
				 std::string("\r\n\r\n\0\r\nQUIT\r", 12), std::string("GET / HTTP/1.1\r\n"), std::string("PROXY TCP4 ")})
			CPPUNIT_ASSERT_MESSAGE(bad, parse(bad, 2).status == ProxyHeader::Status::Invalid);
		CPPUNIT_ASSERT_EQUAL(std::string("a PROXY v1 header where v2 is configured"), std::string(parse("PROXY", 2).error));
		// The cap itself is fine.
		CPPUNIT_ASSERT(parse(V2Sig + std::string("\x21\x11\x08\x00", 4), 2).status == ProxyHeader::Status::Incomplete);
		CPPUNIT_ASSERT_EQUAL(std::size_t(16 + 2048), ProxyHeader::maxBytes(2));
	}

	void testPrefixes()
	{
		auto contains = [](const std::string& list, const std::string& address) {
			const ProxyHeader h = parse("PROXY TCP" + std::string(address.find(':') == std::string::npos ? "4 " : "6 ") + address +
					" " + address + " 1 2\r\n", 1);
			CPPUNIT_ASSERT(h.hasSource);
			return ProxyHeader::trusted(AddressPrefix::parseList(list), h.source);
		};
		CPPUNIT_ASSERT(contains("10.0.0.0/8", "10.255.1.2"));
		CPPUNIT_ASSERT(!contains("10.0.0.0/8", "11.0.0.1"));
		CPPUNIT_ASSERT(contains("127.0.0.1", "127.0.0.1"));
		CPPUNIT_ASSERT(!contains("127.0.0.1", "127.0.0.2"));
		CPPUNIT_ASSERT(contains("192.168.4.0/22", "192.168.7.255"));
		CPPUNIT_ASSERT(!contains("192.168.4.0/22", "192.168.8.0"));
		CPPUNIT_ASSERT(contains("::1, 10.0.0.1", "::1"));
		CPPUNIT_ASSERT(!contains("::1, 10.0.0.1", "::2"));
		CPPUNIT_ASSERT(contains("2001:db8::/32", "2001:db8:ffff::1"));
		CPPUNIT_ASSERT(!contains("2001:db8::/32", "2001:db9::1"));
		CPPUNIT_ASSERT(contains("0.0.0.0/0", "8.8.8.8"));
		CPPUNIT_ASSERT(!contains("0.0.0.0/0", "2001:db8::1"));   // all of IPv4, no IPv6
		CPPUNIT_ASSERT(contains("::/0", "8.8.8.8"));             // all addresses (IPv4 mapped)
		CPPUNIT_ASSERT(contains("::ffff:10.0.0.0/104", "10.1.2.3"));
		CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.0/8"), AddressPrefix::parse("10.0.0.0/8").text());
		CPPUNIT_ASSERT_EQUAL(std::string("::1/128"), AddressPrefix::parse("::1").text());
		CPPUNIT_ASSERT(AddressPrefix::parseList("").empty());
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), AddressPrefix::parseList(" 10.0.0.1 ,::1 ").size());
		for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.1/8", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1", "10.0.0", "host",
				 "10.0.0.1,", ",10.0.0.1", "10.0.0.1,,::1", "2001:db8::1/32", "[::1]"})
			CPPUNIT_ASSERT_THROW_MESSAGE(bad, AddressPrefix::parseList(bad), std::invalid_argument);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ProxyHeaderTest, "host");
