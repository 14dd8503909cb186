//
// UrlTest.cpp — parsing ws:// and wss:// URLs for the clients.
//
#include "parley/client/Url.h"
#include <cppunit/extensions/HelperMacros.h>
#include <stdexcept>

using parley::client::Url;

class UrlTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(UrlTest);
	CPPUNIT_TEST(testFull);
	CPPUNIT_TEST(testDefaults);
	CPPUNIT_TEST(testQueryOnly);
	CPPUNIT_TEST(testSchemeCase);
	CPPUNIT_TEST(testIpv6);
	CPPUNIT_TEST(testWss);
	CPPUNIT_TEST(testWssDefaults);
	CPPUNIT_TEST(testBadInputs);
	CPPUNIT_TEST(testStr);
	CPPUNIT_TEST_SUITE_END();

public:
	void testFull()
	{
		Url u = Url::parse("ws://example.org:9001/chat/room?id=7");
		CPPUNIT_ASSERT_EQUAL(std::string("example.org"), u.host);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(9001), u.port);
		CPPUNIT_ASSERT_EQUAL(std::string("/chat/room?id=7"), u.path);
	}

	void testDefaults()
	{
		Url u = Url::parse("ws://127.0.0.1");
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), u.host);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(80), u.port);
		CPPUNIT_ASSERT_EQUAL(std::string("/"), u.path);
		Url v = Url::parse("ws://localhost/");
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(80), v.port);
		CPPUNIT_ASSERT_EQUAL(std::string("/"), v.path);
	}

	void testQueryOnly()
	{
		Url u = Url::parse("ws://h:81?x=1");
		CPPUNIT_ASSERT_EQUAL(std::string("/?x=1"), u.path);
	}

	void testSchemeCase()
	{
		Url u = Url::parse("WS://Host:8080/ws");
		CPPUNIT_ASSERT_EQUAL(std::string("Host"), u.host);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(8080), u.port);
	}

	void testIpv6()
	{
		Url u = Url::parse("ws://[::1]:8080/ws");
		CPPUNIT_ASSERT_EQUAL(std::string("::1"), u.host);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(8080), u.port);
		CPPUNIT_ASSERT_EQUAL(std::string("ws://[::1]:8080/ws"), u.str());
	}

	void testWss()
	{
		Url u = Url::parse("wss://example.org:8443/chat?room=2");
		CPPUNIT_ASSERT(u.secure);
		CPPUNIT_ASSERT_EQUAL(std::string("example.org"), u.host);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(8443), u.port);
		CPPUNIT_ASSERT_EQUAL(std::string("/chat?room=2"), u.path);
		CPPUNIT_ASSERT_EQUAL(std::string("wss://example.org:8443/chat?room=2"), u.str());
		CPPUNIT_ASSERT(!Url::parse("ws://example.org/").secure);
		Url v = Url::parse("WSS://[::1]:9443");
		CPPUNIT_ASSERT(v.secure);
		CPPUNIT_ASSERT_EQUAL(std::string("::1"), v.host);
		CPPUNIT_ASSERT_EQUAL(std::string("wss://[::1]:9443/"), v.str());
		CPPUNIT_ASSERT_EQUAL(std::string("wss://127.0.0.1:1/?x"), Url::parse("wss://127.0.0.1:1?x").str());
	}

	void testWssDefaults()
	{
		Url u = Url::parse("wss://localhost");
		CPPUNIT_ASSERT(u.secure);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(443), u.port);
		CPPUNIT_ASSERT_EQUAL(std::string("/"), u.path);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(80), Url::parse("ws://localhost").port);
		// The same precise errors as for ws://.
		expectError("wss://", "no host");
		expectError("wss://h:0/ws", "port 0");
		expectError("wss://h:99999", "out of range");
		expectError("wss://u@h/", "user information");
		expectError("wss://h/#x", "fragments");
		expectError("https://h/ws", "scheme 'https'");
		expectError("ws:/h/ws", "expected ws://host[:port][/path] or wss://host[:port][/path]");
	}

	void testBadInputs()
	{
		expectError("", "empty");
		expectError("http://h/ws", "scheme 'http'");
		expectError("127.0.0.1:8080/ws", "expected ws://");
		expectError("ws://", "no host");
		expectError("ws:///ws", "no host");
		expectError("ws://h:/ws", "empty port");
		expectError("ws://h:0/ws", "port 0");
		expectError("ws://h:65536/ws", "out of range");
		expectError("ws://h:80a/ws", "not a number");
		expectError("ws://user@h/ws", "user information");
		expectError("ws://h/ws#frag", "fragments");
		expectError("ws://h/w s", "space");
		expectError("ws://h$x/ws", "bad character '$'");
		expectError("ws://[::1/ws", "unterminated");
		// One line, never a line break, even for control characters.
		std::string m = errorOf(std::string("ws://h/\n"));
		CPPUNIT_ASSERT(m.find('\n') == std::string::npos);
		CPPUNIT_ASSERT(m.find("\\x0a") != std::string::npos);
	}

	void testStr()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("ws://h:80/"), Url::parse("ws://h").str());
		CPPUNIT_ASSERT_EQUAL(std::string("ws://h:1/a?b"), Url::parse("ws://h:1/a?b").str());
		CPPUNIT_ASSERT_EQUAL(std::string("ws://h:1/a?b"), Url::parse(Url::parse("ws://h:1/a?b").str()).str());
	}

private:
	static std::string errorOf(const std::string& text)
	{
		try
		{
			Url::parse(text);
		}
		catch (const std::invalid_argument& e)
		{
			return e.what();
		}
		CPPUNIT_FAIL("no error for '" + text + "'");
		return {};
	}

	static void expectError(const std::string& text, const std::string& part)
	{
		std::string message = errorOf(text);
		CPPUNIT_ASSERT_MESSAGE(message, message.find("bad URL '") == 0);
		CPPUNIT_ASSERT_MESSAGE("'" + message + "' lacks '" + part + "'", message.find(part) != std::string::npos);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(UrlTest, "client");
