//
// HostProtocolTest.cpp — RFC 6455 behaviour of the host over real sockets with hand-built frames.
//
#include "HostTestSupport.h"
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <memory>
#include <string>

using namespace parley::test;

class HostProtocolTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostProtocolTest);
	CPPUNIT_TEST(testEchoTextAndBinary);
	CPPUNIT_TEST(testRandomSuffixReply);
	CPPUNIT_TEST(testEmptyMessagesAreMessages);
	CPPUNIT_TEST(testAllLengthEncodings);
	CPPUNIT_TEST(testPingGetsPongWithSamePayload);
	CPPUNIT_TEST(testUnsolicitedPongIsIgnored);
	CPPUNIT_TEST(testCloseEchoesCodeThenEof);
	CPPUNIT_TEST(testEmptyCloseGetsEmptyClose);
	CPPUNIT_TEST(testProtocolErrorsClose1002);
	CPPUNIT_TEST(testInvalidUtf8Text1007);
	CPPUNIT_TEST(testInvalidUtf8FailsBeforeTheMessageEnds);
	CPPUNIT_TEST(testInvalidUtf8CloseReason1007);
	CPPUNIT_TEST(testMessageTooBig1009);
	CPPUNIT_TEST(testResponderThrowCloses1011Only);
	CPPUNIT_TEST(testReplyCloseAndDrop);
	CPPUNIT_TEST(testManyFramesInOneWriteAnsweredInOrder);
	CPPUNIT_TEST(testMessagesBeforeCloseAnsweredFirst);
	CPPUNIT_TEST(testFragmentsWithInterleavedPing);
	CPPUNIT_TEST(testFramesSentWithTheHandshake);
	CPPUNIT_TEST(testOneByteAtATime);
	CPPUNIT_TEST(testHalfCloseAnsweredThenEnded);
	CPPUNIT_TEST(testStopClosesWith1001);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override { _host = std::make_unique<TestHost>(); }
	void tearDown() override { _host.reset(); }

	void testEchoTextAndBinary()
	{
		WsClient c(_host->port(), "/echo");
		c.sendText("hello, parley");
		Frame f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpText), int(f.opcode));
		CPPUNIT_ASSERT(f.fin);
		CPPUNIT_ASSERT(!f.masked);
		CPPUNIT_ASSERT_EQUAL(std::string("hello, parley"), f.payload);
		const std::string binary("\x00\x01\xFF\xFEzz", 6);
		c.sendBinary(binary);
		f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpBinary), int(f.opcode));
		CPPUNIT_ASSERT(binary == f.payload);
	}

	void testRandomSuffixReply()
	{
		WsClient c(_host->port(), "/ws");
		for (int i = 0; i < 50; ++i)
		{
			const std::string msg = "message " + std::to_string(i);
			c.sendText(msg);
			const Frame f = c.readFrame();
			CPPUNIT_ASSERT_EQUAL(int(OpText), int(f.opcode));
			CPPUNIT_ASSERT_MESSAGE(f.payload, isRandomSuffixReply(f.payload, msg));
		}
	}

	void testEmptyMessagesAreMessages()
	{
		WsClient c(_host->port(), "/echo");
		c.sendText("");
		Frame f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpText), int(f.opcode));
		CPPUNIT_ASSERT(f.payload.empty());
		c.sendBinary("");
		f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpBinary), int(f.opcode));
		CPPUNIT_ASSERT(f.payload.empty());
		WsClient w(_host->port(), "/ws");
		w.sendText("");
		f = w.readFrame();
		CPPUNIT_ASSERT_MESSAGE(f.payload, isRandomSuffixReply(f.payload, ""));
	}

	void testAllLengthEncodings()
	{
		WsClient c(_host->port(), "/echo");
		for (std::size_t n : {std::size_t(125), std::size_t(126), std::size_t(65535), std::size_t(65536), std::size_t(1) << 20})
		{
			std::string msg(n, 'x');
			for (std::size_t i = 0; i < n; i += 7) msg[i] = static_cast<char>('a' + i % 26);
			c.sendBinary(msg);
			const Frame f = c.readFrame();
			CPPUNIT_ASSERT_EQUAL(n, f.payload.size());
			CPPUNIT_ASSERT(msg == f.payload);
		}
	}

	void testPingGetsPongWithSamePayload()
	{
		WsClient c(_host->port(), "/echo");
		c.send(frame(OpPing, "are you there?"));
		Frame f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpPong), int(f.opcode));
		CPPUNIT_ASSERT_EQUAL(std::string("are you there?"), f.payload);
		c.send(frame(OpPing, ""));
		f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpPong), int(f.opcode));
		CPPUNIT_ASSERT(f.payload.empty());
		const std::string full(125, 'p');
		c.send(frame(OpPing, full));
		f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(full, f.payload);
	}

	void testUnsolicitedPongIsIgnored()
	{
		WsClient c(_host->port(), "/echo");
		c.send(frame(OpPong, "unasked") + frame(OpText, "after the pong"));
		const Frame f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpText), int(f.opcode));
		CPPUNIT_ASSERT_EQUAL(std::string("after the pong"), f.payload);
	}

	void testCloseEchoesCodeThenEof()
	{
		for (std::uint16_t code : {std::uint16_t(1000), std::uint16_t(1001), std::uint16_t(3000), std::uint16_t(4999)})
		{
			WsClient c(_host->port(), "/echo");
			c.send(closeFrame(code, "bye"));
			const Frame f = c.readFrame();
			CPPUNIT_ASSERT_EQUAL(int(OpClose), int(f.opcode));
			CPPUNIT_ASSERT_EQUAL(code, f.closeCode());
			CPPUNIT_ASSERT(c.readEof());
		}
	}

	void testEmptyCloseGetsEmptyClose()
	{
		WsClient c(_host->port(), "/echo");
		c.send(frame(OpClose, ""));
		const Frame f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpClose), int(f.opcode));
		CPPUNIT_ASSERT(f.payload.empty() || f.closeCode() == 1000);
		CPPUNIT_ASSERT(c.readEof());
	}

	/// Sends `bytes` on a fresh connection and expects a close with `code`, then EOF.
	void expectClose(const std::string& what, const std::string& bytes, std::uint16_t code, const std::string& path = "/echo")
	{
		WsClient c(_host->port(), path);
		c.send(bytes);
		const Frame f = c.readClose();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(what + " (reason: " + f.closeReason() + ")", code, f.closeCode());
		CPPUNIT_ASSERT_MESSAGE(what + ": no reason given", !f.closeReason().empty());
		CPPUNIT_ASSERT_MESSAGE(what + ": no EOF", c.readEof());
	}

	void testProtocolErrorsClose1002()
	{
		expectClose("reserved bit 1", frame(OpText, "x", true, true, 4), 1002);
		expectClose("reserved bit 3", frame(OpText, "x", true, true, 1), 1002);
		expectClose("unknown opcode 3", frame(0x3, "x"), 1002);
		expectClose("unknown control opcode 0xB", frame(0xB, "x"), 1002);
		expectClose("unmasked client frame", frame(OpText, "x", true, false), 1002);
		expectClose("control frame over 125 bytes", frame(OpPing, std::string(126, 'p')), 1002);
		expectClose("fragmented control frame", frame(OpPing, "p", false), 1002);
		expectClose("continuation with nothing to continue", frame(OpCont, "x"), 1002);
		expectClose("new data frame inside a fragmented message",
			frame(OpText, "part", false) + frame(OpText, "new"), 1002);
		expectClose("invalid close code 1005", closeFrame(1005), 1002);
		expectClose("invalid close code 999", closeFrame(999), 1002);
		expectClose("invalid close code 1004", closeFrame(1004), 1002);
		expectClose("invalid close code 5000", closeFrame(5000), 1002);
		expectClose("close payload of 1 byte", frame(OpClose, "x"), 1002);
	}

	void testInvalidUtf8Text1007()
	{
		expectClose("0xFF in text", frame(OpText, "abc\xFF"), 1007);
		expectClose("truncated sequence at the end", frame(OpText, "abc\xE2\x82"), 1007);
		expectClose("overlong encoding", frame(OpText, "\xC0\xAF"), 1007);
		expectClose("surrogate", frame(OpText, "\xED\xA0\x80"), 1007);
		expectClose("split across fragments, truncated",
			frame(OpText, "ok \xE2", false) + frame(OpCont, "\x82", true), 1007);
		// Valid UTF-8 split inside a character across fragments is fine.
		WsClient c(_host->port(), "/echo");
		c.send(frame(OpText, "euro \xE2", false) + frame(OpCont, "\x82", false) + frame(OpCont, "\xAC!", true));
		const Frame f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(std::string("euro \xE2\x82\xAC!"), f.payload);
	}

	void testInvalidUtf8FailsBeforeTheMessageEnds()
	{
		// The first fragment already proves the text invalid: the close must come without the rest.
		WsClient c(_host->port(), "/echo");
		c.send(frame(OpText, "fine so far \xF8", false));
		const Frame f = c.readClose();
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1007), f.closeCode());
		CPPUNIT_ASSERT(c.readEof());
	}

	void testInvalidUtf8CloseReason1007()
	{
		expectClose("invalid UTF-8 close reason", closeFrame(1000, "bad \xFF reason"), 1007);
	}

	void testMessageTooBig1009()
	{
		_host = std::make_unique<TestHost>([](parley::HostConfig& config) { config.engine.maxMessageSize = 1000; });
		{
			WsClient c(_host->port(), "/echo");
			c.sendText(std::string(1000, 'a'));
			CPPUNIT_ASSERT_EQUAL(std::size_t(1000), c.readFrame().payload.size());
		}
		expectClose("one frame over the limit", frame(OpBinary, std::string(1001, 'b')), 1009);
		expectClose("fragments over the limit",
			frame(OpText, std::string(600, 'c'), false) + frame(OpCont, std::string(600, 'c')), 1009);
	}

	void testResponderThrowCloses1011Only()
	{
		if (!_host->registry().has("throwing")) return; // test plugins not built
		WsClient bystander(_host->port(), "/throw");
		WsClient victim(_host->port(), "/throw");
		bystander.sendText("before");
		CPPUNIT_ASSERT_EQUAL(std::string("before"), bystander.readFrame().payload);
		victim.sendText("fine");
		CPPUNIT_ASSERT_EQUAL(std::string("fine"), victim.readFrame().payload);
		victim.sendText("boom");
		const Frame f = victim.readClose();
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1011), f.closeCode());
		CPPUNIT_ASSERT(victim.readEof());
		bystander.sendText("after");
		CPPUNIT_ASSERT_EQUAL(std::string("after"), bystander.readFrame().payload);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(_host->logDump(), std::size_t(1), _host->logCount({"throwing", "boom requested"}));
		CPPUNIT_ASSERT(eventually([this] { return _host->server().metrics().responderErrors == 1; }));
	}

	void testReplyCloseAndDrop()
	{
		if (!_host->registry().has("closer")) return; // test plugins not built
		WsClient c(_host->port(), "/closer");
		c.send(frame(OpText, "one") + frame(OpText, "drop") + frame(OpText, "two") + frame(OpText, "close") +
			frame(OpText, "never answered"));
		CPPUNIT_ASSERT_EQUAL(std::string("one"), c.readFrame().payload);
		CPPUNIT_ASSERT_EQUAL(std::string("two"), c.readFrame().payload);
		const Frame f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpClose), int(f.opcode));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(4000), f.closeCode());
		CPPUNIT_ASSERT_EQUAL(std::string("closer says bye"), f.closeReason());
		CPPUNIT_ASSERT(c.readEof());
	}

	void testManyFramesInOneWriteAnsweredInOrder()
	{
		WsClient c(_host->port(), "/ws");
		const int count = 5000;
		std::string batch;
		for (int i = 0; i < count; ++i) batch += frame(OpText, "m" + std::to_string(i));
		c.send(batch);
		for (int i = 0; i < count; ++i)
		{
			const Frame f = c.readFrame();
			CPPUNIT_ASSERT_MESSAGE(f.payload, isRandomSuffixReply(f.payload, "m" + std::to_string(i)));
		}
	}

	void testMessagesBeforeCloseAnsweredFirst()
	{
		WsClient c(_host->port(), "/echo");
		std::string batch;
		for (int i = 0; i < 100; ++i) batch += frame(OpText, "n" + std::to_string(i));
		batch += closeFrame(1000, "done");
		batch += frame(OpText, "after the close: ignored");
		c.send(batch);
		for (int i = 0; i < 100; ++i)
		{
			const Frame f = c.readFrame();
			CPPUNIT_ASSERT_EQUAL(int(OpText), int(f.opcode));
			CPPUNIT_ASSERT_EQUAL("n" + std::to_string(i), f.payload);
		}
		const Frame f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpClose), int(f.opcode));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1000), f.closeCode());
		CPPUNIT_ASSERT(c.readEof());

		// The same for a protocol error: replies first, then the 1002.
		WsClient d(_host->port(), "/echo");
		d.send(frame(OpText, "a") + frame(OpText, "b") + frame(OpText, "x", true, false));
		CPPUNIT_ASSERT_EQUAL(std::string("a"), d.readFrame().payload);
		CPPUNIT_ASSERT_EQUAL(std::string("b"), d.readFrame().payload);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1002), d.readFrame().closeCode());
	}

	void testFragmentsWithInterleavedPing()
	{
		WsClient c(_host->port(), "/echo");
		c.send(frame(OpText, "frag-", false) + frame(OpPing, "mid") + frame(OpCont, "ment", false) +
			frame(OpCont, "ed", true));
		Frame f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpPong), int(f.opcode));
		CPPUNIT_ASSERT_EQUAL(std::string("mid"), f.payload);
		f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpText), int(f.opcode));
		CPPUNIT_ASSERT(f.fin);
		CPPUNIT_ASSERT_EQUAL(std::string("frag-mented"), f.payload);
		c.send(frame(OpBinary, "bin", false) + frame(OpCont, "ary", true));
		f = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpBinary), int(f.opcode));
		CPPUNIT_ASSERT_EQUAL(std::string("binary"), f.payload);
	}

	void testFramesSentWithTheHandshake()
	{
		// Frames in the same write as the upgrade request reach the loop through drainBuffer().
		RawSocket s(_host->port());
		s.send(upgradeRequest("/echo") + frame(OpText, "early 1") + frame(OpText, "early 2"));
		const std::string head = s.readHead();
		CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 101"), head.substr(0, 12));
		CPPUNIT_ASSERT_EQUAL(std::string("early 1"), s.readFrame().payload);
		CPPUNIT_ASSERT_EQUAL(std::string("early 2"), s.readFrame().payload);
	}

	void testOneByteAtATime()
	{
		WsClient c(_host->port(), "/echo");
		const std::string bytes = frame(OpText, "slow", false) + frame(OpPing, "p") + frame(OpCont, std::string(300, 's')) +
			frame(OpBinary, std::string(70000, 'b'));
		for (std::size_t i = 0; i < bytes.size(); ++i)
		{
			c.send(std::string_view(bytes).substr(i, 1));
			if (i < 400) ::usleep(200); // let the first few bytes arrive in separate reads
		}
		CPPUNIT_ASSERT_EQUAL(std::string("p"), c.readFrame().payload);
		CPPUNIT_ASSERT_EQUAL("slow" + std::string(300, 's'), c.readFrame().payload);
		CPPUNIT_ASSERT_EQUAL(std::string(70000, 'b'), c.readFrame().payload);
	}

	void testHalfCloseAnsweredThenEnded()
	{
		// A peer that sends and then shuts down its side without a close frame still gets its
		// replies, then the host ends the connection.
		WsClient c(_host->port(), "/echo");
		c.send(frame(OpText, "last words") + frame(OpText, "really"));
		::shutdown(c.fd(), SHUT_WR);
		CPPUNIT_ASSERT_EQUAL(std::string("last words"), c.readFrame().payload);
		CPPUNIT_ASSERT_EQUAL(std::string("really"), c.readFrame().payload);
		CPPUNIT_ASSERT(c.readEof());
		CPPUNIT_ASSERT(eventually([this] { return _host->server().connectionCount() == 0; }));
	}

	void testStopClosesWith1001()
	{
		WsClient a(_host->port(), "/echo");
		WsClient b(_host->port(), "/ws");
		a.sendText("x");
		a.readFrame();
		b.sendText("y");
		b.readFrame();
		_host->server().stop();
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), a.readClose().closeCode());
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), b.readClose().closeCode());
		CPPUNIT_ASSERT(a.readEof());
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), _host->server().connectionCount());
	}

private:
	std::unique_ptr<TestHost> _host;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostProtocolTest, "host");
