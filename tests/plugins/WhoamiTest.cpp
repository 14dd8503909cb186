//
// WhoamiTest.cpp — the real whoami plugin loaded from the build: its reply parses as JSON and says
// what the ConnectionInfo says, with quotes, newlines, control characters and non-ASCII intact.
//
#include "parley/PluginRegistry.h"
#include "support/LoadedRegistry.h"
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <cppunit/extensions/HelperMacros.h>
#include <string>

using namespace parley;

namespace {

/// Asks `r` about `text`, checks the reply is one text message and returns it parsed.
Poco::JSON::Object::Ptr ask(Responder& r, const Message& message, std::string* raw = nullptr)
{
	Reply reply;
	r.respond(message, reply);
	CPPUNIT_ASSERT(reply.action == Reply::Action::Send);
	CPPUNIT_ASSERT(reply.kind == PayloadKind::Text);
	const std::string bytes = reply.bytes(message);
	if (raw) *raw = bytes;
	Poco::JSON::Parser parser;
	Poco::JSON::Object::Ptr object;
	try
	{
		object = parser.parse(bytes).extract<Poco::JSON::Object::Ptr>();
	}
	catch (const Poco::Exception& e)
	{
		CPPUNIT_FAIL("not a JSON object (" + e.displayText() + "): " + bytes);
	}
	return object;
}

std::string text(const Poco::JSON::Object::Ptr& o, const std::string& key)
{
	CPPUNIT_ASSERT_MESSAGE(key, o->has(key) && o->get(key).isString());
	return o->getValue<std::string>(key);
}

} // namespace

class WhoamiTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(WhoamiTest);
	CPPUNIT_TEST(testSaysWhatTheConnectionIs);
	CPPUNIT_TEST(testEscaping);
	CPPUNIT_TEST(testBinaryAndInvalidUtf8);
	CPPUNIT_TEST(testWithoutInfo);
	CPPUNIT_TEST(testListed);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_plugins.reset(new test::LoadedRegistry);
		_registry = &_plugins->registry();
	}
	void tearDown() override { _plugins.reset(); }

	void testSaysWhatTheConnectionIs()
	{
		auto r = _registry->create("whoami", {});
		const Attributes attributes{{"jwt.sub", "alice"}, {"jwt.role", "admin"}};
		ConnectionInfo info;
		info.id = 42;
		info.path = "/who";
		info.query = "a=1&b=%20x";
		info.subprotocol = "chat.v1";
		info.identity = "alice";
		info.attributes = &attributes;
		info.remoteAddress = "2001:db8::1";
		info.remotePort = 54321;
		info.tls = true;
		r->onOpen(info);
		const Message message{PayloadKind::Text, "hello", 42, &info};
		const auto o = ask(*r, message);
		CPPUNIT_ASSERT_EQUAL(42, o->getValue<int>("id"));
		CPPUNIT_ASSERT_EQUAL(std::string("/who"), text(o, "path"));
		CPPUNIT_ASSERT_EQUAL(std::string("a=1&b=%20x"), text(o, "query"));
		CPPUNIT_ASSERT_EQUAL(std::string("chat.v1"), text(o, "subprotocol"));
		CPPUNIT_ASSERT_EQUAL(std::string("alice"), text(o, "identity"));
		CPPUNIT_ASSERT_EQUAL(std::string("2001:db8::1"), text(o, "remote_address"));
		CPPUNIT_ASSERT_EQUAL(54321, o->getValue<int>("remote_port"));
		CPPUNIT_ASSERT(o->get("tls").isBoolean() && o->getValue<bool>("tls"));
		CPPUNIT_ASSERT_EQUAL(std::string("hello"), text(o, "message"));
		const auto attrs = o->getObject("attributes");
		CPPUNIT_ASSERT(!attrs.isNull());
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), attrs->size());
		CPPUNIT_ASSERT_EQUAL(std::string("alice"), text(attrs, "jwt.sub"));
		CPPUNIT_ASSERT_EQUAL(std::string("admin"), text(attrs, "jwt.role"));
		r->onClose(42);

		// Nothing set: empty strings, an empty object, false.
		const Attributes none;
		ConnectionInfo bare;
		bare.id = 7;
		bare.attributes = &none;
		const auto b = ask(*r, Message{PayloadKind::Text, "", 7, &bare});
		CPPUNIT_ASSERT_EQUAL(7, b->getValue<int>("id"));
		CPPUNIT_ASSERT_EQUAL(std::string(), text(b, "identity"));
		CPPUNIT_ASSERT_EQUAL(std::string(), text(b, "message"));
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), b->getObject("attributes")->size());
		CPPUNIT_ASSERT(!b->getValue<bool>("tls"));
	}

	void testEscaping()
	{
		auto r = _registry->create("whoami", {});
		const std::string tricky = "say \"hi\"\\ \n\r\t\b\f \x01\x1f\x7f caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 </script>";
		const Attributes attributes{{"quote\"key\n", tricky}};
		ConnectionInfo info;
		info.id = 1;
		info.path = "/w";
		info.identity = tricky;
		info.attributes = &attributes;
		std::string raw;
		const auto o = ask(*r, Message{PayloadKind::Text, tricky, 1, &info}, &raw);
		CPPUNIT_ASSERT_EQUAL(tricky, text(o, "message"));
		CPPUNIT_ASSERT_EQUAL(tricky, text(o, "identity"));
		CPPUNIT_ASSERT_EQUAL(tricky, text(o->getObject("attributes"), "quote\"key\n"));
		// Escaped in the bytes, not only after parsing; non-ASCII passes through as UTF-8.
		CPPUNIT_ASSERT_MESSAGE(raw, raw.find('\n') == std::string::npos && raw.find('\x01') == std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(raw, raw.find("say \\\"hi\\\"\\\\ \\n\\r\\t\\b\\f \\u0001\\u001f") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(raw, raw.find("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") != std::string::npos);
	}

	void testBinaryAndInvalidUtf8()
	{
		auto r = _registry->create("whoami", {});
		const Attributes none;
		ConnectionInfo info;
		info.id = 3;
		info.attributes = &none;
		std::string raw;
		const std::string bytes("ok\xff\xfe\x00\xC3", 6);
		const auto o = ask(*r, Message{PayloadKind::Binary, bytes, 3, &info}, &raw);
		// Bytes that are not UTF-8 become U+FFFD, so the reply stays valid JSON text.
		CPPUNIT_ASSERT_MESSAGE(raw, raw.find("\"ok\xEF\xBF\xBD\xEF\xBF\xBD\\u0000\xEF\xBF\xBD\"") != std::string::npos);
		// Overlong and surrogate encodings are not UTF-8 either.
		const auto s = ask(*r, Message{PayloadKind::Text, "\xC0\xAF|\xED\xA0\x80|\xF4\x90\x80\x80", 3, &info});
		const std::string fffd = "\xEF\xBF\xBD";
		CPPUNIT_ASSERT_EQUAL(fffd + fffd + "|" + fffd + fffd + fffd + "|" + fffd + fffd + fffd + fffd, text(s, "message"));
	}

	void testWithoutInfo()
	{
		auto r = _registry->create("whoami", {});
		const auto o = ask(*r, Message{PayloadKind::Text, "x", 9});
		CPPUNIT_ASSERT_EQUAL(9, o->getValue<int>("id"));
		CPPUNIT_ASSERT_EQUAL(std::string("x"), text(o, "message"));
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), o->getObject("attributes")->size());
	}

	void testListed()
	{
		for (const auto& p : _registry->plugins())
		{
			if (p.name != "whoami") continue;
			CPPUNIT_ASSERT_EQUAL(std::string("responder"), p.kind);
			return;
		}
		CPPUNIT_FAIL("whoami is not loaded");
	}

private:
	std::unique_ptr<test::LoadedRegistry> _plugins;
	PluginRegistry* _registry = nullptr;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(WhoamiTest, "plugins");
