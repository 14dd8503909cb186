//
// RandomSuffixTest.cpp — the real random-suffix and echo plugins loaded from the build.
//
#include "parley/PluginRegistry.h"
#include "support/LoadedRegistry.h"
#include <cppunit/extensions/HelperMacros.h>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>
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

/// Asks `r` about `text`; the reply must be text, sep and a number, which is returned.
long long drawNumber(Responder& r, const std::string& text, const std::string& sep = " ")
{
	Reply reply;
	const Message message{PayloadKind::Text, text};
	r.respond(message, reply);
	long long n = 0;
	const std::string whole = reply.bytes(message);
	CPPUNIT_ASSERT_MESSAGE(whole, reply.action == Reply::Action::Send && splitReply(whole, text, sep, n));
	return n;
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
	CPPUNIT_TEST(testNumbersWrittenExactly);
	CPPUNIT_TEST(testFullRangeAndUniformity);
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
			const Message message{PayloadKind::Text, msg};
			r->respond(message, reply);
			CPPUNIT_ASSERT(reply.action == Reply::Action::Send);
			// The message itself is quoted, not copied: only the suffix is in the payload.
			CPPUNIT_ASSERT(reply.quotesMessage);
			long long n = -1;
			const std::string whole = reply.bytes(message);
			CPPUNIT_ASSERT_MESSAGE(whole, splitReply(whole, msg, " ", n));
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
		std::set<long long> seen;
		for (int i = 0; i < 3000; ++i)
		{
			const long long n = drawNumber(*r, "x", " | ");
			CPPUNIT_ASSERT(n >= 10 && n <= 12);
			seen.insert(n);
		}
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), seen.size());
	}

	void testSingleValueRange()
	{
		auto r = _registry->create("random-suffix", Settings{{"separator", "#"}, {"min", "7"}, {"max", "7"}});
		Reply reply;
		const Message message{PayloadKind::Text, ""};
		r->respond(message, reply);
		CPPUNIT_ASSERT_EQUAL(std::string("#7"), reply.bytes(message));
	}

	void testNegativeRange()
	{
		auto r = _registry->create("random-suffix", Settings{{"min", "-5"}, {"max", "-1"}});
		for (int i = 0; i < 500; ++i)
		{
			const long long n = drawNumber(*r, "n");
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
		const Message message{PayloadKind::Binary, std::string_view("\xff\x00", 2)};
		r->respond(message, reply);
		CPPUNIT_ASSERT(reply.kind == PayloadKind::Binary);
		CPPUNIT_ASSERT_EQUAL(std::string("\xff\x00 ", 3), reply.bytes(message).substr(0, 3));
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
		const Message message{PayloadKind::Text, big};
		e->respond(message, reply);
		// Echo quotes the message: nothing of it is copied into the reply.
		CPPUNIT_ASSERT(reply.quotesMessage && reply.payload.empty());
		CPPUNIT_ASSERT(reply.bytes(message) == big);
		const Message empty{PayloadKind::Text, ""};
		e->respond(empty, reply);
		CPPUNIT_ASSERT(reply.action == Reply::Action::Send && reply.bytes(empty).empty());
	}

	void testNumbersWrittenExactly()
	{
		// A one-value range pins the number: every digit count, both signs, and both ends of the
		// 64-bit range are written exactly as std::to_string writes them.
		std::vector<std::int64_t> values{0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 65535, 999999, 1000000,
			4294967295LL, 4294967296LL, 999999999999LL, 1000000000000000000LL,
			std::numeric_limits<std::int64_t>::max(), -1, -9, -10, -100, -999999,
			std::numeric_limits<std::int64_t>::min() + 1, std::numeric_limits<std::int64_t>::min()};
		for (std::int64_t p = 1, k = 0; k < 18; ++k, p *= 10)
		{
			values.push_back(p - 1);
			values.push_back(p);
			values.push_back(-p);
		}
		for (std::int64_t v : values)
		{
			const std::string text = std::to_string(v);
			auto r = _registry->create("random-suffix", Settings{{"separator", "="}, {"min", text}, {"max", text}});
			Reply reply;
			const Message message{PayloadKind::Text, "v"};
			r->respond(message, reply);
			CPPUNIT_ASSERT_EQUAL("v=" + text, reply.bytes(message));
		}
	}

	void testFullRangeAndUniformity()
	{
		// The whole 64-bit range: both signs come up about equally.
		const std::string lo = std::to_string(std::numeric_limits<std::int64_t>::min());
		const std::string hi = std::to_string(std::numeric_limits<std::int64_t>::max());
		auto full = _registry->create("random-suffix", Settings{{"min", lo}, {"max", hi}});
		int negative = 0;
		for (int i = 0; i < 4000; ++i)
		{
			if (drawNumber(*full, "f") < 0) ++negative;
		}
		CPPUNIT_ASSERT(negative > 1700 && negative < 2300);

		// Ten values, 100,000 draws: each within 5 % of 10,000 (the chance of a fair generator
		// failing this is below one in a million). A range that does not divide 2^64 (3) too.
		for (int top : {9, 2})
		{
			auto r = _registry->create("random-suffix", Settings{{"min", "0"}, {"max", std::to_string(top)}});
			std::vector<int> counts(static_cast<std::size_t>(top) + 1, 0);
			const int draws = 10000 * (top + 1);
			for (int i = 0; i < draws; ++i)
			{
				const long long n = drawNumber(*r, "");
				CPPUNIT_ASSERT(n >= 0 && n <= top);
				++counts[static_cast<std::size_t>(n)];
			}
			for (int count : counts) CPPUNIT_ASSERT_MESSAGE(std::to_string(count), count > 9500 && count < 10500);
		}
	}

private:
	std::unique_ptr<test::LoadedRegistry> _plugins;
	PluginRegistry* _registry = nullptr;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(RandomSuffixTest, "plugins");
