//
// BundledPluginsTest.cpp — uppercase, json-stamp, rate-limit, ticker and broadcast, loaded from the
// build and driven directly (host-level behaviour is in the host suite).
//
#include "parley/Pipeline.h"
#include "parley/PluginRegistry.h"
#include "support/LoadedRegistry.h"
#include <cppunit/extensions/HelperMacros.h>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <thread>

using namespace parley;

namespace {

/// Records what a plugin pushes.
class RecordingOutbox: public Outbox
{
public:
	struct Sent
	{
		ConnectionId connection;  ///< 0 for a broadcast
		std::string payload;
	};

	bool send(ConnectionId connection, PayloadKind, std::string_view payload) override
	{
		std::lock_guard<std::mutex> lock(_mutex);
		_sent.push_back({connection, std::string(payload)});
		_changed.notify_all();
		return true;
	}

	void broadcast(PayloadKind, std::string_view payload) override
	{
		send(0, PayloadKind::Text, payload);
	}

	std::vector<Sent> sent()
	{
		std::lock_guard<std::mutex> lock(_mutex);
		return _sent;
	}

	/// Waits up to 10 s until at least n messages were pushed.
	bool waitFor(std::size_t n)
	{
		std::unique_lock<std::mutex> lock(_mutex);
		return _changed.wait_for(lock, std::chrono::seconds(10), [&] { return _sent.size() >= n; });
	}

private:
	std::mutex _mutex;
	std::condition_variable _changed;
	std::vector<Sent> _sent;
};

Reply ask(Responder& r, std::string_view text, ConnectionId connection = 1, PayloadKind kind = PayloadKind::Text)
{
	Reply reply;
	r.respond(Message{kind, text, connection}, reply);
	settle(reply, text); // the whole reply in `payload`, also where the plugin quoted the message
	return reply;
}

} // namespace

class BundledPluginsTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(BundledPluginsTest);
	CPPUNIT_TEST(testUppercase);
	CPPUNIT_TEST(testJsonStampAddsMembers);
	CPPUNIT_TEST(testJsonStampSequencePerConnection);
	CPPUNIT_TEST(testJsonStampInvalidJson);
	CPPUNIT_TEST(testRateLimit);
	CPPUNIT_TEST(testRateLimitSettings);
	CPPUNIT_TEST(testTickerTicksForOpenConnections);
	CPPUNIT_TEST(testBroadcastPushesToRoute);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_plugins.reset(new test::LoadedRegistry);
		_registry = &_plugins->registry();
	}
	void tearDown() override { _plugins.reset(); }

	void testUppercase()
	{
		auto r = _registry->create("uppercase", {});
		CPPUNIT_ASSERT_EQUAL(std::string("HELLO, WORLD 42 \xC3\xA9"), ask(*r, "Hello, World 42 \xC3\xA9").payload);
		Reply bin = ask(*r, "abc", 1, PayloadKind::Binary);
		CPPUNIT_ASSERT(bin.kind == PayloadKind::Binary);
		CPPUNIT_ASSERT_EQUAL(std::string("abc"), bin.payload);
		CPPUNIT_ASSERT(ask(*r, "").action == Reply::Action::Send);
	}

	void testJsonStampAddsMembers()
	{
		auto r = _registry->create("json-stamp", {});
		const std::regex stamped(R"(\{"a":1,"b":\[true,null\],"server_time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","seq":1\})");
		const std::string out = ask(*r, R"({"a":1,"b":[true,null]} )").payload;
		CPPUNIT_ASSERT_MESSAGE(out, std::regex_match(out, stamped));
		const std::string empty = ask(*r, "{ }", 2).payload;
		CPPUNIT_ASSERT_MESSAGE(empty, std::regex_match(empty, std::regex(R"(\{"server_time":"[^"]+","seq":1\})")));
	}

	void testJsonStampSequencePerConnection()
	{
		auto r = _registry->create("json-stamp", {});
		for (int i = 1; i <= 5; ++i)
		{
			CPPUNIT_ASSERT(ask(*r, "{}", 7).payload.find("\"seq\":" + std::to_string(i) + "}") != std::string::npos);
		}
		CPPUNIT_ASSERT(ask(*r, "{}", 8).payload.find("\"seq\":1}") != std::string::npos);
		r->onClose(7);
		CPPUNIT_ASSERT(ask(*r, "{}", 7).payload.find("\"seq\":1}") != std::string::npos);
	}

	void testJsonStampInvalidJson()
	{
		auto r = _registry->create("json-stamp", {});
		for (const char* bad : {"not json", "[1,2]", "{\"a\":}", "{\"a\":1", "{\"a\":1} x", "{'a':1}", "{\"a\":01}", "\"s\""})
		{
			Reply reply = ask(*r, bad);
			CPPUNIT_ASSERT_MESSAGE(bad, reply.action == Reply::Action::Send);
			CPPUNIT_ASSERT_MESSAGE(reply.payload, reply.payload.find("{\"error\":\"invalid JSON: ") == 0);
		}
		CPPUNIT_ASSERT(ask(*r, R"({"nested":{"x":[1.5e3,-0.25,"\u00e9\n"]}})").payload.find("error") == std::string::npos);
	}

	void testRateLimit()
	{
		auto r = _registry->create("rate-limit", Settings{{"per_second", "10"}});
		for (int i = 0; i < 10; ++i)
		{
			Reply reply = ask(*r, "m" + std::to_string(i), 1);
			CPPUNIT_ASSERT(reply.action == Reply::Action::Send);
			CPPUNIT_ASSERT_EQUAL("m" + std::to_string(i), reply.payload);
		}
		// Another connection has its own budget.
		CPPUNIT_ASSERT(ask(*r, "other", 2).action == Reply::Action::Send);
		Reply over = ask(*r, "one too many", 1);
		CPPUNIT_ASSERT(over.action == Reply::Action::Close);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1008), over.closeCode);
	}

	void testRateLimitSettings()
	{
		CPPUNIT_ASSERT_THROW(_registry->create("rate-limit", Settings{{"per_second", "0"}}), std::invalid_argument);
		CPPUNIT_ASSERT_THROW(_registry->create("rate-limit", Settings{{"per_second", "fast"}}), std::invalid_argument);
	}

	void testTickerTicksForOpenConnections()
	{
		auto r = _registry->create("ticker", Settings{{"interval_ms", "20"}});
		RecordingOutbox outbox;
		r->attach(outbox);
		parley::ConnectionInfo first, second;
		first.id = 11;
		second.id = 12;
		r->onOpen(first);
		r->onOpen(second);
		CPPUNIT_ASSERT(outbox.waitFor(6));
		r->onClose(11);
		const std::size_t before = outbox.sent().size();
		CPPUNIT_ASSERT(outbox.waitFor(before + 3));
		auto sent = outbox.sent();
		const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
		for (std::size_t i = 0; i < sent.size(); ++i)
		{
			CPPUNIT_ASSERT(std::regex_match(sent[i].payload, iso));
			CPPUNIT_ASSERT(sent[i].connection == 11 || sent[i].connection == 12);
		}
		// After the close, only 12 gets ticks (allow one tick already under way).
		int lateFor11 = 0;
		for (std::size_t i = before; i < sent.size(); ++i)
			if (sent[i].connection == 11) ++lateFor11;
		CPPUNIT_ASSERT(lateFor11 <= 1);
		CPPUNIT_ASSERT(ask(*r, "ignored").action == Reply::Action::None);
		CPPUNIT_ASSERT_THROW(_registry->create("ticker", Settings{{"interval_ms", "0"}}), std::invalid_argument);
	}

	void testBroadcastPushesToRoute()
	{
		auto r = _registry->create("broadcast", {});
		RecordingOutbox outbox;
		r->attach(outbox);
		Reply reply = ask(*r, "hi all", 3);
		CPPUNIT_ASSERT(reply.action == Reply::Action::None);
		auto sent = outbox.sent();
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), sent.size());
		CPPUNIT_ASSERT_EQUAL(ConnectionId(0), sent[0].connection);
		CPPUNIT_ASSERT_EQUAL(std::string("hi all"), sent[0].payload);
	}

private:
	std::unique_ptr<test::LoadedRegistry> _plugins;
	PluginRegistry* _registry = nullptr;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(BundledPluginsTest, "plugins");
