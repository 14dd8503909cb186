//
// RandomSuffixTest.cpp — the real random-suffix and echo plugins loaded from the build.
//
#include "parley/PluginRegistry.h"
#include "support/LoadedRegistry.h"
#include <cppunit/extensions/HelperMacros.h>
#include <charconv>
#include <set>

using namespace parley;

namespace {

/// Splits reply = message + separator + integer; returns false if the shape is wrong.
bool splitReply(const std::string& reply, const std::string& message, const std::string& sep, long long& number)
{
	if (reply.compare(0, message.size(), message) != 0) return false;
	if (reply.compare(message.size(), sep.size(), sep) != 0) return false;
	const char* begin = reply.data() + message.size() + sep.size();
	const char* end = reply.data() + reply.size();
	if (begin == end) return false;
	auto [ptr, ec] = std::from_chars(begin, end, number);
	return ec == std::errc() && ptr == end;
}

} // namespace

class RandomSuffixTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(RandomSuffixTest);
	CPPUNIT_TEST(testDefaultFormatAndRange);
	CPPUNIT_TEST(testConfiguredSeparatorAndRange);
	CPPUNIT_TEST(testSingleValueRange);
	CPPUNIT_TEST(testNegativeRange);
	CPPUNIT_TEST(testBadRangeRefused);
	CPPUNIT_TEST(testBinaryKeepsKind);
	CPPUNIT_TEST(testInstancesIndependent);
	CPPUNIT_TEST(testEchoUnchanged);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_plugins.reset(new test::LoadedRegistry);
		_registry = &_plugins->registry();
	}
	void tearDown() override { _plugins.reset(); }

	void testDefaultFormatAndRange()
	{
		auto r = _registry->create("random-suffix", {});
		Reply reply;
		std::set<long long> seen;
		long long lo = 1 << 30, hi = -1;
		for (int i = 0; i < 20000; ++i)
		{
			const std::string msg = "message " + std::to_string(i);
			reply.none();
			r->respond(Message{PayloadKind::Text, msg}, reply);
			CPPUNIT_ASSERT(reply.action == Reply::Action::Send);
			long long n = -1;
			CPPUNIT_ASSERT_MESSAGE(reply.payload, splitReply(reply.payload, msg, " ", n));
			CPPUNIT_ASSERT(n >= 0 && n <= 999999);
			seen.insert(n);
			lo = std::min(lo, n);
			hi = std::max(hi, n);
		}
		// 20,000 draws from a million values: nearly all distinct, and spread over the range.
		CPPUNIT_ASSERT(seen.size() > 19000);
		CPPUNIT_ASSERT(lo < 100000);
		CPPUNIT_ASSERT(hi > 900000);
	}

	void testConfiguredSeparatorAndRange()
	{
		auto r = _registry->create("random-suffix", Settings{{"separator", "\" | \""}, {"min", "10"}, {"max", "12"}});
		Reply reply;
		std::set<long long> seen;
		for (int i = 0; i < 3000; ++i)
		{
			r->respond(Message{PayloadKind::Text, "x"}, reply);
			long long n = -1;
			CPPUNIT_ASSERT_MESSAGE(reply.payload, splitReply(reply.payload, "x", " | ", n));
			CPPUNIT_ASSERT(n >= 10 && n <= 12);
			seen.insert(n);
		}
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), seen.size());
	}

	void testSingleValueRange()
	{
		auto r = _registry->create("random-suffix", Settings{{"separator", "#"}, {"min", "7"}, {"max", "7"}});
		Reply reply;
		r->respond(Message{PayloadKind::Text, ""}, reply);
		CPPUNIT_ASSERT_EQUAL(std::string("#7"), reply.payload);
	}

	void testNegativeRange()
	{
		auto r = _registry->create("random-suffix", Settings{{"min", "-5"}, {"max", "-1"}});
		Reply reply;
		for (int i = 0; i < 500; ++i)
		{
			r->respond(Message{PayloadKind::Text, "n"}, reply);
			long long n = 0;
			CPPUNIT_ASSERT(splitReply(reply.payload, "n", " ", n));
			CPPUNIT_ASSERT(n >= -5 && n <= -1);
		}
	}

	void testBadRangeRefused()
	{
		CPPUNIT_ASSERT_THROW(_registry->create("random-suffix", Settings{{"min", "9"}, {"max", "3"}}), std::invalid_argument);
		CPPUNIT_ASSERT_THROW(_registry->create("random-suffix", Settings{{"min", "1x"}}), std::invalid_argument);
		CPPUNIT_ASSERT_THROW(_registry->create("random-suffix", Settings{{"max", ""}}), std::invalid_argument);
	}

	void testBinaryKeepsKind()
	{
		auto r = _registry->create("random-suffix", {});
		Reply reply;
		r->respond(Message{PayloadKind::Binary, std::string_view("\xff\x00", 2)}, reply);
		CPPUNIT_ASSERT(reply.kind == PayloadKind::Binary);
		CPPUNIT_ASSERT_EQUAL(std::string("\xff\x00 ", 3), reply.payload.substr(0, 3));
	}

	void testInstancesIndependent()
	{
		// Two instances (two event loops) draw different sequences.
		auto a = _registry->create("random-suffix", {});
		auto b = _registry->create("random-suffix", {});
		Reply ra, rb;
		int same = 0;
		for (int i = 0; i < 100; ++i)
		{
			a->respond(Message{PayloadKind::Text, "m"}, ra);
			b->respond(Message{PayloadKind::Text, "m"}, rb);
			if (ra.payload == rb.payload) ++same;
		}
		CPPUNIT_ASSERT(same < 5);
	}

	void testEchoUnchanged()
	{
		auto e = _registry->create("echo", {});
		Reply reply;
		const std::string big(100000, 'z');
		e->respond(Message{PayloadKind::Text, big}, reply);
		CPPUNIT_ASSERT(reply.payload == big);
		e->respond(Message{PayloadKind::Text, ""}, reply);
		CPPUNIT_ASSERT(reply.action == Reply::Action::Send && reply.payload.empty());
	}

private:
	std::unique_ptr<test::LoadedRegistry> _plugins;
	PluginRegistry* _registry = nullptr;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(RandomSuffixTest, "plugins");
