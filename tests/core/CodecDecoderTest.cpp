//
// CodecDecoderTest.cpp — FrameDecoder: RFC 6455 §5.7 examples under every byte split, errors and
// their close codes, fragments with interleaved control frames, incremental UTF-8, round trips.
//
#include "parley/codec/FrameDecoder.h"
#include "parley/codec/FrameEncoder.h"
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <random>
#include <string>
#include <vector>

using parley::codec::FrameDecoder;
using parley::codec::FrameEncoder;
using parley::codec::Opcode;
using parley::codec::Role;
namespace CloseCode = parley::codec::CloseCode;
using Type = FrameDecoder::EventType;

namespace {

struct Seen
{
	Type type;
	std::string payload;
	std::uint16_t closeCode;
};

bool operator==(const Seen& a, const Seen& b)
{
	return a.type == b.type && a.payload == b.payload && a.closeCode == b.closeCode;
}

std::string describe(const std::vector<Seen>& events)
{
	std::string s;
	for (const Seen& e : events)
	{
		s += "[type " + std::to_string(static_cast<int>(e.type)) + " size " + std::to_string(e.payload.size()) +
			" code " + std::to_string(e.closeCode) + "]";
	}
	return s;
}

/// Feeds `wire` cut at `cuts` (ascending offsets) and returns every event up to NeedMore at the end
/// or the first Error. Checks the consumption contract on the way.
std::vector<Seen> feed(FrameDecoder& decoder, std::string wire, const std::vector<std::size_t>& cuts)
{
	std::vector<Seen> events;
	std::size_t start = 0;
	std::vector<std::size_t> ends(cuts);
	ends.push_back(wire.size());
	for (std::size_t end : ends)
	{
		if (end < start)
			continue;
		std::size_t pos = start;
		for (;;)
		{
			FrameDecoder::Event e;
			const std::size_t n = decoder.decode(&wire[0] + pos, end - pos, e);
			CPPUNIT_ASSERT(n <= end - pos);
			pos += n;
			if (e.type == Type::NeedMore)
			{
				CPPUNIT_ASSERT_EQUAL(end, pos);
				break;
			}
			events.push_back({e.type, std::string(e.payload), e.closeCode});
			if (e.type == Type::Error)
				return events;
		}
		start = end;
	}
	return events;
}

std::vector<Seen> feedWhole(FrameDecoder& decoder, const std::string& wire)
{
	return feed(decoder, wire, {});
}

std::vector<Seen> feedBytes(FrameDecoder& decoder, const std::string& wire)
{
	std::vector<std::size_t> cuts;
	for (std::size_t i = 1; i < wire.size(); ++i)
		cuts.push_back(i);
	return feed(decoder, wire, cuts);
}

std::vector<Seen> feedRandom(FrameDecoder& decoder, const std::string& wire, unsigned seed)
{
	std::mt19937 rng(seed);
	std::vector<std::size_t> cuts;
	std::size_t at = 0;
	while (!wire.empty())
	{
		// Mostly small pieces, sometimes large ones.
		const std::size_t step = (rng() % 4 == 0) ? 1 + rng() % 4096 : 1 + rng() % 17;
		at += step;
		if (at >= wire.size())
			break;
		cuts.push_back(at);
	}
	return feed(decoder, wire, cuts);
}

/// Same events whole, one byte at a time, and in random splits (fixed seeds).
void checkAllSplits(Role role, const std::string& wire, const std::vector<Seen>& expected)
{
	{
		FrameDecoder d(role);
		const auto got = feedWhole(d, wire);
		CPPUNIT_ASSERT_MESSAGE("whole: " + describe(got), got == expected);
	}
	{
		FrameDecoder d(role);
		const auto got = feedBytes(d, wire);
		CPPUNIT_ASSERT_MESSAGE("bytewise: " + describe(got), got == expected);
	}
	for (unsigned seed = 1; seed <= 20; ++seed)
	{
		FrameDecoder d(role);
		const auto got = feedRandom(d, wire, seed);
		CPPUNIT_ASSERT_MESSAGE("seed " + std::to_string(seed) + ": " + describe(got), got == expected);
	}
}

/// Expects that `wire` (fed whole, bytewise and in random splits) ends in Error with `code`.
void checkError(Role role, const std::string& wire, std::uint16_t code, std::size_t eventsBefore = 0)
{
	std::vector<std::vector<Seen>> runs;
	{
		FrameDecoder d(role);
		runs.push_back(feedWhole(d, wire));
	}
	{
		FrameDecoder d(role);
		runs.push_back(feedBytes(d, wire));
	}
	for (unsigned seed = 1; seed <= 5; ++seed)
	{
		FrameDecoder d(role);
		runs.push_back(feedRandom(d, wire, seed));
	}
	for (const auto& got : runs)
	{
		CPPUNIT_ASSERT_EQUAL_MESSAGE(describe(got), eventsBefore + 1, got.size());
		CPPUNIT_ASSERT_MESSAGE(describe(got), got.back().type == Type::Error);
		CPPUNIT_ASSERT_EQUAL(code, got.back().closeCode);
	}
}

const std::uint8_t Mask[4] = {0x37, 0xfa, 0x21, 0x3d};

std::string frame(Opcode op, std::string_view payload, bool fin, Role sender)
{
	std::string out;
	FrameEncoder::appendFrame(out, op, payload, fin, sender == Role::Client ? Mask : nullptr);
	return out;
}

/// A frame a client sends (masked), for a Server-role decoder.
std::string fromClient(Opcode op, std::string_view payload, bool fin = true)
{
	return frame(op, payload, fin, Role::Client);
}

/// A frame a server sends (unmasked), for a Client-role decoder.
std::string fromServer(Opcode op, std::string_view payload, bool fin = true)
{
	return frame(op, payload, fin, Role::Server);
}

std::string bytes(std::initializer_list<int> list)
{
	std::string s;
	for (int b : list)
		s += static_cast<char>(b);
	return s;
}

std::string pattern(std::size_t size)
{
	std::string s(size, '\0');
	for (std::size_t i = 0; i < size; ++i)
		s[i] = static_cast<char>((i * 7 + 3) & 0xFF);
	return s;
}

} // namespace

class CodecDecoderTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(CodecDecoderTest);
	CPPUNIT_TEST(testRsv1WithCompression);
	CPPUNIT_TEST(testRfcSingleUnmasked);
	CPPUNIT_TEST(testRfcSingleMasked);
	CPPUNIT_TEST(testRfcFragmented);
	CPPUNIT_TEST(testRfcPingPong);
	CPPUNIT_TEST(testRfc256Binary);
	CPPUNIT_TEST(testRfc64KiBBinary);
	CPPUNIT_TEST(testNonMinimalLengthsAccepted);
	CPPUNIT_TEST(testManyFramesInOneInput);
	CPPUNIT_TEST(testZeroCopyWholeFrame);
	CPPUNIT_TEST(testCutFrameIsGatheredAndBufferReused);
	CPPUNIT_TEST(testEmptyMessages);
	CPPUNIT_TEST(testControlFramesBetweenFragments);
	CPPUNIT_TEST(testInMessage);
	CPPUNIT_TEST(testCloseFrames);
	CPPUNIT_TEST(testCloseCodeTable);
	CPPUNIT_TEST(testRoundTrips);
	CPPUNIT_TEST(testUtf8SplitAcrossFragments);
	CPPUNIT_TEST(testMaskingErrors);
	CPPUNIT_TEST(testReservedBits);
	CPPUNIT_TEST(testUnknownOpcodes);
	CPPUNIT_TEST(testBadControlFrames);
	CPPUNIT_TEST(testFragmentationErrors);
	CPPUNIT_TEST(testLength64HighBit);
	CPPUNIT_TEST(testBadCloseFrames);
	CPPUNIT_TEST(testInvalidUtf8);
	CPPUNIT_TEST(testInvalidUtf8FailsEarly);
	CPPUNIT_TEST(testTooBigFailsAtHeader);
	CPPUNIT_TEST(testTooBigAcrossFragments);
	CPPUNIT_TEST(testErrorIsStickyAndResetClears);
	CPPUNIT_TEST_SUITE_END();

public:
	void testRfcSingleUnmasked()
	{
		checkAllSplits(Role::Client, bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), {{Type::Text, "Hello", 0}});
	}

	void testRfcSingleMasked()
	{
		const std::string wire = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
		checkAllSplits(Role::Server, wire, {{Type::Text, "Hello", 0}});
	}

	void testRfcFragmented()
	{
		const std::string wire = bytes({0x01, 0x03, 0x48, 0x65, 0x6c}) + bytes({0x80, 0x02, 0x6c, 0x6f});
		checkAllSplits(Role::Client, wire, {{Type::Text, "Hello", 0}});
	}

	void testRfcPingPong()
	{
		checkAllSplits(Role::Client, bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), {{Type::Ping, "Hello", 0}});
		const std::string pong = bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
		checkAllSplits(Role::Server, pong, {{Type::Pong, "Hello", 0}});
		const std::string ping = bytes({0x89, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
		checkAllSplits(Role::Server, ping, {{Type::Ping, "Hello", 0}});
	}

	void testRfc256Binary()
	{
		const std::string payload = pattern(256);
		const std::string wire = bytes({0x82, 0x7E, 0x01, 0x00}) + payload;
		checkAllSplits(Role::Client, wire, {{Type::Binary, payload, 0}});
		std::string masked = fromClient(Opcode::Binary, payload);
		CPPUNIT_ASSERT(masked.compare(0, 4, bytes({0x82, 0xFE, 0x01, 0x00})) == 0);
		checkAllSplits(Role::Server, masked, {{Type::Binary, payload, 0}});
	}

	void testRfc64KiBBinary()
	{
		const std::string payload = pattern(65536);
		const std::string wire = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}) + payload;
		checkAllSplits(Role::Client, wire, {{Type::Binary, payload, 0}});
		checkAllSplits(Role::Server, fromClient(Opcode::Binary, payload), {{Type::Binary, payload, 0}});
	}

	void testNonMinimalLengthsAccepted()
	{
		checkAllSplits(Role::Client, bytes({0x81, 0x7E, 0x00, 0x02}) + "hi", {{Type::Text, "hi", 0}});
		checkAllSplits(Role::Client, bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x03}) + "abc", {{Type::Binary, "abc", 0}});
	}

	void testManyFramesInOneInput()
	{
		std::string wire;
		std::vector<Seen> expected;
		for (int i = 0; i < 100; ++i)
		{
			const std::string text = "message " + std::to_string(i);
			wire += fromClient(i % 2 ? Opcode::Binary : Opcode::Text, text);
			expected.push_back({i % 2 ? Type::Binary : Type::Text, text, 0});
		}
		checkAllSplits(Role::Server, wire, expected);
	}

	void testZeroCopyWholeFrame()
	{
		std::string wire = fromClient(Opcode::Text, "first") + fromClient(Opcode::Ping, "p");
		FrameDecoder d(Role::Server);
		FrameDecoder::Event e;
		std::size_t n = d.decode(&wire[0], wire.size(), e);
		CPPUNIT_ASSERT(e.type == Type::Text);
		CPPUNIT_ASSERT_EQUAL(std::size_t(2 + 4 + 5), n);
		CPPUNIT_ASSERT(e.payload.data() == wire.data() + 6); // a view into the input, unmasked in place
		CPPUNIT_ASSERT_EQUAL(std::string("first"), wire.substr(6, 5));
		const std::size_t m = d.decode(&wire[0] + n, wire.size() - n, e);
		CPPUNIT_ASSERT(e.type == Type::Ping);
		CPPUNIT_ASSERT(e.payload.data() == wire.data() + n + 6);
		CPPUNIT_ASSERT_EQUAL(wire.size(), n + m);
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), d.decode(&wire[0] + n + m, 0, e));
		CPPUNIT_ASSERT(e.type == Type::NeedMore);
	}

	void testCutFrameIsGatheredAndBufferReused()
	{
		FrameDecoder d(Role::Server);
		const char* previous = nullptr;
		for (int round = 0; round < 3; ++round)
		{
			std::string wire = fromClient(Opcode::Binary, pattern(1000));
			FrameDecoder::Event e;
			CPPUNIT_ASSERT_EQUAL(std::size_t(500), d.decode(&wire[0], 500, e));
			CPPUNIT_ASSERT(e.type == Type::NeedMore);
			const std::size_t rest = wire.size() - 500;
			CPPUNIT_ASSERT_EQUAL(rest, d.decode(&wire[0] + 500, rest, e));
			CPPUNIT_ASSERT(e.type == Type::Binary);
			CPPUNIT_ASSERT(e.payload == pattern(1000));
			// Gathered, not a view into the input...
			CPPUNIT_ASSERT(e.payload.data() < wire.data() || e.payload.data() >= wire.data() + wire.size());
			// ...and the same internal buffer every time (capacity reused).
			if (previous)
				CPPUNIT_ASSERT(previous == e.payload.data());
			previous = e.payload.data();
		}
	}

	void testEmptyMessages()
	{
		checkAllSplits(Role::Server, fromClient(Opcode::Text, ""), {{Type::Text, "", 0}});
		checkAllSplits(Role::Server, fromClient(Opcode::Binary, ""), {{Type::Binary, "", 0}});
		checkAllSplits(Role::Client, fromServer(Opcode::Ping, ""), {{Type::Ping, "", 0}});
		const std::string fragments = fromServer(Opcode::Text, "", false) + fromServer(Opcode::Continuation, "", false) +
			fromServer(Opcode::Continuation, "");
		checkAllSplits(Role::Client, fragments + fromServer(Opcode::Binary, ""),
			{{Type::Text, "", 0}, {Type::Binary, "", 0}});
	}

	void testControlFramesBetweenFragments()
	{
		const std::string wire = fromClient(Opcode::Text, "Hel", false) + fromClient(Opcode::Ping, "p1") +
			fromClient(Opcode::Continuation, "l", false) + fromClient(Opcode::Pong, "") +
			fromClient(Opcode::Ping, pattern(125)) + fromClient(Opcode::Continuation, "o") +
			fromClient(Opcode::Binary, "after");
		checkAllSplits(Role::Server, wire,
			{{Type::Ping, "p1", 0}, {Type::Pong, "", 0}, {Type::Ping, pattern(125), 0}, {Type::Text, "Hello", 0},
				{Type::Binary, "after", 0}});
		const std::string closing = fromServer(Opcode::Binary, "ab", false) +
			bytes({0x88, 0x04, 0x03, 0xE8, 'o', 'k'}) + fromServer(Opcode::Continuation, "cd");
		checkAllSplits(Role::Client, closing, {{Type::Close, "ok", 1000}, {Type::Binary, "abcd", 0}});
	}

	void testInMessage()
	{
		FrameDecoder d(Role::Client);
		CPPUNIT_ASSERT(!d.inMessage());
		std::string wire = fromServer(Opcode::Text, "a", false);
		FrameDecoder::Event e;
		d.decode(&wire[0], wire.size(), e);
		CPPUNIT_ASSERT(e.type == Type::NeedMore);
		CPPUNIT_ASSERT(d.inMessage());
		wire = fromServer(Opcode::Continuation, "b");
		d.decode(&wire[0], wire.size(), e);
		CPPUNIT_ASSERT(e.type == Type::Text);
		CPPUNIT_ASSERT(!d.inMessage());
	}

	void testCloseFrames()
	{
		checkAllSplits(Role::Client, bytes({0x88, 0x00}), {{Type::Close, "", CloseCode::NoStatus}});
		checkAllSplits(Role::Client, bytes({0x88, 0x02, 0x03, 0xE8}), {{Type::Close, "", 1000}});
		std::string wire;
		FrameEncoder::appendClose(wire, 4000, "b\xC3\xBF" "e", Mask);
		checkAllSplits(Role::Server, wire, {{Type::Close, "b\xC3\xBF" "e", 4000}});
		wire.clear();
		FrameEncoder::appendClose(wire, CloseCode::NoStatus, "ignored");
		checkAllSplits(Role::Client, wire, {{Type::Close, "", CloseCode::NoStatus}});
	}

	void testCloseCodeTable()
	{
		int valid = 0;
		for (unsigned code = 0; code <= 0xFFFF; ++code)
		{
			const bool expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
				(code >= 3000 && code <= 4999);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(code), expected,
				CloseCode::isValidOnWire(static_cast<std::uint16_t>(code)));
			valid += expected;
		}
		CPPUNIT_ASSERT_EQUAL(4 + 8 + 2000, valid);
		for (std::uint16_t bad : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535})
			CPPUNIT_ASSERT_MESSAGE(std::to_string(bad), !CloseCode::isValidOnWire(bad));
		for (std::uint16_t good : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999})
			CPPUNIT_ASSERT_MESSAGE(std::to_string(good), CloseCode::isValidOnWire(good));
	}

	void testRoundTrips()
	{
		for (std::size_t size : {0, 1, 125, 126, 127, 1000, 65535, 65536, 70001})
		{
			const std::string payload = pattern(size);
			checkAllSplits(Role::Server, fromClient(Opcode::Binary, payload), {{Type::Binary, payload, 0}});
			checkAllSplits(Role::Client, fromServer(Opcode::Binary, payload), {{Type::Binary, payload, 0}});
			const std::string text(size, 'x');
			// Fragmented into three pieces with a ping in between.
			const std::size_t a = size / 3;
			const std::size_t b = size / 2;
			const std::string wire = fromClient(Opcode::Text, std::string_view(text).substr(0, a), false) +
				fromClient(Opcode::Continuation, std::string_view(text).substr(a, b - a), false) +
				fromClient(Opcode::Ping, "!") + fromClient(Opcode::Continuation, std::string_view(text).substr(b));
			checkAllSplits(Role::Server, wire, {{Type::Ping, "!", 0}, {Type::Text, text, 0}});
		}
		// Header sizes of the three length encodings.
		CPPUNIT_ASSERT_EQUAL(std::size_t(2 + 4 + 125), fromClient(Opcode::Binary, pattern(125)).size());
		CPPUNIT_ASSERT_EQUAL(std::size_t(4 + 4 + 126), fromClient(Opcode::Binary, pattern(126)).size());
		CPPUNIT_ASSERT_EQUAL(std::size_t(10 + 65536), fromServer(Opcode::Binary, pattern(65536)).size());
	}

	void testUtf8SplitAcrossFragments()
	{
		const std::string smile = "\xF0\x9F\x98\x80"; // U+1F600
		checkAllSplits(Role::Client,
			fromServer(Opcode::Text, "a" + smile.substr(0, 1), false) + fromServer(Opcode::Continuation, smile.substr(1) + "b"),
			{{Type::Text, "a" + smile + "b", 0}});
		checkAllSplits(Role::Client,
			fromServer(Opcode::Text, smile.substr(0, 2), false) + fromServer(Opcode::Ping, "x") +
				fromServer(Opcode::Continuation, smile.substr(2)),
			{{Type::Ping, "x", 0}, {Type::Text, smile, 0}});
		checkAllSplits(Role::Client,
			fromServer(Opcode::Text, smile.substr(0, 3), false) + fromServer(Opcode::Continuation, "", false) +
				fromServer(Opcode::Continuation, smile.substr(3)),
			{{Type::Text, smile, 0}});
		// A message that ends inside a character is invalid.
		checkError(Role::Client,
			fromServer(Opcode::Text, "ok", false) + fromServer(Opcode::Continuation, smile.substr(0, 3)),
			CloseCode::InvalidPayload);
		checkError(Role::Client, fromServer(Opcode::Text, smile.substr(0, 2)), CloseCode::InvalidPayload);
	}

	void testMaskingErrors()
	{
		checkError(Role::Server, fromServer(Opcode::Text, "Hello"), CloseCode::ProtocolError);
		checkError(Role::Client, fromClient(Opcode::Text, "Hello"), CloseCode::ProtocolError);
		checkError(Role::Server, fromServer(Opcode::Ping, ""), CloseCode::ProtocolError);
		checkError(Role::Server, fromClient(Opcode::Text, "a", false) + fromServer(Opcode::Continuation, "b"),
			CloseCode::ProtocolError);
	}

	void testReservedBits()
	{
		for (int rsv : {0x40, 0x20, 0x10, 0x70})
		{
			std::string wire = fromServer(Opcode::Text, "Hello");
			wire[0] = static_cast<char>(wire[0] | rsv);
			checkError(Role::Client, wire, CloseCode::ProtocolError);
			wire = fromServer(Opcode::Ping, "");
			wire[0] = static_cast<char>(wire[0] | rsv);
			checkError(Role::Client, wire, CloseCode::ProtocolError);
		}
	}

	void testUnknownOpcodes()
	{
		for (int op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF})
		{
			checkError(Role::Client, bytes({0x80 | op, 0x00}), CloseCode::ProtocolError);
			checkError(Role::Client, bytes({op, 0x01, 'x'}), CloseCode::ProtocolError);
		}
		// Known opcodes next to them are fine.
		checkAllSplits(Role::Client, bytes({0x82, 0x00}), {{Type::Binary, "", 0}});
	}

	void testBadControlFrames()
	{
		// Control payload over 125 bytes, in the 7-bit field and as a 16-bit length.
		checkError(Role::Client, bytes({0x89, 0x7E, 0x00, 0x7E}) + pattern(126), CloseCode::ProtocolError);
		checkError(Role::Client, bytes({0x8A, 0x7E, 0x00, 0x05}) + "Hello", CloseCode::ProtocolError);
		checkError(Role::Client, bytes({0x88, 0x7F, 0, 0, 0, 0, 0, 0, 0, 2, 0x03, 0xE8}), CloseCode::ProtocolError);
		// Not FIN.
		checkError(Role::Client, bytes({0x09, 0x00}), CloseCode::ProtocolError);
		checkError(Role::Client, bytes({0x08, 0x02, 0x03, 0xE8}), CloseCode::ProtocolError);
		checkError(Role::Server, fromClient(Opcode::Pong, "x", false), CloseCode::ProtocolError);
	}

	void testFragmentationErrors()
	{
		checkError(Role::Client, fromServer(Opcode::Continuation, "x"), CloseCode::ProtocolError);
		checkError(Role::Client, fromServer(Opcode::Continuation, "x", false), CloseCode::ProtocolError);
		checkError(Role::Client, fromServer(Opcode::Text, "a", false) + fromServer(Opcode::Text, "b"),
			CloseCode::ProtocolError);
		checkError(Role::Client, fromServer(Opcode::Binary, "a", false) + fromServer(Opcode::Text, "b", false),
			CloseCode::ProtocolError);
		// A finished message followed by a stray continuation.
		checkError(Role::Client, fromServer(Opcode::Text, "a") + fromServer(Opcode::Continuation, "b"),
			CloseCode::ProtocolError, 1);
	}

	void testLength64HighBit()
	{
		checkError(Role::Client, bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1}), CloseCode::ProtocolError);
		checkError(Role::Client, bytes({0x82, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}),
			CloseCode::ProtocolError);
		FrameDecoder d(Role::Client, ~std::uint64_t(0));
		const auto got = feedWhole(d, bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}));
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), got.size());
		CPPUNIT_ASSERT_EQUAL(CloseCode::ProtocolError, got[0].closeCode);
	}

	void testBadCloseFrames()
	{
		checkError(Role::Client, bytes({0x88, 0x01, 0x03}), CloseCode::ProtocolError);
		checkError(Role::Client, bytes({0x88, 0x01, 0x03, 0xE8}), CloseCode::ProtocolError);
		{
			// A 1-byte close payload is refused from the header alone.
			FrameDecoder d(Role::Client);
			std::string header = bytes({0x88, 0x01});
			FrameDecoder::Event e;
			d.decode(&header[0], header.size(), e);
			CPPUNIT_ASSERT(e.type == Type::Error);
			CPPUNIT_ASSERT_EQUAL(CloseCode::ProtocolError, e.closeCode);
		}
		for (int code : {0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 0xFFFF})
			checkError(Role::Client, bytes({0x88, 0x02, code >> 8, code & 0xFF}), CloseCode::ProtocolError);
		checkError(Role::Client, bytes({0x88, 0x04, 0x03, 0xE8, 0xC3, 0x28}), CloseCode::InvalidPayload);
		checkError(Role::Client, bytes({0x88, 0x03, 0x03, 0xE8, 0xE2}), CloseCode::InvalidPayload);
		std::string masked;
		FrameEncoder::appendClose(masked, 1000, "\xED\xA0\x80", Mask);
		checkError(Role::Server, masked, CloseCode::InvalidPayload);
	}

	void testInvalidUtf8()
	{
		checkError(Role::Server, fromClient(Opcode::Text, "ab\xC0\xAF" "cd"), CloseCode::InvalidPayload);
		checkError(Role::Client, fromServer(Opcode::Text, std::string(300, 'a') + "\xFF"), CloseCode::InvalidPayload);
		checkError(Role::Client,
			fromServer(Opcode::Text, "good", false) + fromServer(Opcode::Continuation, "\xED\xA0\x80"),
			CloseCode::InvalidPayload);
		// The same bytes are fine in a binary message.
		checkAllSplits(Role::Client, fromServer(Opcode::Binary, "\xFF\xED\xA0\x80"), {{Type::Binary, "\xFF\xED\xA0\x80", 0}});
	}

	void testInvalidUtf8FailsEarly()
	{
		// 0xF4 0x90 can never be valid: the decoder fails at the 0x90, before the frame ends.
		{
			FrameDecoder d(Role::Client);
			std::string wire = bytes({0x81, 0x0A, 'a', 0xF4, 0x90});
			FrameDecoder::Event e;
			CPPUNIT_ASSERT_EQUAL(std::size_t(4), d.decode(&wire[0], 4, e));
			CPPUNIT_ASSERT(e.type == Type::NeedMore);
			d.decode(&wire[0] + 4, 1, e);
			CPPUNIT_ASSERT(e.type == Type::Error);
			CPPUNIT_ASSERT_EQUAL(CloseCode::InvalidPayload, e.closeCode);
		}
		// Across fragments: the first fragment ends with 0xF4, the next starts with 0x90.
		{
			FrameDecoder d(Role::Server);
			std::string wire = fromClient(Opcode::Text, "x\xF4", false);
			FrameDecoder::Event e;
			CPPUNIT_ASSERT_EQUAL(wire.size(), d.decode(&wire[0], wire.size(), e));
			CPPUNIT_ASSERT(e.type == Type::NeedMore);
			std::string next = fromClient(Opcode::Continuation, "\x90zzzzzzz");
			const std::size_t headerAndOneByte = 2 + 4 + 1;
			d.decode(&next[0], headerAndOneByte, e);
			CPPUNIT_ASSERT(e.type == Type::Error);
			CPPUNIT_ASSERT_EQUAL(CloseCode::InvalidPayload, e.closeCode);
		}
		// A large fragmented text message fails on its first bad byte, long before the end.
		{
			FrameDecoder d(Role::Client);
			std::string wire = bytes({0x01, 0x7E, 0x10, 0x00}) + "ok " + "\xC1";
			FrameDecoder::Event e;
			d.decode(&wire[0], wire.size(), e);
			CPPUNIT_ASSERT(e.type == Type::Error);
			CPPUNIT_ASSERT_EQUAL(CloseCode::InvalidPayload, e.closeCode);
		}
	}

	void testTooBigFailsAtHeader()
	{
		FrameDecoder d(Role::Client, 1000);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1000), d.maxMessageSize());
		std::string wire = bytes({0x82, 0x7E, 0x03, 0xE9}); // 1001 bytes announced, none sent
		FrameDecoder::Event e;
		d.decode(&wire[0], wire.size(), e);
		CPPUNIT_ASSERT(e.type == Type::Error);
		CPPUNIT_ASSERT_EQUAL(CloseCode::MessageTooBig, e.closeCode);

		FrameDecoder exact(Role::Client, 1000);
		checkAllSplits(Role::Client, fromServer(Opcode::Binary, pattern(1000)), {{Type::Binary, pattern(1000), 0}});
		const auto got = feedWhole(exact, fromServer(Opcode::Binary, pattern(1000)));
		CPPUNIT_ASSERT(got.size() == 1 && got[0].type == Type::Binary);

		FrameDecoder huge(Role::Server);
		huge.setMaxMessageSize(1u << 20);
		wire = bytes({0x81, 0xFF, 0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4});
		huge.decode(&wire[0], wire.size(), e);
		CPPUNIT_ASSERT(e.type == Type::Error);
		CPPUNIT_ASSERT_EQUAL(CloseCode::MessageTooBig, e.closeCode);
	}

	void testTooBigAcrossFragments()
	{
		FrameDecoder d(Role::Server, 10);
		const std::string wire = fromClient(Opcode::Text, "12345", false) + fromClient(Opcode::Ping, "") +
			fromClient(Opcode::Continuation, "6789", false) + fromClient(Opcode::Continuation, "01");
		const auto got = feedWhole(d, wire);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(describe(got), std::size_t(2), got.size());
		CPPUNIT_ASSERT(got[0].type == Type::Ping);
		CPPUNIT_ASSERT(got[1].type == Type::Error);
		CPPUNIT_ASSERT_EQUAL(CloseCode::MessageTooBig, got[1].closeCode);
		// Exactly at the limit is fine.
		FrameDecoder ok(Role::Server, 10);
		const auto fine = feedBytes(ok, fromClient(Opcode::Text, "12345", false) + fromClient(Opcode::Continuation, "67890"));
		CPPUNIT_ASSERT(fine.size() == 1 && fine[0].type == Type::Text && fine[0].payload == "1234567890");
		// Control frames do not count towards the limit.
		FrameDecoder small(Role::Client, 2);
		const auto ping = feedWhole(small, fromServer(Opcode::Ping, "Hello"));
		CPPUNIT_ASSERT(ping.size() == 1 && ping[0].type == Type::Ping);
	}

	void testErrorIsStickyAndResetClears()
	{
		FrameDecoder d(Role::Server);
		std::string bad = fromServer(Opcode::Text, "x");
		FrameDecoder::Event e;
		d.decode(&bad[0], bad.size(), e);
		CPPUNIT_ASSERT(e.type == Type::Error);
		const std::string error = e.error;
		CPPUNIT_ASSERT(!error.empty());
		std::string good = fromClient(Opcode::Text, "fine");
		for (int i = 0; i < 3; ++i)
		{
			FrameDecoder::Event again;
			CPPUNIT_ASSERT_EQUAL(std::size_t(0), d.decode(&good[0], good.size(), again));
			CPPUNIT_ASSERT(again.type == Type::Error);
			CPPUNIT_ASSERT_EQUAL(CloseCode::ProtocolError, again.closeCode);
			CPPUNIT_ASSERT_EQUAL(error, std::string(again.error));
		}
		d.reset();
		CPPUNIT_ASSERT_EQUAL(good.size(), d.decode(&good[0], good.size(), e));
		CPPUNIT_ASSERT(e.type == Type::Text);
		CPPUNIT_ASSERT(e.payload == "fine");
		CPPUNIT_ASSERT_EQUAL(std::string(""), std::string(e.error));
		// reset() also drops a half-assembled message.
		std::string part = fromClient(Opcode::Text, "half", false);
		d.decode(&part[0], part.size(), e);
		CPPUNIT_ASSERT(d.inMessage());
		d.reset();
		CPPUNIT_ASSERT(!d.inMessage());
		std::string fresh = fromClient(Opcode::Binary, "new");
		d.decode(&fresh[0], fresh.size(), e);
		CPPUNIT_ASSERT(e.type == Type::Binary);
	}

	void testRsv1WithCompression()
	{
		// permessage-deflate negotiated: RSV1 on a message's first frame marks it compressed (no
		// UTF-8 check before inflation); RSV1 elsewhere, and RSV2/RSV3, stay errors (1002).
		auto decodeAll = [](FrameDecoder& d, std::string wire, std::vector<std::pair<Type, bool>>& seen) {
			std::size_t pos = 0;
			for (;;)
			{
				FrameDecoder::Event e;
				pos += d.decode(&wire[pos], wire.size() - pos, e);
				if (e.type == Type::NeedMore) return std::uint16_t(0);
				if (e.type == Type::Error) return e.closeCode;
				seen.emplace_back(e.type, e.compressed);
			}
		};
		const std::string notUtf8("\xc3\x28 compressed bytes", 20);
		std::string compressed = fromServer(Opcode::Text, notUtf8);
		compressed[0] = static_cast<char>(compressed[0] | 0x40);
		std::string first = fromServer(Opcode::Binary, "part 1", false);
		first[0] = static_cast<char>(first[0] | 0x40);
		const std::string wire = compressed + fromServer(Opcode::Text, "plain") + first + fromServer(Opcode::Ping, "p") +
			fromServer(Opcode::Continuation, "part 2");
		{
			FrameDecoder d(Role::Client);
			d.allowCompression(true);
			std::vector<std::pair<Type, bool>> seen;
			CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), decodeAll(d, wire, seen));
			const std::vector<std::pair<Type, bool>> expected{
				{Type::Text, true}, {Type::Text, false}, {Type::Ping, false}, {Type::Binary, true}};
			CPPUNIT_ASSERT(seen == expected);
		}
		{
			// The same bytes one at a time (the gathered path).
			FrameDecoder d(Role::Client);
			d.allowCompression(true);
			std::vector<std::pair<Type, bool>> seen;
			for (char ch : wire) CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), decodeAll(d, std::string(1, ch), seen));
			CPPUNIT_ASSERT_EQUAL(std::size_t(4), seen.size());
			CPPUNIT_ASSERT(seen[0].second && !seen[1].second && seen[3].second);
		}
		auto errorOf = [&](std::string w, bool allowed) {
			FrameDecoder d(Role::Client);
			d.allowCompression(allowed);
			std::vector<std::pair<Type, bool>> seen;
			return decodeAll(d, w, seen);
		};
		CPPUNIT_ASSERT_EQUAL(CloseCode::ProtocolError, errorOf(compressed, false));
		std::string ping = fromServer(Opcode::Ping, "p");
		ping[0] = static_cast<char>(ping[0] | 0x40);
		CPPUNIT_ASSERT_EQUAL(CloseCode::ProtocolError, errorOf(ping, true));
		std::string continuation = fromServer(Opcode::Continuation, "2");
		continuation[0] = static_cast<char>(continuation[0] | 0x40);
		CPPUNIT_ASSERT_EQUAL(CloseCode::ProtocolError, errorOf(fromServer(Opcode::Text, "1", false) + continuation, true));
		for (int rsv : {0x20, 0x10})
		{
			std::string w = fromServer(Opcode::Text, "x");
			w[0] = static_cast<char>(w[0] | rsv);
			CPPUNIT_ASSERT_EQUAL(CloseCode::ProtocolError, errorOf(w, true));
		}
		// The encoder's RSV1 is what the decoder reads as compressed.
		{
			std::string w;
			FrameEncoder::appendFrame(w, FrameEncoder::compressed(Opcode::Text), notUtf8);
			CPPUNIT_ASSERT_EQUAL(0xC1, static_cast<int>(static_cast<unsigned char>(w[0])));
			FrameDecoder d(Role::Client);
			d.allowCompression(true);
			std::vector<std::pair<Type, bool>> seen;
			CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), decodeAll(d, w, seen));
			CPPUNIT_ASSERT(seen.size() == 1 && seen[0].first == Type::Text && seen[0].second);
		}
		// An uncompressed text message still has its UTF-8 checked.
		CPPUNIT_ASSERT_EQUAL(CloseCode::InvalidPayload, errorOf(fromServer(Opcode::Text, notUtf8), true));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(CodecDecoderTest, "core");
