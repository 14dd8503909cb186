//
// DeflateTest.cpp — MessageDeflater and MessageInflater: RFC 7692 §7.2.3's examples byte for
// byte, settings, round trips in any split with and without context takeover, the size limit
// enforced while inflating (decompression bomb), corrupt input, reuse across messages.
//
#include "parley/codec/Deflate.h"
#include "parley/codec/Opcode.h"
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <random>
#include <string>
#include <vector>

using parley::codec::MessageDeflater;
using parley::codec::MessageInflater;
using InflateError = MessageInflater::Error;
namespace CloseCode = parley::codec::CloseCode;

namespace {

std::string bytes(std::initializer_list<int> list)
{
	std::string s;
	for (int b : list)
		s += static_cast<char>(b);
	return s;
}

std::string hex(const std::string& s)
{
	static const char digits[] = "0123456789abcdef";
	std::string h;
	for (unsigned char c : s)
	{
		if (!h.empty())
			h += ' ';
		h += digits[c >> 4];
		h += digits[c & 15];
	}
	return h;
}

std::string compressOne(MessageDeflater& deflater, const std::string& message)
{
	std::string out;
	CPPUNIT_ASSERT(deflater.compress(message, out));
	return out;
}

/// Inflates one whole message fed in pieces of `piece` bytes (0 = in one go); asserts success.
std::string inflateOne(MessageInflater& inflater, const std::string& wire, std::size_t piece = 0,
	std::uint64_t maxSize = 1u << 30)
{
	std::string out;
	InflateError error = InflateError::None;
	if (piece == 0)
		piece = wire.size() + 1;
	for (std::size_t i = 0; i < wire.size(); i += piece)
		CPPUNIT_ASSERT(inflater.feed(std::string_view(wire).substr(i, piece), out, maxSize, error));
	CPPUNIT_ASSERT(inflater.finish(out, maxSize, error));
	CPPUNIT_ASSERT(error == InflateError::None);
	return out;
}

/// Feeds one whole message and returns the error (None if it inflated).
InflateError inflateError(MessageInflater& inflater, const std::string& wire, std::uint64_t maxSize, std::string& out)
{
	InflateError error = InflateError::None;
	if (!inflater.feed(wire, out, maxSize, error))
		return error;
	if (!inflater.finish(out, maxSize, error))
		return error;
	return InflateError::None;
}

std::string randomBytes(std::mt19937& rng, std::size_t n)
{
	std::string s(n, '\0');
	for (auto& c : s)
		c = static_cast<char>(rng() & 0xff);
	return s;
}

/// JSON-like text: compresses well.
std::string compressible(std::mt19937& rng, std::size_t n)
{
	static const char* words[] = {"{\"id\":", "\"name\":\"parley\",", "\"value\":", "[1,2,3],", "\"ok\":true}", " "};
	std::string s;
	while (s.size() < n)
	{
		s += words[rng() % 6];
		s += std::to_string(rng() % 100);
	}
	s.resize(n);
	return s;
}

const std::string Hello = "Hello";
const std::string RfcHello = bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
const std::string RfcHelloAgain = bytes({0xf2, 0x00, 0x11, 0x00, 0x00});
const std::string RfcStored = bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00});
const std::string RfcFinal = bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00});
const std::string RfcTwoBlocks =
	bytes({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00});

MessageDeflater::Settings deflaterSettings(bool takeover, int level = 6, int windowBits = 15, int memLevel = 8)
{
	MessageDeflater::Settings s;
	s.contextTakeover = takeover;
	s.level = level;
	s.windowBits = windowBits;
	s.memLevel = memLevel;
	return s;
}

MessageInflater::Settings inflaterSettings(bool takeover, int windowBits = 15)
{
	MessageInflater::Settings s;
	s.contextTakeover = takeover;
	s.windowBits = windowBits;
	return s;
}

} // namespace

class DeflateTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(DeflateTest);
	CPPUNIT_TEST(testRfcCompressHello);
	CPPUNIT_TEST(testRfcSharedWindow);
	CPPUNIT_TEST(testRfcInflateExamples);
	CPPUNIT_TEST(testFinalBlockKeepsWindow);
	CPPUNIT_TEST(testEmptyMessage);
	CPPUNIT_TEST(testAppendsToOutput);
	CPPUNIT_TEST(testTwoPieces);
	CPPUNIT_TEST(testSettingsClamped);
	CPPUNIT_TEST(testLevels);
	CPPUNIT_TEST(testWindowBits);
	CPPUNIT_TEST(testMemoryLazyAndReleased);
	CPPUNIT_TEST(testRoundTrips);
	CPPUNIT_TEST(testOneBytePieces);
	CPPUNIT_TEST(testSharedDeflater);
	CPPUNIT_TEST(testDecompressionBomb);
	CPPUNIT_TEST(testLimitExact);
	CPPUNIT_TEST(testCorrupt);
	CPPUNIT_TEST(testInflaterReuse);
	CPPUNIT_TEST_SUITE_END();

public:
	/// §7.2.3.1: "Hello" compressed is f2 48 cd c9 c9 07 00.
	void testRfcCompressHello()
	{
		for (bool takeover : {true, false})
		{
			MessageDeflater deflater(deflaterSettings(takeover));
			CPPUNIT_ASSERT_EQUAL(hex(RfcHello), hex(compressOne(deflater, Hello)));
		}
	}

	/// §7.2.3.2: with context takeover the second "Hello" refers back: f2 00 11 00 00; without it
	/// the second message is compressed alone again.
	void testRfcSharedWindow()
	{
		MessageDeflater keep(deflaterSettings(true));
		CPPUNIT_ASSERT_EQUAL(hex(RfcHello), hex(compressOne(keep, Hello)));
		CPPUNIT_ASSERT_EQUAL(hex(RfcHelloAgain), hex(compressOne(keep, Hello)));
		MessageDeflater fresh(deflaterSettings(false));
		CPPUNIT_ASSERT_EQUAL(hex(RfcHello), hex(compressOne(fresh, Hello)));
		CPPUNIT_ASSERT_EQUAL(hex(RfcHello), hex(compressOne(fresh, Hello)));

		MessageInflater inflater(inflaterSettings(true));
		CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcHello));
		CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcHelloAgain));
	}

	/// §7.2.3.1 fragmented (f2 48 cd | c9 c9 07 00), §7.2.3.3 a stored block, §7.2.3.4 a block with
	/// BFINAL set, §7.2.3.5 two blocks; and level 0 produces §7.2.3.3's bytes exactly.
	void testRfcInflateExamples()
	{
		for (bool takeover : {true, false})
		{
			MessageInflater inflater(inflaterSettings(takeover));
			CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcHello));
			CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcHello, 3));
			CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcStored));
			CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcFinal));
			CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcTwoBlocks));
			CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcTwoBlocks, 8));
			CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcFinal, 1));
			CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcHello));
		}
		MessageDeflater stored(deflaterSettings(false, 0));
		CPPUNIT_ASSERT_EQUAL(hex(RfcStored), hex(compressOne(stored, Hello)));
	}

	/// A BFINAL block ends zlib's stream, not the window: with context takeover the next message
	/// may still refer to it. A BFINAL block that ends the payload exactly (no trailing 00) also
	/// works and does not disturb the next message.
	void testFinalBlockKeepsWindow()
	{
		MessageInflater inflater(inflaterSettings(true));
		CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcFinal));
		CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcHelloAgain));
		const std::string exact = RfcFinal.substr(0, RfcFinal.size() - 1);
		CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, exact));
		CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcHelloAgain));
		CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcHello));
	}

	/// An empty message compresses to the single byte 00; 00 and an empty payload inflate to "".
	void testEmptyMessage()
	{
		for (bool takeover : {true, false})
		{
			MessageDeflater deflater(deflaterSettings(takeover));
			CPPUNIT_ASSERT_EQUAL(hex(bytes({0x00})), hex(compressOne(deflater, "")));
			MessageInflater inflater(inflaterSettings(takeover));
			CPPUNIT_ASSERT_EQUAL(std::string(), inflateOne(inflater, bytes({0x00})));
			CPPUNIT_ASSERT_EQUAL(std::string(), inflateOne(inflater, ""));
			CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcHello));
		}
	}

	void testAppendsToOutput()
	{
		MessageDeflater deflater;
		std::string out = "head";
		CPPUNIT_ASSERT(deflater.compress(Hello, out));
		CPPUNIT_ASSERT_EQUAL(hex("head" + RfcHello), hex(out));
		MessageInflater inflater;
		std::string plain = "x";
		InflateError error = InflateError::None;
		CPPUNIT_ASSERT(inflater.feed(RfcHello, plain, 5, error));
		CPPUNIT_ASSERT(inflater.finish(plain, 5, error));
		CPPUNIT_ASSERT_EQUAL(std::string("xHello"), plain);
	}

	void testTwoPieces()
	{
		// A reply that quotes the message and adds to it is compressed from its two pieces: the
		// same bytes as the joined message, with and without context takeover, any split.
		std::mt19937 rng(7);
		for (bool takeover : {false, true})
		{
			MessageDeflater joined(deflaterSettings(takeover, 1));
			MessageDeflater split(deflaterSettings(takeover, 1));
			MessageInflater inflater(inflaterSettings(takeover));
			for (std::size_t size : {1u, 5u, 300u, 70000u})
			{
				const std::string message = compressible(rng, size);
				for (std::size_t cut : {std::size_t(0), size / 2, size})
				{
					const std::string head = message.substr(0, cut);
					const std::string tail = message.substr(cut);
					std::string a, b;
					CPPUNIT_ASSERT(joined.compress(message, a));
					CPPUNIT_ASSERT(split.compress(head, tail, b));
					CPPUNIT_ASSERT_EQUAL(hex(a), hex(b));
					CPPUNIT_ASSERT_EQUAL(message, inflateOne(inflater, b));
				}
			}
			std::string empty;
			CPPUNIT_ASSERT(split.compress(std::string_view(), std::string_view(), empty));
			CPPUNIT_ASSERT_EQUAL(std::string(1, '\0'), empty);
		}
	}

	void testSettingsClamped()
	{
		MessageDeflater low(deflaterSettings(true, -3, 8, 0));
		CPPUNIT_ASSERT_EQUAL(0, low.settings().level);
		CPPUNIT_ASSERT_EQUAL(9, low.settings().windowBits); // raw deflate cannot use 8
		CPPUNIT_ASSERT_EQUAL(1, low.settings().memLevel);
		MessageDeflater high(deflaterSettings(false, 12, 20, 12));
		CPPUNIT_ASSERT_EQUAL(9, high.settings().level);
		CPPUNIT_ASSERT_EQUAL(15, high.settings().windowBits);
		CPPUNIT_ASSERT_EQUAL(9, high.settings().memLevel);
		CPPUNIT_ASSERT(!low.isShareable());
		CPPUNIT_ASSERT(high.isShareable());
		CPPUNIT_ASSERT_EQUAL(8, MessageInflater(inflaterSettings(true, 3)).settings().windowBits);
		CPPUNIT_ASSERT_EQUAL(15, MessageInflater(inflaterSettings(true, 16)).settings().windowBits);
		CPPUNIT_ASSERT_EQUAL(CloseCode::MessageTooBig, MessageInflater::closeCodeFor(InflateError::TooBig));
		CPPUNIT_ASSERT_EQUAL(CloseCode::ProtocolError, MessageInflater::closeCodeFor(InflateError::Corrupt));
		CPPUNIT_ASSERT_EQUAL(CloseCode::InternalError, MessageInflater::closeCodeFor(InflateError::NoMemory));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), MessageInflater::closeCodeFor(InflateError::None));
	}

	/// Every level round-trips; level 0 stores (a little larger than the input), 9 compresses
	/// compressible data at least as well as 1.
	void testLevels()
	{
		std::mt19937 rng(7);
		const std::string text = compressible(rng, 50000);
		std::vector<std::size_t> sizes;
		for (int level = 0; level <= 9; ++level)
		{
			MessageDeflater deflater(deflaterSettings(false, level));
			const std::string wire = compressOne(deflater, text);
			MessageInflater inflater(inflaterSettings(false));
			CPPUNIT_ASSERT(text == inflateOne(inflater, wire));
			sizes.push_back(wire.size());
		}
		CPPUNIT_ASSERT(sizes[0] > text.size());
		CPPUNIT_ASSERT(sizes[1] < text.size() / 2);
		CPPUNIT_ASSERT(sizes[9] <= sizes[1]);
	}

	/// A 9-bit window cannot reach back 1000 bytes; an inflater with a 9-bit window inflates what
	/// a 9-bit deflater made. (zlib does not promise to refuse a reference beyond a small window
	/// while the referenced bytes are still in its output buffer, so that is not asserted.)
	void testWindowBits()
	{
		std::mt19937 rng(9);
		const std::string block = randomBytes(rng, 1000);
		const std::string twice = block + block;
		MessageDeflater wide(deflaterSettings(false, 6, 15));
		MessageDeflater narrow(deflaterSettings(false, 6, 9));
		const std::string wideWire = compressOne(wide, twice);
		const std::string narrowWire = compressOne(narrow, twice);
		CPPUNIT_ASSERT(wideWire.size() < 1200);
		CPPUNIT_ASSERT(narrowWire.size() > 1900);
		MessageInflater small(inflaterSettings(false, 9));
		CPPUNIT_ASSERT(twice == inflateOne(small, narrowWire));
		MessageInflater big(inflaterSettings(false, 15));
		CPPUNIT_ASSERT(twice == inflateOne(big, narrowWire));
		CPPUNIT_ASSERT(twice == inflateOne(big, wideWire));
	}

	/// No zlib memory until the first message; release() frees it; memLevel and window bits
	/// bound it.
	void testMemoryLazyAndReleased()
	{
		MessageDeflater deflater(deflaterSettings(false));
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), deflater.memoryHeld());
		compressOne(deflater, Hello);
		const std::size_t full = deflater.memoryHeld();
		CPPUNIT_ASSERT(full > (std::size_t(1) << 17));
		deflater.release();
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), deflater.memoryHeld());
		CPPUNIT_ASSERT_EQUAL(hex(RfcHello), hex(compressOne(deflater, Hello)));

		MessageDeflater lean(deflaterSettings(false, 6, 9, 1));
		compressOne(lean, Hello);
		CPPUNIT_ASSERT(lean.memoryHeld() > 0);
		CPPUNIT_ASSERT(lean.memoryHeld() < full / 8);

		MessageInflater inflater(inflaterSettings(true));
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), inflater.memoryHeld());
		inflateOne(inflater, RfcHello);
		const std::size_t inflating = inflater.memoryHeld();
		CPPUNIT_ASSERT(inflating > (std::size_t(1) << 15));
		inflater.release();
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), inflater.memoryHeld());
		MessageInflater narrow(inflaterSettings(true, 9));
		inflateOne(narrow, RfcHello);
		CPPUNIT_ASSERT(narrow.memoryHeld() < inflating);
	}

	/// Random and compressible messages of many sizes, ten per stream, with and without context
	/// takeover, fed in random splits.
	void testRoundTrips()
	{
		std::mt19937 rng(12345);
		const std::size_t sizes[] = {0, 1, 2, 5, 100, 1000, 16383, 16384, 16385, 65536, 200000};
		for (bool takeover : {true, false})
		{
			for (bool random : {true, false})
			{
				MessageDeflater deflater(deflaterSettings(takeover));
				MessageInflater inflater(inflaterSettings(takeover));
				for (int round = 0; round < 2; ++round)
				{
					for (std::size_t size : sizes)
					{
						const std::string message = random ? randomBytes(rng, size) : compressible(rng, size);
						const std::string wire = compressOne(deflater, message);
						if (!random && size >= 1000)
							CPPUNIT_ASSERT(wire.size() < size / 2);
						std::string out;
						InflateError error = InflateError::None;
						std::size_t at = 0;
						while (at < wire.size())
						{
							const std::size_t n = std::min<std::size_t>(wire.size() - at, 1 + rng() % 5000);
							CPPUNIT_ASSERT(inflater.feed(std::string_view(wire).substr(at, n), out, size, error));
							at += n;
						}
						CPPUNIT_ASSERT(inflater.finish(out, size, error));
						CPPUNIT_ASSERT_EQUAL(message.size(), out.size());
						CPPUNIT_ASSERT(message == out);
					}
				}
			}
		}
	}

	void testOneBytePieces()
	{
		std::mt19937 rng(3);
		for (bool takeover : {true, false})
		{
			MessageDeflater deflater(deflaterSettings(takeover));
			MessageInflater inflater(inflaterSettings(takeover));
			for (int i = 0; i < 4; ++i)
			{
				const std::string message = compressible(rng, 3000) + randomBytes(rng, 300);
				CPPUNIT_ASSERT(message == inflateOne(inflater, compressOne(deflater, message), 1, message.size()));
			}
		}
	}

	/// Without context takeover one deflater serves interleaved connections: each message
	/// inflates on its own, and the output is the same as a private deflater's.
	void testSharedDeflater()
	{
		std::mt19937 rng(5);
		MessageDeflater shared(deflaterSettings(false));
		CPPUNIT_ASSERT(shared.isShareable());
		std::vector<MessageDeflater> own;
		std::vector<MessageInflater> peers;
		for (int c = 0; c < 3; ++c)
		{
			own.emplace_back(deflaterSettings(false));
			peers.emplace_back(inflaterSettings(false));
		}
		for (int i = 0; i < 30; ++i)
		{
			const int c = i % 3;
			const std::string message = compressible(rng, 100 + rng() % 4000);
			const std::string wire = compressOne(shared, message);
			CPPUNIT_ASSERT(wire == compressOne(own[c], message));
			CPPUNIT_ASSERT(message == inflateOne(peers[c], wire));
		}
	}

	/// 10 MB of zeros compress to about 10 KB; with a 1 MB limit inflating stops with TooBig and
	/// the output never grows beyond the limit (+1 byte of proof), in one piece or many.
	void testDecompressionBomb()
	{
		const std::string zeros(10u * 1024u * 1024u, '\0');
		MessageDeflater deflater(deflaterSettings(false, 9));
		const std::string bomb = compressOne(deflater, zeros);
		CPPUNIT_ASSERT(bomb.size() < 12 * 1024);
		const std::uint64_t limit = 1u << 20;
		for (std::size_t piece : {bomb.size(), std::size_t(1000), std::size_t(1)})
		{
			MessageInflater inflater(inflaterSettings(true));
			std::string out;
			InflateError error = InflateError::None;
			bool failed = false;
			for (std::size_t at = 0; at < bomb.size() && !failed; at += piece)
			{
				const std::size_t before = out.size();
				failed = !inflater.feed(std::string_view(bomb).substr(at, piece), out, limit, error);
				CPPUNIT_ASSERT(out.size() <= limit);
				if (failed)
					CPPUNIT_ASSERT_EQUAL(before, out.size()); // cut back to where the call began
			}
			CPPUNIT_ASSERT(failed);
			CPPUNIT_ASSERT(error == InflateError::TooBig);
			CPPUNIT_ASSERT(out.capacity() <= 2 * limit + 64 * 1024);
			// Sticky until reset.
			error = InflateError::None;
			CPPUNIT_ASSERT(!inflater.finish(out, limit, error));
			CPPUNIT_ASSERT(error == InflateError::TooBig);
			inflater.reset();
			CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcHello));
		}
	}

	/// A message of exactly maxSize passes, one byte more fails; the limit covers all the
	/// message's pieces together and starts again with the next message.
	void testLimitExact()
	{
		std::mt19937 rng(11);
		for (std::size_t size : {std::size_t(0), std::size_t(1), std::size_t(5), std::size_t(16384), std::size_t(40000)})
		{
			const std::string message = compressible(rng, size);
			MessageDeflater deflater(deflaterSettings(false));
			const std::string wire = compressOne(deflater, message);
			MessageInflater inflater(inflaterSettings(false));
			CPPUNIT_ASSERT(message == inflateOne(inflater, wire, 7, size));
			CPPUNIT_ASSERT(message == inflateOne(inflater, wire, 0, size));
			if (size > 0)
			{
				std::string out;
				CPPUNIT_ASSERT(InflateError::TooBig == inflateError(inflater, wire, size - 1, out));
				inflater.reset();
			}
			CPPUNIT_ASSERT(message == inflateOne(inflater, wire, 0, size));
		}
		MessageInflater inflater;
		std::string out;
		CPPUNIT_ASSERT(InflateError::TooBig == inflateError(inflater, RfcHello, 4, out));
		CPPUNIT_ASSERT(out.size() <= 4);
		// The largest limit is no limit (a client's maxMessageSize may be that): room for "one
		// byte more than allowed" must not wrap around to none.
		MessageInflater unlimited;
		CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(unlimited, RfcHello, 0, ~std::uint64_t(0)));
		CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(unlimited, RfcHello, 3, ~std::uint64_t(0) - 1));
	}

	/// Data that is not raw deflate fails with Corrupt (1002), sticky until reset().
	void testCorrupt()
	{
		const std::string garbage[] = {
			bytes({0xff, 0xff, 0xff, 0xff}),                          // reserved block type 11
			bytes({0x00, 0x05, 0x00, 0x00, 0x00, 0x48}),              // stored block, NLEN wrong
			bytes({0xf2, 0x00, 0x11, 0x00, 0x00}),                    // refers to a window it never had
			bytes({0x07}) + std::string(64, '\xaa'),                  // reserved type, then junk
		};
		for (const std::string& wire : garbage)
		{
			for (bool takeover : {true, false})
			{
				MessageInflater inflater(inflaterSettings(takeover));
				std::string out = "keep";
				CPPUNIT_ASSERT(InflateError::Corrupt == inflateError(inflater, wire, 1u << 20, out));
				CPPUNIT_ASSERT_EQUAL(std::string("keep"), out);
				InflateError error = InflateError::None;
				CPPUNIT_ASSERT(!inflater.feed(RfcHello, out, 1u << 20, error));
				CPPUNIT_ASSERT(error == InflateError::Corrupt);
				inflater.reset();
				CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(inflater, RfcHello));
			}
		}
		// Random bytes: never a crash, and either an error or some output.
		std::mt19937 rng(17);
		for (int i = 0; i < 200; ++i)
		{
			MessageInflater inflater;
			std::string out;
			const InflateError e = inflateError(inflater, randomBytes(rng, 1 + rng() % 300), 1u << 16, out);
			CPPUNIT_ASSERT(e == InflateError::None || e == InflateError::Corrupt || e == InflateError::TooBig);
			CPPUNIT_ASSERT(out.size() <= (1u << 16));
		}
	}

	/// One inflater across messages: with takeover the window carries over (the second message
	/// depends on the first), without it every message stands alone and a back-reference into
	/// the previous message is Corrupt.
	void testInflaterReuse()
	{
		std::mt19937 rng(21);
		const std::string first = compressible(rng, 5000);
		MessageDeflater keep(deflaterSettings(true));
		const std::string wire1 = compressOne(keep, first);
		const std::string wire2 = compressOne(keep, first);
		CPPUNIT_ASSERT(wire2.size() < 64);

		MessageInflater withTakeover(inflaterSettings(true));
		CPPUNIT_ASSERT(first == inflateOne(withTakeover, wire1));
		CPPUNIT_ASSERT(first == inflateOne(withTakeover, wire2));

		MessageInflater without(inflaterSettings(false));
		CPPUNIT_ASSERT(first == inflateOne(without, wire1));
		std::string out;
		CPPUNIT_ASSERT(InflateError::Corrupt == inflateError(without, wire2, 1u << 20, out));
		without.reset();
		CPPUNIT_ASSERT(first == inflateOne(without, wire1));
		CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(without, RfcHello));
		CPPUNIT_ASSERT_EQUAL(Hello, inflateOne(without, RfcHello));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(DeflateTest, "core");
