//
// CodecUtf8Test.cpp — Utf8Validator against RFC 3629's table, incrementally and in one go.
//
#include "parley/codec/Utf8Validator.h"
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <random>
#include <string>

using parley::codec::Utf8Validator;

namespace {

/// A slow, obviously-correct reference: decode code points and check their ranges.
bool referenceValid(const std::string& s)
{
	std::size_t i = 0;
	while (i < s.size())
	{
		const unsigned b = static_cast<unsigned char>(s[i]);
		std::size_t n;
		unsigned cp;
		if (b < 0x80)
		{
			++i;
			continue;
		}
		else if ((b & 0xE0) == 0xC0)
		{
			n = 1;
			cp = b & 0x1F;
		}
		else if ((b & 0xF0) == 0xE0)
		{
			n = 2;
			cp = b & 0x0F;
		}
		else if ((b & 0xF8) == 0xF0)
		{
			n = 3;
			cp = b & 0x07;
		}
		else
		{
			return false;
		}
		if (i + n >= s.size())
			return false;
		for (std::size_t k = 1; k <= n; ++k)
		{
			const unsigned c = static_cast<unsigned char>(s[i + k]);
			if ((c & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (c & 0x3F);
		}
		const unsigned minimum = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
		if (cp < minimum || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n + 1;
	}
	return true;
}

bool byteByByte(const std::string& s)
{
	Utf8Validator v;
	for (char c : s)
	{
		if (!v.feed(&c, 1))
			return false;
	}
	return v.complete();
}

std::string bytes(std::initializer_list<int> list)
{
	std::string s;
	for (int b : list)
		s += static_cast<char>(b);
	return s;
}

} // namespace

class CodecUtf8Test: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(CodecUtf8Test);
	CPPUNIT_TEST(testValidBoundaries);
	CPPUNIT_TEST(testInvalidSequences);
	CPPUNIT_TEST(testTruncatedSequences);
	CPPUNIT_TEST(testFailsAtFirstProvingByte);
	CPPUNIT_TEST(testAsciiFastPathPositions);
	CPPUNIT_TEST(testStickyAndReset);
	CPPUNIT_TEST(testRandomAgainstReference);
	CPPUNIT_TEST_SUITE_END();

public:
	void testValidBoundaries()
	{
		const std::string valid[] = {"", "plain ASCII text, longer than eight bytes", bytes({0x00}), bytes({0x7F}),
			bytes({0xC2, 0x80}), bytes({0xDF, 0xBF}), bytes({0xE0, 0xA0, 0x80}), bytes({0xED, 0x9F, 0xBF}),
			bytes({0xEE, 0x80, 0x80}), bytes({0xEF, 0xBF, 0xBF}), bytes({0xF0, 0x90, 0x80, 0x80}),
			bytes({0xF3, 0xBF, 0xBF, 0xBF}), bytes({0xF4, 0x8F, 0xBF, 0xBF}),
			"Gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x98\x80 " + std::string(20, 'a') + "\xE4\xB8\xAD"};
		for (const std::string& s : valid)
		{
			CPPUNIT_ASSERT(Utf8Validator::isValid(s));
			CPPUNIT_ASSERT(byteByByte(s));
			CPPUNIT_ASSERT(referenceValid(s));
		}
	}

	void testInvalidSequences()
	{
		const std::string invalid[] = {bytes({0x80}), bytes({0xBF}), bytes({0xC0, 0x80}), bytes({0xC1, 0xBF}),
			bytes({0xC2, 0x41}), bytes({0xC2, 0xC0}), bytes({0xE0, 0x80, 0x80}), bytes({0xE0, 0x9F, 0xBF}),
			bytes({0xED, 0xA0, 0x80}), bytes({0xED, 0xBF, 0xBF}), bytes({0xE1, 0x80, 0x41}),
			bytes({0xF0, 0x80, 0x80, 0x80}), bytes({0xF0, 0x8F, 0xBF, 0xBF}), bytes({0xF4, 0x90, 0x80, 0x80}),
			bytes({0xF4, 0xBF, 0xBF, 0xBF}), bytes({0xF5, 0x80, 0x80, 0x80}), bytes({0xF8}), bytes({0xFE}), bytes({0xFF}),
			"abcdefghij" + bytes({0xFF}) + "klmnop"};
		for (const std::string& s : invalid)
		{
			CPPUNIT_ASSERT(!Utf8Validator::isValid(s));
			CPPUNIT_ASSERT(!byteByByte(s));
			CPPUNIT_ASSERT(!referenceValid(s));
			Utf8Validator v;
			CPPUNIT_ASSERT(!v.feed(s));
			CPPUNIT_ASSERT(!v.ok());
			CPPUNIT_ASSERT(!v.complete());
		}
	}

	void testTruncatedSequences()
	{
		for (const std::string& s : {bytes({0xC3}), bytes({0xE2, 0x82}), bytes({0xF0, 0x9F, 0x98}), bytes({'a', 0xE2})})
		{
			Utf8Validator v;
			CPPUNIT_ASSERT(v.feed(s)); // still a valid prefix
			CPPUNIT_ASSERT(v.ok());
			CPPUNIT_ASSERT(!v.complete());
			CPPUNIT_ASSERT(!Utf8Validator::isValid(s));
		}
		// Completed in a later call: valid 4-byte char split 1/3 and 2/2 and 3/1.
		const std::string smile = "\xF0\x9F\x98\x80";
		for (std::size_t cut = 1; cut < 4; ++cut)
		{
			Utf8Validator v;
			CPPUNIT_ASSERT(v.feed(smile.substr(0, cut)));
			CPPUNIT_ASSERT(!v.complete());
			CPPUNIT_ASSERT(v.feed(smile.substr(cut)));
			CPPUNIT_ASSERT(v.complete());
		}
	}

	void testFailsAtFirstProvingByte()
	{
		struct Case
		{
			std::string bytes;
			std::size_t failsAt; // index of the byte that proves the input invalid
		};
		const Case cases[] = {{bytes({0xF4, 0x90, 0x80, 0x80}), 1}, {bytes({0xE0, 0x80, 0x80}), 1},
			{bytes({0xED, 0xA0, 0x80}), 1}, {bytes({0xF0, 0x8F, 0x80, 0x80}), 1}, {bytes({0xE2, 0x82, 0x41}), 2},
			{bytes({0xF0, 0x9F, 0x98, 0x20}), 3}, {bytes({'a', 'b', 0xC0}), 2}, {bytes({0xF5}), 0}};
		for (const Case& c : cases)
		{
			Utf8Validator v;
			for (std::size_t i = 0; i < c.bytes.size(); ++i)
			{
				const bool fed = v.feed(&c.bytes[i], 1);
				CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(i), i < c.failsAt, fed);
			}
		}
	}

	void testAsciiFastPathPositions()
	{
		for (std::size_t length = 1; length < 40; ++length)
		{
			for (std::size_t bad = 0; bad < length; ++bad)
			{
				std::string s(length, 'a');
				s[bad] = static_cast<char>(0x80);
				CPPUNIT_ASSERT(!Utf8Validator::isValid(s));
				s[bad] = static_cast<char>(0xC3);
				CPPUNIT_ASSERT(!Utf8Validator::isValid(s)); // lead byte followed by ASCII or by nothing
				s.insert(bad + 1, 1, static_cast<char>(0xA9));
				CPPUNIT_ASSERT(Utf8Validator::isValid(s));
			}
		}
	}

	void testStickyAndReset()
	{
		Utf8Validator v;
		CPPUNIT_ASSERT(v.complete());
		CPPUNIT_ASSERT(!v.feed(bytes({0xC0})));
		CPPUNIT_ASSERT(!v.feed("ascii is fine otherwise"));
		CPPUNIT_ASSERT(!v.ok());
		v.reset();
		CPPUNIT_ASSERT(v.ok());
		CPPUNIT_ASSERT(v.feed("ascii"));
		CPPUNIT_ASSERT(v.complete());
		// reset() also forgets an open sequence.
		CPPUNIT_ASSERT(v.feed(bytes({0xE2})));
		v.reset();
		CPPUNIT_ASSERT(v.complete());
		CPPUNIT_ASSERT(v.feed("x"));
		CPPUNIT_ASSERT(v.complete());
	}

	void testRandomAgainstReference()
	{
		std::mt19937 rng(6455);
		const int interesting[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
			0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
		int valid = 0;
		for (int round = 0; round < 20000; ++round)
		{
			std::string s;
			const std::size_t size = rng() % 24;
			for (std::size_t i = 0; i < size; ++i)
			{
				const int kind = static_cast<int>(rng() % 4);
				s += static_cast<char>(kind == 0 ? interesting[rng() % (sizeof(interesting) / sizeof(int))]
							: kind == 1 ? 0x80 + static_cast<int>(rng() % 0x40)
										: static_cast<int>(rng() % 0x80));
			}
			const bool expected = referenceValid(s);
			valid += expected;
			CPPUNIT_ASSERT_EQUAL(expected, Utf8Validator::isValid(s));
			CPPUNIT_ASSERT_EQUAL(expected, byteByByte(s));
			// A random cut in the middle gives the same answer.
			const std::size_t cut = size ? rng() % size : 0;
			Utf8Validator v;
			const bool split = v.feed(s.substr(0, cut)) && v.feed(s.substr(cut)) && v.complete();
			CPPUNIT_ASSERT_EQUAL(expected, split);
		}
		// The generator produced both kinds in fair numbers.
		CPPUNIT_ASSERT(valid > 1000);
		CPPUNIT_ASSERT(valid < 19000);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(CodecUtf8Test, "core");
