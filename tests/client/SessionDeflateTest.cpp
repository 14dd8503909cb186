//
// SessionDeflateTest.cpp — permessage-deflate (RFC 7692) in the interactive client session: the
// offer, the server's answer accepted, declined or invalid, compressed frames with RSV1 both
// ways, context takeover, the minimum size, and the close codes for a compressed message that
// inflates too big (1009), is not deflate data (1002) or is not UTF-8 once inflated (1007).
// Against RawFrameServer (which sees the frames as they are on the wire) and python3-websockets.
//
#include "client/DeflateServer.h"
#include "client/RawFrameServer.h"
#include "client/SessionRecorder.h"
#include "parley/client/Session.h"
#include <cppunit/extensions/HelperMacros.h>
#include <string>
#include <vector>

using namespace parley;
using namespace parley::client;
using parley::test::DeflateServer;
using parley::test::RawFrameServer;
using parley::test::Recorder;
using Frame = RawFrameServer::Frame;

namespace {

ConnectOptions deflateTo(const std::string& url)
{
	ConnectOptions o;
	o.url = url;
	o.deflate.enabled = true;
	return o;
}

RawFrameServer::Options answering(std::vector<std::string> extensions, std::string greeting = {})
{
	RawFrameServer::Options o;
	o.extensions = std::move(extensions);
	o.greeting = std::move(greeting);
	return o;
}

/// Connects; waits until the session is open or closed. Returns the first error ("" if none).
std::string connectAndWait(Session& session, Recorder& r, const ConnectOptions& o)
{
	session.connect(o);
	CPPUNIT_ASSERT(r.waitFor([&] {
		return !r.states.empty() && (r.states.back().state == SessionState::Open || r.states.back().state == SessionState::Closed);
	}));
	std::lock_guard<std::mutex> lock(r.mutex);
	return r.errors.empty() ? std::string() : r.errors.front();
}

/// The data frames among `frames` (text, binary, continuation).
std::vector<Frame> dataFrames(const std::vector<Frame>& frames)
{
	std::vector<Frame> out;
	for (const Frame& f : frames)
		if (f.opcode <= 0x2)
			out.push_back(f);
	return out;
}

/// Returns every frame the recorder saw going `direction` of `kind`.
std::vector<FrameRecord> recorded(Recorder& r, Direction direction, FrameKind kind)
{
	std::lock_guard<std::mutex> lock(r.mutex);
	std::vector<FrameRecord> out;
	for (const FrameRecord& f : r.frames)
		if (f.direction == direction && f.kind == kind)
			out.push_back(f);
	return out;
}

/// Waits until `n` messages of `kind` were received.
void waitReceived(Recorder& r, FrameKind kind, std::size_t n)
{
	CPPUNIT_ASSERT(r.waitFor([&] {
		std::size_t got = 0;
		for (const FrameRecord& f : r.frames)
			got += f.direction == Direction::Received && f.kind == kind;
		return got >= n;
	}));
}

/// A text that compresses well.
std::string repetitive(std::size_t size)
{
	std::string s;
	while (s.size() < size)
		s += "parley speaks permessage-deflate; ";
	s.resize(size);
	return s;
}

} // namespace

class SessionDeflateTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(SessionDeflateTest);
	CPPUNIT_TEST(testOfferAcceptedAndRsv1BothWays);
	CPPUNIT_TEST(testNoOfferWithoutTheOption);
	CPPUNIT_TEST(testDeclinedGoesUncompressed);
	CPPUNIT_TEST(testInvalidAnswersFailTheConnection);
	CPPUNIT_TEST(testBadDeflateSettings);
	CPPUNIT_TEST(testMinimumSize);
	CPPUNIT_TEST(testClientContextTakeover);
	CPPUNIT_TEST(testServerContextTakeover);
	CPPUNIT_TEST(testInflatedTooBigCloses1009);
	CPPUNIT_TEST(testCorruptDataCloses1002);
	CPPUNIT_TEST(testInvalidUtf8AfterInflateCloses1007);
	CPPUNIT_TEST(testRsv1WithoutDeflateCloses1002);
	CPPUNIT_TEST(testFragmentedCompressedMessage);
	CPPUNIT_TEST(testAgainstWebsockets);
	CPPUNIT_TEST_SUITE_END();

public:
	void testOfferAcceptedAndRsv1BothWays()
	{
		RawFrameServer::Options o = answering({"permessage-deflate; client_max_window_bits=12"});
		o.compressReplies = true;
		RawFrameServer server(o);
		Recorder r;
		Session session(r);
		CPPUNIT_ASSERT_EQUAL(std::string(), connectAndWait(session, r, deflateTo(server.url())));
		CPPUNIT_ASSERT_MESSAGE(server.lastRequest(),
			server.lastRequest().find("\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n") != std::string::npos);
		{
			std::lock_guard<std::mutex> lock(r.mutex);
			CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.replies.size());
			const HandshakeReply& reply = r.replies[0];
			CPPUNIT_ASSERT(reply.deflateOffered);
			CPPUNIT_ASSERT(reply.deflate);
			CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; client_max_window_bits=12"), reply.extensions);
			CPPUNIT_ASSERT_EQUAL(12, reply.deflateParams.clientMaxWindowBits);
			CPPUNIT_ASSERT_EQUAL(15, reply.deflateParams.serverMaxWindowBits);
			CPPUNIT_ASSERT(!reply.deflateParams.clientNoContextTakeover);
		}

		const std::string text = repetitive(3000);
		std::string binary(5000, '\0');
		for (std::size_t i = 0; i < binary.size(); ++i)
			binary[i] = static_cast<char>(i % 7);
		session.sendText(text);
		session.sendBinary(binary);
		session.ping("p");
		waitReceived(r, FrameKind::Binary, 1);
		CPPUNIT_ASSERT(r.waitFor([&] { return r.findFrame(Direction::Received, FrameKind::Pong) != nullptr; }));

		// On the wire: RSV1 on both data frames, each smaller than its message; none on the ping.
		const std::vector<Frame> frames = server.frames();
		const std::vector<Frame> data = dataFrames(frames);
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), data.size());
		CPPUNIT_ASSERT(data[0].rsv1 && data[0].fin && data[0].opcode == 0x1);
		CPPUNIT_ASSERT(data[1].rsv1 && data[1].fin && data[1].opcode == 0x2);
		CPPUNIT_ASSERT(data[0].payload.size() < text.size() / 4);
		CPPUNIT_ASSERT(data[1].payload.size() < binary.size() / 4);
		for (const Frame& f : frames)
			CPPUNIT_ASSERT(f.opcode <= 0x2 || !f.rsv1);
		const std::vector<std::string> messages = server.messages();
		CPPUNIT_ASSERT(messages.size() == 2 && messages[0] == text && messages[1] == binary);

		// What the listener is told: the payloads, compressed, and their sizes on the wire.
		const std::vector<FrameRecord> sentText = recorded(r, Direction::Sent, FrameKind::Text);
		const std::vector<FrameRecord> sentBinary = recorded(r, Direction::Sent, FrameKind::Binary);
		CPPUNIT_ASSERT(sentText.size() == 1 && sentText[0].payload == text && sentText[0].compressed);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(data[0].payload.size()), sentText[0].wireSize);
		CPPUNIT_ASSERT(sentBinary.size() == 1 && sentBinary[0].payload == binary && sentBinary[0].compressed);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(data[1].payload.size()), sentBinary[0].wireSize);
		const std::vector<FrameRecord> gotText = recorded(r, Direction::Received, FrameKind::Text);
		const std::vector<FrameRecord> gotBinary = recorded(r, Direction::Received, FrameKind::Binary);
		CPPUNIT_ASSERT(gotText.size() == 1 && gotText[0].payload == text && gotText[0].compressed);
		CPPUNIT_ASSERT(gotText[0].wireSize > 0 && gotText[0].wireSize < text.size() / 4);
		CPPUNIT_ASSERT(gotBinary.size() == 1 && gotBinary[0].payload == binary && gotBinary[0].compressed);
		const std::vector<FrameRecord> pings = recorded(r, Direction::Sent, FrameKind::Ping);
		CPPUNIT_ASSERT(pings.size() == 1 && !pings[0].compressed && pings[0].wireSize == 1);

		session.close(1000, "done");
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		CPPUNIT_ASSERT_EQUAL(1000, server.closeCode());
		CPPUNIT_ASSERT(!server.frames().back().rsv1);
		const std::vector<FrameRecord> closes = recorded(r, Direction::Sent, FrameKind::Close);
		CPPUNIT_ASSERT(closes.size() == 1 && closes[0].wireSize == 6 && !closes[0].compressed);
	}

	void testNoOfferWithoutTheOption()
	{
		RawFrameServer server(answering({"permessage-deflate"}));
		Recorder r;
		Session session(r);
		ConnectOptions o = deflateTo(server.url());
		o.deflate.enabled = false;
		CPPUNIT_ASSERT_EQUAL(std::string("handshake failed: the server chose extensions 'permessage-deflate' that were not offered"),
			connectAndWait(session, r, o));
		CPPUNIT_ASSERT_MESSAGE(server.lastRequest(), server.lastRequest().find("Sec-WebSocket-Extensions") == std::string::npos);
	}

	void testDeclinedGoesUncompressed()
	{
		RawFrameServer server(answering({}));
		Recorder r;
		Session session(r);
		CPPUNIT_ASSERT_EQUAL(std::string(), connectAndWait(session, r, deflateTo(server.url())));
		{
			std::lock_guard<std::mutex> lock(r.mutex);
			CPPUNIT_ASSERT(r.replies.size() == 1 && r.replies[0].deflateOffered && !r.replies[0].deflate);
			CPPUNIT_ASSERT_EQUAL(std::string(), r.replies[0].extensions);
		}
		const std::string text = repetitive(1000);
		session.sendText(text);
		waitReceived(r, FrameKind::Text, 1);
		const std::vector<Frame> data = dataFrames(server.frames());
		CPPUNIT_ASSERT(data.size() == 1 && !data[0].rsv1 && data[0].payload == text);
		const std::vector<FrameRecord> sent = recorded(r, Direction::Sent, FrameKind::Text);
		const std::vector<FrameRecord> got = recorded(r, Direction::Received, FrameKind::Text);
		CPPUNIT_ASSERT(sent.size() == 1 && !sent[0].compressed && sent[0].wireSize == text.size());
		CPPUNIT_ASSERT(got.size() == 1 && !got[0].compressed && got[0].wireSize == text.size() && got[0].payload == text);
		session.close();
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
	}

	void testInvalidAnswersFailTheConnection()
	{
		struct Case
		{
			std::vector<std::string> answer;
			bool offerClientBits;
			std::string why;
		};
		const std::vector<Case> cases = {
			{{"x-webkit-deflate-frame"}, true, "extension x-webkit-deflate-frame was not offered"},
			{{"permessage-deflate, x-custom"}, true, "extension x-custom was not offered"},
			{{"permessage-deflate, permessage-deflate"}, true, "more than one permessage-deflate in the answer"},
			{{"permessage-deflate", "permessage-deflate"}, true, "more than one permessage-deflate in the answer"},
			{{"permessage-deflate; client_max_window_bits=10"}, false, "client_max_window_bits was not offered"},
			{{"permessage-deflate; client_max_window_bits=8"}, true, "client_max_window_bits=8"},
			{{"permessage-deflate; server_max_window_bits=16"}, true, "server_max_window_bits"},
			{{"permessage-deflate; mystery"}, true, "mystery"},
			{{"permessage-deflate; server_no_context_takeover; server_no_context_takeover"}, true, "server_no_context_takeover"},
		};
		for (const Case& c : cases)
		{
			const std::string shown = c.answer.front() + (c.answer.size() > 1 ? " (twice)" : "");
			RawFrameServer server(answering(c.answer));
			Recorder r;
			Session session(r);
			ConnectOptions o = deflateTo(server.url());
			o.deflate.offer.offerClientMaxWindowBits = c.offerClientBits;
			const std::string error = connectAndWait(session, r, o);
			CPPUNIT_ASSERT_MESSAGE(shown + ": " + error, error.find("handshake failed: bad Sec-WebSocket-Extensions '") == 0);
			CPPUNIT_ASSERT_MESSAGE(shown + ": " + error, error.find(c.why) != std::string::npos);
			CPPUNIT_ASSERT_MESSAGE(error, error.find('\n') == std::string::npos);
			CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
			{
				std::lock_guard<std::mutex> lock(r.mutex);
				CPPUNIT_ASSERT_EQUAL(int(codec::CloseCode::Abnormal), int(r.states.back().code));
			}
			// The TCP connection is closed without a WebSocket close frame.
			CPPUNIT_ASSERT(server.waitFor([](const std::vector<Frame>&, int, unsigned ended) { return ended == 1; }));
			CPPUNIT_ASSERT_MESSAGE(shown, server.frames().empty());
		}
	}

	void testBadDeflateSettings()
	{
		ConnectOptions o = deflateTo("ws://127.0.0.1:9/");
		o.deflate.offer.level = 10;
		CPPUNIT_ASSERT_THROW_MESSAGE("level 10", checkHandshakeOptions(o), std::invalid_argument);
		o.deflate.offer.level = 9;
		o.deflate.offer.clientMaxWindowBits = 8;
		CPPUNIT_ASSERT_THROW_MESSAGE("client bits 8", checkHandshakeOptions(o), std::invalid_argument);
		o.deflate.enabled = false;
		checkHandshakeOptions(o);  // not offered: not checked
		o.deflate.enabled = true;
		Recorder r;
		Session session(r);
		CPPUNIT_ASSERT_EQUAL(std::string("bad deflate setting: client_max_window_bits must be 9..15 (zlib has no 8-bit raw deflate window)"),
			connectAndWait(session, r, o));
	}

	void testMinimumSize()
	{
		RawFrameServer server(answering({"permessage-deflate"}));
		Recorder r;
		Session session(r);
		ConnectOptions o = deflateTo(server.url());
		o.deflate.minSize = 100;
		CPPUNIT_ASSERT_EQUAL(std::string(), connectAndWait(session, r, o));
		session.sendText(repetitive(99));
		session.sendText(repetitive(100));
		waitReceived(r, FrameKind::Text, 2);
		const std::vector<Frame> data = dataFrames(server.frames());
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), data.size());
		CPPUNIT_ASSERT(!data[0].rsv1 && data[0].payload == repetitive(99));
		CPPUNIT_ASSERT(data[1].rsv1);
		CPPUNIT_ASSERT(server.messages()[1] == repetitive(100));
		const std::vector<FrameRecord> sent = recorded(r, Direction::Sent, FrameKind::Text);
		CPPUNIT_ASSERT(sent.size() == 2 && !sent[0].compressed && sent[1].compressed);
	}

	void testClientContextTakeover()
	{
		// The same message three times: with context takeover the repeats refer back to the
		// first; with client_no_context_takeover (answered, or offered) they are compressed alike.
		const std::string text = repetitive(600) + "0123456789abcdefghijklmnopqrstuvwxyz";
		struct Case
		{
			std::string answer;
			bool offerNoContext;
			bool takeover;
		};
		for (const Case& c : {Case{"permessage-deflate", false, true}, Case{"permessage-deflate; client_no_context_takeover", false, false},
				 Case{"permessage-deflate; client_no_context_takeover", true, false}})
		{
			RawFrameServer server(answering({c.answer}));
			Recorder r;
			Session session(r);
			ConnectOptions o = deflateTo(server.url());
			o.deflate.offer.clientNoContextTakeover = c.offerNoContext;
			CPPUNIT_ASSERT_EQUAL(std::string(), connectAndWait(session, r, o));
			if (c.offerNoContext)
				CPPUNIT_ASSERT(server.lastRequest().find("permessage-deflate; client_no_context_takeover; client_max_window_bits\r\n")
					!= std::string::npos);
			for (int i = 0; i < 3; ++i)
				session.sendText(text);
			waitReceived(r, FrameKind::Text, 3);
			const std::vector<Frame> data = dataFrames(server.frames());
			CPPUNIT_ASSERT_EQUAL(std::size_t(3), data.size());
			for (const Frame& f : data)
				CPPUNIT_ASSERT(f.rsv1);
			for (const std::string& m : server.messages())
				CPPUNIT_ASSERT_EQUAL(text, m);  // the server inflates each with its window kept
			if (c.takeover)
			{
				CPPUNIT_ASSERT(data[1].payload.size() < data[0].payload.size() / 2);
				CPPUNIT_ASSERT(data[2].payload.size() < data[0].payload.size() / 2);
			}
			else
			{
				CPPUNIT_ASSERT(data[0].payload == data[1].payload && data[1].payload == data[2].payload);
			}
		}
	}

	void testServerContextTakeover()
	{
		const std::string text = repetitive(600) + "0123456789abcdefghijklmnopqrstuvwxyz";
		// The server keeps its window: the client keeps its own too and inflates the repeats.
		{
			RawFrameServer::Options o = answering({"permessage-deflate"});
			o.compressReplies = true;
			RawFrameServer server(o);
			Recorder r;
			Session session(r);
			CPPUNIT_ASSERT_EQUAL(std::string(), connectAndWait(session, r, deflateTo(server.url())));
			session.sendText(text);
			session.sendText(text);
			waitReceived(r, FrameKind::Text, 2);
			const std::vector<FrameRecord> got = recorded(r, Direction::Received, FrameKind::Text);
			CPPUNIT_ASSERT(got[0].payload == text && got[1].payload == text && got[0].compressed && got[1].compressed);
			CPPUNIT_ASSERT(got[1].wireSize < got[0].wireSize / 2);
		}
		// The server says server_no_context_takeover and keeps to it: fine.
		{
			RawFrameServer::Options o = answering({"permessage-deflate; server_no_context_takeover"});
			o.compressReplies = true;
			o.deflate.contextTakeover = false;
			RawFrameServer server(o);
			Recorder r;
			Session session(r);
			ConnectOptions co = deflateTo(server.url());
			co.deflate.offer.serverNoContextTakeover = true;
			CPPUNIT_ASSERT_EQUAL(std::string(), connectAndWait(session, r, co));
			CPPUNIT_ASSERT(server.lastRequest().find("permessage-deflate; server_no_context_takeover; client_max_window_bits\r\n")
				!= std::string::npos);
			session.sendText(text);
			session.sendText(text);
			waitReceived(r, FrameKind::Text, 2);
			const std::vector<FrameRecord> got = recorded(r, Direction::Received, FrameKind::Text);
			CPPUNIT_ASSERT(got[0].payload == text && got[1].payload == text && got[0].wireSize == got[1].wireSize);
		}
		// It says server_no_context_takeover but refers back to the previous message anyway: the
		// client reset its window as agreed, so the reference is invalid data (1002).
		{
			RawFrameServer::Options o = answering({"permessage-deflate; server_no_context_takeover"});
			o.compressReplies = true;
			RawFrameServer server(o);
			Recorder r;
			Session session(r);
			CPPUNIT_ASSERT_EQUAL(std::string(), connectAndWait(session, r, deflateTo(server.url())));
			session.sendText(text);
			waitReceived(r, FrameKind::Text, 1);
			session.sendText(text);
			CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
			CPPUNIT_ASSERT(server.waitFor([](const std::vector<Frame>&, int code, unsigned) { return code != 0; }));
			CPPUNIT_ASSERT_EQUAL(1002, server.closeCode());
		}
	}

	void testInflatedTooBigCloses1009()
	{
		// 64 KiB inflated is the limit: a message of exactly that passes, one byte more closes
		// with 1009, although its compressed form is far below the limit.
		const std::string atLimit = RawFrameServer::compress(std::string(65536, 'a'));
		const std::string over = RawFrameServer::compress(std::string(1 << 20, 'b'));
		CPPUNIT_ASSERT(over.size() < 4096);
		RawFrameServer server(answering({"permessage-deflate"},
			RawFrameServer::frame(codec::Opcode::Text, atLimit, true) + RawFrameServer::frame(codec::Opcode::Text, over, true)));
		Recorder r;
		Session session(r);
		ConnectOptions o = deflateTo(server.url());
		o.maxMessageSize = 65536;
		session.connect(o);
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		CPPUNIT_ASSERT(server.waitFor([](const std::vector<Frame>&, int code, unsigned) { return code != 0; }));
		CPPUNIT_ASSERT_EQUAL(1009, server.closeCode());
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.errors.size());
		CPPUNIT_ASSERT_EQUAL(std::string("protocol error from the server: a compressed message inflates to more than 65536 bytes (closing with 1009)"),
			r.errors[0]);
		CPPUNIT_ASSERT_EQUAL(1009, int(r.states.back().code));
		const FrameRecord* first = r.findFrame(Direction::Received, FrameKind::Text);
		CPPUNIT_ASSERT(first && first->payload == std::string(65536, 'a') && first->compressed && first->wireSize == atLimit.size());
	}

	void testCorruptDataCloses1002()
	{
		// 0xff: a final block of the reserved type 3.
		RawFrameServer server(answering({"permessage-deflate"}, RawFrameServer::frame(codec::Opcode::Binary, "\xff\xff\xff", true)));
		Recorder r;
		Session session(r);
		session.connect(deflateTo(server.url()));
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		CPPUNIT_ASSERT(server.waitFor([](const std::vector<Frame>&, int code, unsigned) { return code != 0; }));
		CPPUNIT_ASSERT_EQUAL(1002, server.closeCode());
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::string("protocol error from the server: a compressed message is not valid deflate data (closing with 1002)"),
			r.errors.at(0));
	}

	void testInvalidUtf8AfterInflateCloses1007()
	{
		// The same bytes are fine in a binary message, not in a text message.
		const std::string bytes = "ok \xc3\x28 not UTF-8";
		RawFrameServer server(answering({"permessage-deflate"},
			RawFrameServer::frame(codec::Opcode::Binary, RawFrameServer::compress(bytes), true)
				+ RawFrameServer::frame(codec::Opcode::Text, RawFrameServer::compress(bytes), true)));
		Recorder r;
		Session session(r);
		session.connect(deflateTo(server.url()));
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		CPPUNIT_ASSERT(server.waitFor([](const std::vector<Frame>&, int code, unsigned) { return code != 0; }));
		CPPUNIT_ASSERT_EQUAL(1007, server.closeCode());
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::string("protocol error from the server: invalid UTF-8 in a compressed text message (closing with 1007)"),
			r.errors.at(0));
		const FrameRecord* binary = r.findFrame(Direction::Received, FrameKind::Binary);
		CPPUNIT_ASSERT(binary && binary->payload == bytes && binary->compressed);
		CPPUNIT_ASSERT(r.findFrame(Direction::Received, FrameKind::Text) == nullptr);
	}

	void testRsv1WithoutDeflateCloses1002()
	{
		const std::string compressed = RawFrameServer::frame(codec::Opcode::Text, RawFrameServer::compress("hello"), true);
		for (bool offered : {true, false})
		{
			// Offered and declined, or never offered: RSV1 means nothing agreed.
			RawFrameServer server(answering({}, compressed));
			Recorder r;
			Session session(r);
			ConnectOptions o = deflateTo(server.url());
			o.deflate.enabled = offered;
			session.connect(o);
			CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
			CPPUNIT_ASSERT(server.waitFor([](const std::vector<Frame>&, int code, unsigned) { return code != 0; }));
			CPPUNIT_ASSERT_EQUAL(1002, server.closeCode());
			std::lock_guard<std::mutex> lock(r.mutex);
			CPPUNIT_ASSERT_EQUAL(std::string("protocol error from the server: reserved bits set without an extension (closing with 1002)"),
				r.errors.at(0));
		}
	}

	void testFragmentedCompressedMessage()
	{
		// RSV1 on the first frame only: the frames' payloads together are the compressed message,
		// interleaved with a ping; RSV1 on a continuation frame is a protocol error.
		const std::string text = repetitive(5000);
		const std::string packed = RawFrameServer::compress(text);
		CPPUNIT_ASSERT(packed.size() > 3);
		const std::size_t third = packed.size() / 3;
		const std::string fragmented = RawFrameServer::frame(codec::Opcode::Text, packed.substr(0, third), true, false)
			+ RawFrameServer::frame(codec::Opcode::Ping, "x")
			+ RawFrameServer::frame(codec::Opcode::Continuation, packed.substr(third, third), false, false)
			+ RawFrameServer::frame(codec::Opcode::Continuation, packed.substr(2 * third), false, true);
		const std::string badContinuation = RawFrameServer::frame(codec::Opcode::Text, packed.substr(0, third), true, false)
			+ RawFrameServer::frame(codec::Opcode::Continuation, packed.substr(third), true, true);
		RawFrameServer server(answering({"permessage-deflate"}, fragmented + badContinuation));
		Recorder r;
		Session session(r);
		session.connect(deflateTo(server.url()));
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		CPPUNIT_ASSERT(server.waitFor([](const std::vector<Frame>&, int code, unsigned) { return code != 0; }));
		CPPUNIT_ASSERT_EQUAL(1002, server.closeCode());
		const std::vector<FrameRecord> got = recorded(r, Direction::Received, FrameKind::Text);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), got.size());
		CPPUNIT_ASSERT(got[0].payload == text && got[0].compressed);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(packed.size()), got[0].wireSize);
		std::lock_guard<std::mutex> lock(r.mutex);
		CPPUNIT_ASSERT_EQUAL(std::string("protocol error from the server: RSV1 on a continuation frame (closing with 1002)"),
			r.errors.at(0));
	}

	void testAgainstWebsockets()
	{
		DeflateServer server;
		Recorder r;
		Session session(r);
		CPPUNIT_ASSERT_EQUAL(std::string(), connectAndWait(session, r, deflateTo(server.url("/x"))));
		{
			std::lock_guard<std::mutex> lock(r.mutex);
			CPPUNIT_ASSERT(r.replies.at(0).deflate);
			CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"),
				r.replies[0].extensions);
		}
		const std::string text = repetitive(10000);
		const std::string binary(20000, '\x01');
		session.sendText(text);
		session.sendBinary(binary);
		session.sendText("");
		waitReceived(r, FrameKind::Text, 2);
		waitReceived(r, FrameKind::Binary, 1);
		const std::vector<FrameRecord> got = recorded(r, Direction::Received, FrameKind::Text);
		CPPUNIT_ASSERT(got[0].payload == text && got[0].compressed && got[0].wireSize < text.size() / 4);
		CPPUNIT_ASSERT(got[1].payload.empty() && got[1].compressed);
		const FrameRecord binaryBack = recorded(r, Direction::Received, FrameKind::Binary).at(0);
		CPPUNIT_ASSERT(binaryBack.payload == binary && binaryBack.compressed);
		session.close();
		CPPUNIT_ASSERT(r.waitState(SessionState::Closed));
		const auto stats = server.waitStats(1);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), stats.size());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), stats[0].messages);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), stats[0].compressed);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(text.size() + binary.size()), stats[0].payloadBytes);
		std::uint64_t wire = 0;
		for (const FrameRecord& f : recorded(r, Direction::Sent, FrameKind::Text))
			wire += f.wireSize;
		wire += recorded(r, Direction::Sent, FrameKind::Binary).at(0).wireSize;
		CPPUNIT_ASSERT_EQUAL(wire, stats[0].wireBytes);
		CPPUNIT_ASSERT_EQUAL(1000, stats[0].closeCode);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(SessionDeflateTest, "client");
