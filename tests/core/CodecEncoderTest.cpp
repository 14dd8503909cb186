//
// CodecEncoderTest.cpp — FrameEncoder: headers of the three length encodings, masking, close frames.
//
#include "parley/codec/FrameEncoder.h"
#include "parley/codec/Utf8Validator.h"
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <string>

using parley::codec::FrameEncoder;
using parley::codec::Opcode;
using parley::codec::Utf8Validator;
namespace CloseCode = parley::codec::CloseCode;

namespace {

std::string bytes(std::initializer_list<int> list)
{
	std::string s;
	for (int b : list)
		s += static_cast<char>(b);
	return s;
}

const std::uint8_t RfcMask[4] = {0x37, 0xfa, 0x21, 0x3d};

} // namespace

class CodecEncoderTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(CodecEncoderTest);
	CPPUNIT_TEST(testHeaderSize);
	CPPUNIT_TEST(testRfcExamples);
	CPPUNIT_TEST(testLengthEncodings);
	CPPUNIT_TEST(testFragmentHeaders);
	CPPUNIT_TEST(testAppendKeepsExistingBytes);
	CPPUNIT_TEST(testApplyMaskOffsets);
	CPPUNIT_TEST(testCloseFrames);
	CPPUNIT_TEST(testCloseReasonCutAtCharacterBoundary);
	CPPUNIT_TEST_SUITE_END();

public:
	void testHeaderSize()
	{
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), FrameEncoder::headerSize(0, false));
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), FrameEncoder::headerSize(125, false));
		CPPUNIT_ASSERT_EQUAL(std::size_t(4), FrameEncoder::headerSize(126, false));
		CPPUNIT_ASSERT_EQUAL(std::size_t(4), FrameEncoder::headerSize(65535, false));
		CPPUNIT_ASSERT_EQUAL(std::size_t(10), FrameEncoder::headerSize(65536, false));
		CPPUNIT_ASSERT_EQUAL(std::size_t(6), FrameEncoder::headerSize(125, true));
		CPPUNIT_ASSERT_EQUAL(std::size_t(8), FrameEncoder::headerSize(126, true));
		CPPUNIT_ASSERT_EQUAL(FrameEncoder::MaxHeaderSize, FrameEncoder::headerSize(~std::uint64_t(0) >> 1, true));
	}

	void testRfcExamples()
	{
		std::string out;
		FrameEncoder::appendFrame(out, Opcode::Text, "Hello");
		CPPUNIT_ASSERT(out == bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
		out.clear();
		FrameEncoder::appendFrame(out, Opcode::Text, "Hello", true, RfcMask);
		CPPUNIT_ASSERT(out == bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
		out.clear();
		FrameEncoder::appendFrame(out, Opcode::Text, "Hel", false);
		FrameEncoder::appendFrame(out, Opcode::Continuation, "lo", true);
		CPPUNIT_ASSERT(out == bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}));
		out.clear();
		FrameEncoder::appendFrame(out, Opcode::Ping, "Hello");
		CPPUNIT_ASSERT(out == bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
		out.clear();
		FrameEncoder::appendFrame(out, Opcode::Pong, "Hello", true, RfcMask);
		CPPUNIT_ASSERT(out == bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
	}

	void testLengthEncodings()
	{
		std::string out;
		FrameEncoder::appendFrame(out, Opcode::Binary, std::string(256, 'a'));
		CPPUNIT_ASSERT_EQUAL(std::size_t(4 + 256), out.size());
		CPPUNIT_ASSERT(out.compare(0, 4, bytes({0x82, 0x7E, 0x01, 0x00})) == 0);
		out.clear();
		FrameEncoder::appendFrame(out, Opcode::Binary, std::string(65536, 'a'));
		CPPUNIT_ASSERT_EQUAL(std::size_t(10 + 65536), out.size());
		CPPUNIT_ASSERT(out.compare(0, 10, bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00})) == 0);
		out.clear();
		FrameEncoder::appendFrame(out, Opcode::Binary, std::string(65535, 'a'), true, RfcMask);
		CPPUNIT_ASSERT(out.compare(0, 8, bytes({0x82, 0xFE, 0xFF, 0xFF, 0x37, 0xfa, 0x21, 0x3d})) == 0);
		char header[FrameEncoder::MaxHeaderSize];
		const std::size_t n = FrameEncoder::writeHeader(header, Opcode::Text, true, 0x0102030405060708ull, RfcMask);
		CPPUNIT_ASSERT_EQUAL(FrameEncoder::MaxHeaderSize, n);
		CPPUNIT_ASSERT(std::string(header, n) ==
			bytes({0x81, 0xFF, 1, 2, 3, 4, 5, 6, 7, 8, 0x37, 0xfa, 0x21, 0x3d}));
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), FrameEncoder::writeHeader(header, Opcode::Close, true, 125, nullptr));
		CPPUNIT_ASSERT(std::string(header, 2) == bytes({0x88, 0x7D}));
	}

	void testFragmentHeaders()
	{
		char header[FrameEncoder::MaxHeaderSize];
		FrameEncoder::writeHeader(header, Opcode::Binary, false, 3, nullptr);
		CPPUNIT_ASSERT_EQUAL(0x02, header[0] & 0xFF);
		FrameEncoder::writeHeader(header, Opcode::Continuation, true, 3, nullptr);
		CPPUNIT_ASSERT_EQUAL(0x80, header[0] & 0xFF);
	}

	void testAppendKeepsExistingBytes()
	{
		std::string out = "prefix";
		FrameEncoder::appendFrame(out, Opcode::Text, "a");
		FrameEncoder::appendFrame(out, Opcode::Text, "b", true, RfcMask);
		CPPUNIT_ASSERT_EQUAL(std::string("prefix"), out.substr(0, 6));
		CPPUNIT_ASSERT(out.substr(6) == bytes({0x81, 0x01, 'a', 0x81, 0x81, 0x37, 0xfa, 0x21, 0x3d, 'b' ^ 0x37}));
	}

	void testApplyMaskOffsets()
	{
		const std::uint8_t mask[4] = {0x01, 0x80, 0xFF, 0x5A};
		for (std::size_t size = 0; size < 70; ++size)
		{
			std::string original;
			for (std::size_t i = 0; i < size; ++i)
				original += static_cast<char>(i * 13 + 1);
			for (std::size_t offset = 0; offset < 4; ++offset)
			{
				// Reference: byte i uses mask[(offset + i) % 4].
				std::string expected = original;
				for (std::size_t i = 0; i < size; ++i)
					expected[i] = static_cast<char>(expected[i] ^ mask[(offset + i) % 4]);
				std::string whole = original;
				CPPUNIT_ASSERT_EQUAL((offset + size) % 4, FrameEncoder::applyMask(&whole[0], size, mask, offset));
				CPPUNIT_ASSERT(whole == expected);
				// In two pieces, carrying the returned offset.
				std::string pieces = original;
				const std::size_t cut = size / 3;
				const std::size_t mid = FrameEncoder::applyMask(&pieces[0], cut, mask, offset);
				FrameEncoder::applyMask(&pieces[0] + cut, size - cut, mask, mid);
				CPPUNIT_ASSERT(pieces == expected);
				// Masking twice restores.
				FrameEncoder::applyMask(&whole[0], size, mask, offset);
				CPPUNIT_ASSERT(whole == original);
			}
		}
	}

	void testCloseFrames()
	{
		std::string out;
		FrameEncoder::appendClose(out, CloseCode::NoStatus, "dropped");
		CPPUNIT_ASSERT(out == bytes({0x88, 0x00}));
		out.clear();
		FrameEncoder::appendClose(out, CloseCode::Normal, "");
		CPPUNIT_ASSERT(out == bytes({0x88, 0x02, 0x03, 0xE8}));
		out.clear();
		FrameEncoder::appendClose(out, CloseCode::MessageTooBig, "bye");
		CPPUNIT_ASSERT(out == bytes({0x88, 0x05, 0x03, 0xF1, 'b', 'y', 'e'}));
		out.clear();
		FrameEncoder::appendClose(out, 4999, "", RfcMask);
		CPPUNIT_ASSERT(out == bytes({0x88, 0x82, 0x37, 0xfa, 0x21, 0x3d, 0x13 ^ 0x37, 0x87 ^ 0xfa}));
	}

	void testCloseReasonCutAtCharacterBoundary()
	{
		std::string out;
		FrameEncoder::appendClose(out, 1000, std::string(200, 'r'));
		CPPUNIT_ASSERT_EQUAL(std::size_t(2 + 125), out.size());
		CPPUNIT_ASSERT_EQUAL(0x7D, out[1] & 0xFF);
		CPPUNIT_ASSERT(out.substr(4) == std::string(123, 'r'));

		// Exactly 123 bytes: kept whole.
		out.clear();
		FrameEncoder::appendClose(out, 1000, std::string(123, 'r'));
		CPPUNIT_ASSERT_EQUAL(std::size_t(2 + 125), out.size());

		// A 2-, 3- or 4-byte character that would straddle byte 123 is dropped whole.
		const std::string chars[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
		for (const std::string& c : chars)
		{
			for (std::size_t lead = 118; lead <= 123; ++lead)
			{
				std::string reason = std::string(lead, 'x');
				while (reason.size() < 200)
					reason += c;
				out.clear();
				FrameEncoder::appendClose(out, 1001, reason);
				const std::string kept = out.substr(4);
				CPPUNIT_ASSERT(kept.size() <= 123);
				CPPUNIT_ASSERT(kept.size() > 123 - c.size());
				CPPUNIT_ASSERT(Utf8Validator::isValid(kept));
				CPPUNIT_ASSERT(reason.compare(0, kept.size(), kept) == 0);
				CPPUNIT_ASSERT_EQUAL(out.size() - 2, std::size_t(out[1] & 0x7F));
			}
		}
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(CodecEncoderTest, "core");
