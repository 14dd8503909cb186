//
// LoadRunDeflateTest.cpp — the verified exchange with permessage-deflate (RFC 7692): 10,000
// messages through a real third-party server (python3-websockets) that compresses, one that
// declines, with and without context takeover and with small windows; compressed frames carry
// RSV1 (RawFrameServer sees the wire); an invalid answer, or a compressed reply that inflates too
// big, is corrupt or is not UTF-8, stops the run with a close frame and a clear error.
//
#include "client/DeflateServer.h"
#include "client/RawFrameServer.h"
#include "parley/client/LoadRun.h"
#include <cppunit/extensions/HelperMacros.h>
#include <string>
#include <vector>

using namespace parley;
using namespace parley::client;
using parley::test::DeflateServer;
using parley::test::RawFrameServer;
using Frame = RawFrameServer::Frame;

namespace {

LoadOptions deflateRun(const std::string& url, std::uint64_t count, std::size_t size)
{
	LoadOptions o;
	o.url = url;
	o.count = count;
	o.window = 64;
	o.size = size;
	o.expect = Expect::Echo;
	o.deflate.enabled = true;
	return o;
}

void assertVerified(const LoadSummary& s, std::uint64_t count)
{
	CPPUNIT_ASSERT_EQUAL(std::string(), s.error);
	CPPUNIT_ASSERT_EQUAL_MESSAGE(s.firstMismatch, std::uint64_t(0), s.mismatched);
	CPPUNIT_ASSERT_EQUAL(count, s.verified);
	CPPUNIT_ASSERT(s.ok(count));
}

RawFrameServer::Options answering(std::vector<std::string> extensions, std::string greeting = {})
{
	RawFrameServer::Options o;
	o.extensions = std::move(extensions);
	o.greeting = std::move(greeting);
	return o;
}

} // namespace

class LoadRunDeflateTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(LoadRunDeflateTest);
	CPPUNIT_TEST(testTenThousandCompressed);
	CPPUNIT_TEST(testDeclinedStillVerified);
	CPPUNIT_TEST(testNoContextTakeover);
	CPPUNIT_TEST(testSmallWindowsAndLevels);
	CPPUNIT_TEST(testMinimumSize);
	CPPUNIT_TEST(testLargeBinaryMessages);
	CPPUNIT_TEST(testWithoutDeflateNothingOffered);
	CPPUNIT_TEST(testRsv1OnEveryMessage);
	CPPUNIT_TEST(testInvalidAnswerFailsBeforeSending);
	CPPUNIT_TEST(testInflatedTooBigCloses1009);
	CPPUNIT_TEST(testCorruptReplyCloses1002);
	CPPUNIT_TEST(testInvalidUtf8ReplyCloses1007);
	CPPUNIT_TEST_SUITE_END();

public:
	void testTenThousandCompressed()
	{
		DeflateServer server;
		LoadSummary s = LoadRun(deflateRun(server.url("/echo"), 10000, 256)).run();
		assertVerified(s, 10000);
		CPPUNIT_ASSERT(s.deflateOffered);
		CPPUNIT_ASSERT(s.deflate());
		CPPUNIT_ASSERT_EQUAL(1u, s.deflateConnections);
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"), s.extensions);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10000 * 256), s.payloadBytesSent);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10000 * 256), s.payloadBytesReceived);
		CPPUNIT_ASSERT(s.wireBytesSent > 0 && s.wireBytesSent < s.payloadBytesSent / 4);
		CPPUNIT_ASSERT(s.wireBytesReceived > 0 && s.wireBytesReceived < s.payloadBytesReceived / 4);
		const std::string line = s.line();
		CPPUNIT_ASSERT_MESSAGE(line, line.find(" deflate=on payload-out=2560000B wire-out=" + std::to_string(s.wireBytesSent) + "B (")
			!= std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(line, line.find(" payload-in=2560000B wire-in=" + std::to_string(s.wireBytesReceived) + "B (")
			!= std::string::npos);
		// The server saw every message compressed, and the same bytes on the wire.
		const auto stats = server.waitStats(1);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), stats.size());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10000), stats[0].messages);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10000), stats[0].compressed);
		CPPUNIT_ASSERT_EQUAL(s.wireBytesSent, stats[0].wireBytes);
		CPPUNIT_ASSERT_EQUAL(s.payloadBytesSent, stats[0].payloadBytes);
		CPPUNIT_ASSERT_EQUAL(1000, stats[0].closeCode);
	}

	void testDeclinedStillVerified()
	{
		DeflateServer server({"--compression", "none"});
		LoadSummary s = LoadRun(deflateRun(server.url(), 10000, 100)).run();
		assertVerified(s, 10000);
		CPPUNIT_ASSERT(s.deflateOffered);
		CPPUNIT_ASSERT(!s.deflate());
		CPPUNIT_ASSERT_EQUAL(0u, s.deflateConnections);
		CPPUNIT_ASSERT_EQUAL(std::string(), s.extensions);
		CPPUNIT_ASSERT_EQUAL(s.payloadBytesSent, s.wireBytesSent);
		CPPUNIT_ASSERT_EQUAL(s.payloadBytesReceived, s.wireBytesReceived);
		CPPUNIT_ASSERT_MESSAGE(s.line(), s.line().find(" deflate=declined payload-out=1000000B wire-out=1000000B (100.0%)") != std::string::npos);
		const auto stats = server.waitStats(1);
		CPPUNIT_ASSERT(stats.size() == 1 && stats[0].messages == 10000 && stats[0].compressed == 0);
		CPPUNIT_ASSERT(server.requests().at(0).find("[\"Sec-WebSocket-Extensions\", \"permessage-deflate; client_max_window_bits\"]")
			!= std::string::npos);
	}

	void testNoContextTakeover()
	{
		// Asked for by the server, both ways.
		{
			DeflateServer server({"--server-no-context-takeover", "--client-no-context-takeover"});
			LoadOptions o = deflateRun(server.url(), 4000, 300);
			o.conns = 4;
			LoadSummary s = LoadRun(o).run();
			assertVerified(s, 4000);
			CPPUNIT_ASSERT(s.deflate());
			CPPUNIT_ASSERT_EQUAL(4u, s.deflateConnections);
			CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_no_context_takeover; client_no_context_takeover"), s.extensions);
			const auto stats = server.waitStats(4);
			CPPUNIT_ASSERT_EQUAL(std::size_t(4), stats.size());
			for (const auto& st : stats)
				CPPUNIT_ASSERT(st.messages == 1000 && st.compressed == 1000);
		}
		// Offered by the client (what --deflate-no-context-takeover sends).
		{
			DeflateServer server;
			LoadOptions o = deflateRun(server.url(), 3000, 300);
			o.deflate.offer.clientNoContextTakeover = true;
			o.deflate.offer.serverNoContextTakeover = true;
			LoadSummary s = LoadRun(o).run();
			assertVerified(s, 3000);
			CPPUNIT_ASSERT(s.deflate());
			CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
											 "server_max_window_bits=12; client_max_window_bits=12"),
				s.extensions);
			CPPUNIT_ASSERT(server.requests().at(0).find(
				"\"permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits\"") != std::string::npos);
		}
	}

	void testSmallWindowsAndLevels()
	{
		DeflateServer server({"--server-max-window-bits", "9", "--client-max-window-bits", "10"});
		for (int level : {0, 1, 9})
		{
			LoadOptions o = deflateRun(server.url(), 2000, 3000);
			o.binary = true;
			o.deflate.offer.level = level;
			LoadSummary s = LoadRun(o).run();
			assertVerified(s, 2000);
			CPPUNIT_ASSERT(s.deflate());
			CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_max_window_bits=9; client_max_window_bits=10"), s.extensions);
			if (level == 0)
				CPPUNIT_ASSERT(s.wireBytesSent > s.payloadBytesSent);  // stored blocks: a few bytes more
			else
				CPPUNIT_ASSERT(s.wireBytesSent < s.payloadBytesSent / 4);
		}
		// The client asks for small windows itself.
		DeflateServer plain;
		LoadOptions o = deflateRun(plain.url(), 2000, 1000);
		o.deflate.offer.clientMaxWindowBits = 9;
		o.deflate.offer.serverMaxWindowBits = 9;
		LoadSummary s = LoadRun(o).run();
		assertVerified(s, 2000);
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_max_window_bits=9; client_max_window_bits=9"), s.extensions);
	}

	void testMinimumSize()
	{
		// Messages of 5 or 6 bytes ("0:0ab" .. "0:1999") stay below 16 bytes: none is compressed.
		DeflateServer server;
		LoadOptions o = deflateRun(server.url(), 2000, 5);
		o.deflate.minSize = 16;
		LoadSummary s = LoadRun(o).run();
		assertVerified(s, 2000);
		CPPUNIT_ASSERT(s.deflate());
		CPPUNIT_ASSERT_EQUAL(s.payloadBytesSent, s.wireBytesSent);
		const auto stats = server.waitStats(1);
		CPPUNIT_ASSERT(stats.size() == 1 && stats[0].messages == 2000 && stats[0].compressed == 0);
	}

	void testLargeBinaryMessages()
	{
		DeflateServer server;
		LoadOptions o = deflateRun(server.url(), 40, 300000);
		o.window = 8;
		o.conns = 2;
		o.binary = true;
		LoadSummary s = LoadRun(o).run();
		assertVerified(s, 40);
		CPPUNIT_ASSERT(s.deflate());
		CPPUNIT_ASSERT(s.wireBytesReceived < s.payloadBytesReceived / 10);
	}

	void testWithoutDeflateNothingOffered()
	{
		DeflateServer server;
		LoadOptions o = deflateRun(server.url(), 1000, 100);
		o.deflate.enabled = false;
		LoadSummary s = LoadRun(o).run();
		assertVerified(s, 1000);
		CPPUNIT_ASSERT(!s.deflateOffered && !s.deflate());
		CPPUNIT_ASSERT_MESSAGE(s.line(), s.line().find("deflate") == std::string::npos);
		CPPUNIT_ASSERT(server.requests().at(0).find("Sec-WebSocket-Extensions") == std::string::npos);
		const auto stats = server.waitStats(1);
		CPPUNIT_ASSERT(stats.size() == 1 && stats[0].extensions.empty() && stats[0].compressed == 0);
	}

	void testRsv1OnEveryMessage()
	{
		RawFrameServer::Options ro = answering({"permessage-deflate; client_no_context_takeover"});
		ro.compressReplies = true;
		RawFrameServer server(ro);
		LoadSummary s = LoadRun(deflateRun(server.url(), 300, 200)).run();
		assertVerified(s, 300);
		CPPUNIT_ASSERT(s.deflate());
		CPPUNIT_ASSERT(server.waitFor([](const std::vector<Frame>&, int code, unsigned) { return code == 1000; }));
		std::size_t data = 0;
		std::uint64_t wire = 0;
		for (const Frame& f : server.frames())
		{
			if (f.opcode > 0x2)
			{
				CPPUNIT_ASSERT(!f.rsv1);
				continue;
			}
			++data;
			wire += f.payload.size();
			CPPUNIT_ASSERT(f.rsv1 && f.fin && f.opcode == 0x1);
			CPPUNIT_ASSERT(f.payload.size() < 200);
		}
		CPPUNIT_ASSERT_EQUAL(std::size_t(300), data);
		CPPUNIT_ASSERT_EQUAL(s.wireBytesSent, wire);
	}

	void testInvalidAnswerFailsBeforeSending()
	{
		RawFrameServer server(answering({"permessage-deflate", "permessage-deflate"}));
		LoadSummary s = LoadRun(deflateRun(server.url(), 100, 0)).run();
		CPPUNIT_ASSERT_EQUAL("handshake failed: bad Sec-WebSocket-Extensions 'permessage-deflate, permessage-deflate' in the 101 "
							 "(offered 'permessage-deflate; client_max_window_bits'): more than one permessage-deflate in the answer ("
				+ server.url() + ")",
			s.error);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), s.sent);
		CPPUNIT_ASSERT(server.waitFor([](const std::vector<Frame>&, int, unsigned ended) { return ended == 1; }));
		CPPUNIT_ASSERT(server.frames().empty());
	}

	void testInflatedTooBigCloses1009()
	{
		RawFrameServer server(answering({"permessage-deflate"},
			RawFrameServer::frame(codec::Opcode::Text, RawFrameServer::compress(std::string(1 << 20, 'x')), true)));
		LoadOptions o = deflateRun(server.url(), 100, 0);
		o.maxMessageSize = 100000;
		LoadSummary s = LoadRun(o).run();
		CPPUNIT_ASSERT_MESSAGE(s.error, s.error.find("protocol error from the server on connection 0: a compressed message inflates "
			"to more than 100000 bytes (close code 1009)") == 0);
		CPPUNIT_ASSERT(server.waitFor([](const std::vector<Frame>&, int code, unsigned) { return code != 0; }));
		CPPUNIT_ASSERT_EQUAL(1009, server.closeCode());
	}

	void testCorruptReplyCloses1002()
	{
		RawFrameServer server(answering({"permessage-deflate"}, RawFrameServer::frame(codec::Opcode::Text, "\xff", true)));
		LoadSummary s = LoadRun(deflateRun(server.url(), 100, 0)).run();
		CPPUNIT_ASSERT_MESSAGE(s.error, s.error.find("a compressed message is not valid deflate data (close code 1002)") != std::string::npos);
		CPPUNIT_ASSERT(server.waitFor([](const std::vector<Frame>&, int code, unsigned) { return code != 0; }));
		CPPUNIT_ASSERT_EQUAL(1002, server.closeCode());
	}

	void testInvalidUtf8ReplyCloses1007()
	{
		RawFrameServer server(answering({"permessage-deflate"},
			RawFrameServer::frame(codec::Opcode::Text, RawFrameServer::compress("\xc3\x28"), true)));
		LoadSummary s = LoadRun(deflateRun(server.url(), 100, 0)).run();
		CPPUNIT_ASSERT_MESSAGE(s.error, s.error.find("invalid UTF-8 in a compressed text message (close code 1007)") != std::string::npos);
		CPPUNIT_ASSERT(server.waitFor([](const std::vector<Frame>&, int code, unsigned) { return code != 0; }));
		CPPUNIT_ASSERT_EQUAL(1007, server.closeCode());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(LoadRunDeflateTest, "client");
