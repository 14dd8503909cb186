//
// CodecHandshakeTest.cpp — Handshake: accept key (RFC 6455 §1.3), key checks, tokens, verdicts.
//
#include "parley/codec/Handshake.h"
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <set>
#include <string>

using parley::codec::Handshake;
using parley::codec::UpgradeRequest;
using parley::codec::UpgradeVerdict;

namespace {

UpgradeRequest goodRequest()
{
	UpgradeRequest r;
	r.method = "GET";
	r.httpVersion = "HTTP/1.1";
	r.upgrade = "websocket";
	r.connection = "Upgrade";
	r.version = "13";
	r.key = "dGhlIHNhbXBsZSBub25jZQ==";
	return r;
}

} // namespace

class CodecHandshakeTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(CodecHandshakeTest);
	CPPUNIT_TEST(testRfcAcceptKey);
	CPPUNIT_TEST(testIsValidKey);
	CPPUNIT_TEST(testGenerateKey);
	CPPUNIT_TEST(testHasToken);
	CPPUNIT_TEST(testGoodRequest);
	CPPUNIT_TEST(testRefusals);
	CPPUNIT_TEST(testSubprotocol);
	CPPUNIT_TEST_SUITE_END();

public:
	void testRfcAcceptKey()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), Handshake::acceptFor("dGhlIHNhbXBsZSBub25jZQ=="));
		// RFC 6455 §4.2.2 / §1.3 GUID.
		CPPUNIT_ASSERT_EQUAL(std::string("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"), std::string(Handshake::Guid));
		// Another key gives another 28-character answer.
		const std::string other = Handshake::acceptFor("x3JJHMbDL1EzLkh9GBhXDw==");
		CPPUNIT_ASSERT_EQUAL(std::string("HSmrc0sMlYUkAGmm5OPpG2HaGWk="), other);
	}

	void testIsValidKey()
	{
		CPPUNIT_ASSERT(Handshake::isValidKey("dGhlIHNhbXBsZSBub25jZQ=="));
		CPPUNIT_ASSERT(Handshake::isValidKey("AAAAAAAAAAAAAAAAAAAAAA=="));
		CPPUNIT_ASSERT(Handshake::isValidKey("+/+/+/+/+/+/+/+/+/+/+w=="));
		CPPUNIT_ASSERT(!Handshake::isValidKey(""));
		CPPUNIT_ASSERT(!Handshake::isValidKey("dGhlIHNhbXBsZSBub25jZQ="));     // 23 characters
		CPPUNIT_ASSERT(!Handshake::isValidKey("dGhlIHNhbXBsZSBub25jZQ==="));   // 25 characters
		CPPUNIT_ASSERT(!Handshake::isValidKey("dGhlIHNhbXBsZSBub25jZQAA"));    // 18 bytes, no padding
		CPPUNIT_ASSERT(!Handshake::isValidKey("dGhlIHNhbXBsZSBub25jZ==="));    // 15 bytes
		CPPUNIT_ASSERT(!Handshake::isValidKey("dGhlIHNhbXBsZSBub25j*Q=="));    // not base64
		CPPUNIT_ASSERT(!Handshake::isValidKey("dGhlIHNhbXBsZSBub25j Q=="));
	}

	void testGenerateKey()
	{
		std::set<std::string> keys;
		for (int i = 0; i < 50; ++i)
		{
			const std::string key = Handshake::generateKey();
			CPPUNIT_ASSERT_EQUAL(std::size_t(24), key.size());
			CPPUNIT_ASSERT(Handshake::isValidKey(key));
			keys.insert(key);
		}
		CPPUNIT_ASSERT_EQUAL(std::size_t(50), keys.size());
	}

	void testHasToken()
	{
		CPPUNIT_ASSERT(Handshake::hasToken("Upgrade", "upgrade"));
		CPPUNIT_ASSERT(Handshake::hasToken("keep-alive, Upgrade", "upgrade"));
		CPPUNIT_ASSERT(Handshake::hasToken("keep-alive,UPGRADE ", "upgrade"));
		CPPUNIT_ASSERT(Handshake::hasToken(" \twebsocket\t ", "websocket"));
		CPPUNIT_ASSERT(Handshake::hasToken("a,,b, WebSocket", "websocket"));
		CPPUNIT_ASSERT(!Handshake::hasToken("", "upgrade"));
		CPPUNIT_ASSERT(!Handshake::hasToken("keep-alive", "upgrade"));
		CPPUNIT_ASSERT(!Handshake::hasToken("upgrade2", "upgrade"));
		CPPUNIT_ASSERT(!Handshake::hasToken("up grade", "upgrade"));
		CPPUNIT_ASSERT(!Handshake::hasToken("websocket-ish, x", "websocket"));
	}

	void testGoodRequest()
	{
		const UpgradeVerdict v = Handshake::evaluate(goodRequest());
		CPPUNIT_ASSERT_EQUAL(101, v.status);
		CPPUNIT_ASSERT_EQUAL(std::string("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), v.accept);
		CPPUNIT_ASSERT(v.protocol.empty());
		UpgradeRequest r = goodRequest();
		r.httpVersion = "HTTP/2.0";
		r.upgrade = "WebSocket";
		r.connection = "keep-alive, upgrade";
		r.version = " 13 ";
		r.key = " dGhlIHNhbXBsZSBub25jZQ== ";
		const UpgradeVerdict tolerant = Handshake::evaluate(r);
		CPPUNIT_ASSERT_EQUAL(101, tolerant.status);
		CPPUNIT_ASSERT_EQUAL(std::string("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), tolerant.accept);
	}

	void testRefusals()
	{
		struct Case
		{
			void (*change)(UpgradeRequest&);
			int status;
		};
		const Case cases[] = {
			{[](UpgradeRequest& r) { r.method = "POST"; }, 405},
			{[](UpgradeRequest& r) { r.method = "get"; }, 405},
			{[](UpgradeRequest& r) { r.httpVersion = "HTTP/1.0"; }, 400},
			{[](UpgradeRequest& r) { r.httpVersion = "HTTP/0.9"; }, 400},
			{[](UpgradeRequest& r) { r.httpVersion = ""; }, 400},
			{[](UpgradeRequest& r) { r.httpVersion = "HTTP/x.1"; }, 400},
			{[](UpgradeRequest& r) { r.upgrade = ""; }, 426},
			{[](UpgradeRequest& r) { r.upgrade = "h2c"; }, 426},
			{[](UpgradeRequest& r) { r.connection = ""; }, 426},
			{[](UpgradeRequest& r) { r.connection = "keep-alive"; }, 426},
			{[](UpgradeRequest& r) { r.version = ""; }, 426},
			{[](UpgradeRequest& r) { r.version = "8"; }, 426},
			{[](UpgradeRequest& r) { r.version = "14"; }, 426},
			{[](UpgradeRequest& r) { r.key = ""; }, 400},
			{[](UpgradeRequest& r) { r.key = "short=="; }, 400},
			{[](UpgradeRequest& r) { r.key = "dGhlIHNhbXBsZSBub25jZQ*="; }, 400},
		};
		for (const Case& c : cases)
		{
			UpgradeRequest r = goodRequest();
			c.change(r);
			const UpgradeVerdict v = Handshake::evaluate(r);
			CPPUNIT_ASSERT_EQUAL(c.status, v.status);
			CPPUNIT_ASSERT(!v.reason.empty());
			CPPUNIT_ASSERT(v.accept.empty());
		}
		// Method is checked first, then version, then upgrade headers, then the key.
		UpgradeRequest r;
		CPPUNIT_ASSERT_EQUAL(405, Handshake::evaluate(r).status);
		r.method = "GET";
		CPPUNIT_ASSERT_EQUAL(400, Handshake::evaluate(r).status);
		r.httpVersion = "HTTP/1.1";
		CPPUNIT_ASSERT_EQUAL(426, Handshake::evaluate(r).status);
	}

	void testSubprotocol()
	{
		UpgradeRequest r = goodRequest();
		r.protocols = "chat, superchat";
		CPPUNIT_ASSERT_EQUAL(std::string("chat"), Handshake::evaluate(r, {"superchat", "chat"}).protocol);
		CPPUNIT_ASSERT_EQUAL(std::string("superchat"), Handshake::evaluate(r, {"superchat"}).protocol);
		const UpgradeVerdict none = Handshake::evaluate(r, {"mqtt"});
		CPPUNIT_ASSERT_EQUAL(101, none.status);
		CPPUNIT_ASSERT(none.protocol.empty());
		CPPUNIT_ASSERT(Handshake::evaluate(r).protocol.empty());
		r.protocols = "";
		CPPUNIT_ASSERT(Handshake::evaluate(r, {"chat"}).protocol.empty());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(CodecHandshakeTest, "core");
