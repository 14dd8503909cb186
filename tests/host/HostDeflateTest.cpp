//
// HostDeflateTest.cpp — permessage-deflate (RFC 7692) through a running host, frame by frame:
// what the 101 answers to each offer, compressed messages both ways (whole, fragmented with
// control frames between fragments, mixed with plain ones), broadcasts to compressed and plain
// receivers, and every way a compressed message can break the protocol (1002, 1007, 1009),
// each closing only its own connection. The client side uses the core codec classes, which
// tests/core/DeflateTest.cpp checks against RFC 7692's own bytes.
//
#include "HostTestSupport.h"
#include "parley/codec/Deflate.h"
#include <cppunit/extensions/HelperMacros.h>
#include <random>

using namespace parley;
using namespace parley::test;
using codec::MessageDeflater;
using codec::MessageInflater;

namespace {

/// RSV1 as Frame::rsv and frame() give it (the three reserved bits, RSV1 highest).
constexpr std::uint8_t Rsv1 = 4;

std::string headerValue(const std::string& head, const std::string& name)
{
	const std::size_t at = head.find("\r\n" + name + ": ");
	if (at == std::string::npos) return "<none>";
	const std::size_t start = at + 4 + name.size();
	return head.substr(start, head.find("\r\n", start) - start);
}

/// JSON-like text that compresses well.
std::string jsonLike(std::size_t size, unsigned seed)
{
	std::string s = "{\"items\":[";
	for (unsigned i = 0; s.size() < size; ++i)
		s += "{\"id\":" + std::to_string(seed * 1000 + i) + ",\"name\":\"parley\",\"tags\":[\"a\",\"b\"],\"ok\":true},";
	s.resize(size);
	return s;
}

std::string randomBytes(std::size_t size, unsigned seed)
{
	std::mt19937 rng(seed);
	std::string s(size, '\0');
	for (char& c : s) c = static_cast<char>(rng() & 0xFF);
	return s;
}

/// A client that offers `offer` (no Sec-WebSocket-Extensions if empty) and compresses and
/// inflates with the core codec as the answer says.
class DeflateClient : public RawSocket
{
public:
	DeflateClient(std::uint16_t port, const std::string& path, const std::string& offer)
		: RawSocket(port)
	{
		send(upgradeRequest(path, offer.empty() ? std::string() : "Sec-WebSocket-Extensions: " + offer + "\r\n"));
		head = readHead();
		if (head.compare(0, 12, "HTTP/1.1 101") != 0) throw std::runtime_error("upgrade refused: " + head);
		extensions = headerValue(head, "Sec-WebSocket-Extensions");
		const bool serverTakeover = extensions.find("server_no_context_takeover") == std::string::npos;
		const bool clientTakeover = extensions.find("client_no_context_takeover") == std::string::npos;
		_deflater = MessageDeflater(MessageDeflater::Settings{6, 15, 8, clientTakeover});
		// Inflate with exactly the window the host agreed to use: a host that compressed with a
		// larger one would reach back too far.
		int serverBits = 15;
		const std::size_t bits = extensions.find("server_max_window_bits=");
		if (bits != std::string::npos) serverBits = std::stoi(extensions.substr(bits + 23));
		_inflater = MessageInflater(MessageInflater::Settings{serverBits, serverTakeover});
	}

	/// The message compressed as this client's deflater does (its window advances).
	std::string compress(std::string_view message)
	{
		std::string out;
		if (!_deflater.compress(message, out)) throw std::runtime_error("compress failed");
		return out;
	}

	void sendText(std::string_view s) { send(frame(OpText, s)); }
	void sendBinary(std::string_view s) { send(frame(OpBinary, s)); }

	/// Reads frames until a close frame arrives; returns it.
	Frame readClose()
	{
		for (;;)
		{
			Frame f = readFrame();
			if (f.opcode == OpClose) return f;
		}
	}

	/// Sends one compressed message in one frame (RSV1 set).
	void sendCompressed(std::uint8_t opcode, std::string_view message) { send(frame(opcode, compress(message), true, true, Rsv1)); }

	/// Reads one data message (whole frames; pings are skipped); inflates it if RSV1 is set.
	std::string receive(bool& compressed, std::uint8_t* opcode = nullptr, std::size_t* wireSize = nullptr)
	{
		Frame f;
		do f = readFrame();
		while (f.opcode == OpPing || f.opcode == OpPong);
		if (f.opcode == OpClose)
			throw std::runtime_error("closed " + std::to_string(f.closeCode()) + ": " + f.closeReason());
		if (!f.fin) throw std::runtime_error("the host fragmented a message");
		if (opcode) *opcode = f.opcode;
		if (wireSize) *wireSize = f.payload.size();
		compressed = (f.rsv & Rsv1) != 0;
		if (f.rsv & 3) throw std::runtime_error("RSV2/RSV3 set by the host");
		if (!compressed) return f.payload;
		std::string plain;
		MessageInflater::Error error = MessageInflater::Error::None;
		if (!_inflater.feed(f.payload, plain, 1u << 30, error) || !_inflater.finish(plain, 1u << 30, error))
			throw std::runtime_error("the host's compressed message does not inflate");
		return plain;
	}

	std::string head;
	std::string extensions;

private:
	MessageDeflater _deflater;
	MessageInflater _inflater;
};

/// A host with echo on /z (deflate on) and /plain (off), broadcast on /room (on).
void deflateRoutes(HostConfig& c)
{
	c.routes["/z"] = {"echo"};
	c.routeOptions["/z"].deflate = true;
	c.routes["/plain"] = {"echo"};
	c.routes["/room"] = {"broadcast"};
	c.routeOptions["/room"].deflate = true;
	c.engine.maxMessageSize = 1u << 20;
}

const char* const Offer = "permessage-deflate; client_max_window_bits";

} // namespace

class HostDeflateTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostDeflateTest);
	CPPUNIT_TEST(testAnswers);
	CPPUNIT_TEST(testEngineSettingsInTheAnswer);
	CPPUNIT_TEST(testEchoBothWays);
	CPPUNIT_TEST(testServerContextTakeover);
	CPPUNIT_TEST(testFragmentedWithControlFrames);
	CPPUNIT_TEST(testMixedAndMinSize);
	CPPUNIT_TEST(testBroadcastToCompressedAndPlain);
	CPPUNIT_TEST(testProtocolErrors);
	CPPUNIT_TEST(testDecompressionBomb);
	CPPUNIT_TEST_SUITE_END();

public:
	void testAnswers()
	{
		TestHost host(deflateRoutes);
		auto answer = [&](const std::string& path, const std::string& offer) {
			DeflateClient client(host.port(), path, offer);
			client.sendText("still a WebSocket");
			bool compressed = true;
			CPPUNIT_ASSERT_EQUAL(std::string("still a WebSocket"), client.receive(compressed));
			CPPUNIT_ASSERT(!compressed); // below engine.deflate.min_size
			return client.extensions;
		};
		// The defaults: the host keeps no window; the client's offered window limit is answered.
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_no_context_takeover; client_max_window_bits=15"),
			answer("/z", Offer));
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_no_context_takeover"), answer("/z", "permessage-deflate"));
		// What a browser sends; what python3-websockets sends.
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_no_context_takeover; client_max_window_bits=15"),
			answer("/z", "permessage-deflate; client_max_window_bits"));
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_no_context_takeover; client_max_window_bits=12"),
			answer("/z", "permessage-deflate; client_max_window_bits=12"));
		// The client's own requests are honoured.
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"),
			answer("/z", "permessage-deflate; client_no_context_takeover; server_max_window_bits=10"));
		// Several offers: the first acceptable one wins; an unknown parameter, a duplicate, a bad
		// value or server_max_window_bits=8 (zlib cannot) declines that offer only.
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_no_context_takeover"),
			answer("/z", "permessage-deflate; x-unknown, permessage-deflate; server_max_window_bits=8, permessage-deflate"));
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_no_context_takeover; client_max_window_bits=9"),
			answer("/z", "permessage-deflate; client_max_window_bits=16, permessage-deflate; client_max_window_bits=\"9\""));
		// Offers spread over two header fields count together.
		{
			RawSocket raw(host.port());
			raw.send(upgradeRequest("/z", "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n"
				"Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n"));
			const std::string head = raw.readHead();
			CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 101"), head.substr(0, 12));
			CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
				headerValue(head, "Sec-WebSocket-Extensions"));
		}
		// Nothing acceptable, another extension, no offer, a route without deflate: no answer
		// field, and the connection works uncompressed.
		CPPUNIT_ASSERT_EQUAL(std::string("<none>"), answer("/z", "permessage-deflate; server_max_window_bits"));
		CPPUNIT_ASSERT_EQUAL(std::string("<none>"), answer("/z", "permessage-deflate; client_no_context_takeover; client_no_context_takeover"));
		CPPUNIT_ASSERT_EQUAL(std::string("<none>"), answer("/z", "x-webkit-deflate-frame"));
		CPPUNIT_ASSERT_EQUAL(std::string("<none>"), answer("/z", "permessage-deflate; =broken"));
		CPPUNIT_ASSERT_EQUAL(std::string("<none>"), answer("/z", ""));
		CPPUNIT_ASSERT_EQUAL(std::string("<none>"), answer("/plain", Offer));
	}

	void testEngineSettingsInTheAnswer()
	{
		TestHost host([](HostConfig& c) {
			deflateRoutes(c);
			codec::DeflateServerConfig& n = c.engine.deflate.negotiation;
			n.serverNoContextTakeover = false;
			n.serverMaxWindowBits = 11;
			n.clientMaxWindowBits = 10;
			n.requestClientNoContextTakeover = true;
		});
		DeflateClient client(host.port(), "/z", Offer);
		CPPUNIT_ASSERT_EQUAL(
			std::string("permessage-deflate; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=10"),
			client.extensions);
		// The agreed windows are used: 200 messages that the client compresses without keeping
		// its window, answered by a host compressing with its own 2 KiB window.
		for (unsigned i = 0; i < 200; ++i)
		{
			const std::string message = jsonLike(3000, i);
			client.sendCompressed(OpText, message);
			bool compressed = false;
			CPPUNIT_ASSERT_EQUAL(message, client.receive(compressed));
			CPPUNIT_ASSERT(compressed);
		}
	}

	void testEchoBothWays()
	{
		TestHost host(deflateRoutes);
		DeflateClient client(host.port(), "/z", Offer);
		std::size_t wire = 0, payload = 0;
		for (unsigned i = 0; i < 500; ++i)
		{
			const bool text = i % 5 != 4;
			const std::string message = text ? jsonLike(200 + i * 7, i) : randomBytes(300 + i, i);
			client.sendCompressed(text ? OpText : OpBinary, message);
			bool compressed = false;
			std::uint8_t opcode = 0;
			std::size_t size = 0;
			CPPUNIT_ASSERT_EQUAL(message, client.receive(compressed, &opcode, &size));
			CPPUNIT_ASSERT(compressed);
			CPPUNIT_ASSERT_EQUAL(text ? std::uint8_t(OpText) : std::uint8_t(OpBinary), opcode);
			if (text)
			{
				wire += size;
				payload += message.size();
			}
		}
		// JSON-like text shrinks several times over.
		CPPUNIT_ASSERT_MESSAGE(std::to_string(wire) + " of " + std::to_string(payload), wire * 4 < payload);
		// An empty compressed message is the single byte 00 (RFC 7692 §7.2.3.6); it is echoed.
		client.send(frame(OpText, std::string(1, '\0'), true, true, Rsv1));
		bool compressed = true;
		CPPUNIT_ASSERT_EQUAL(std::string(), client.receive(compressed));
		CPPUNIT_ASSERT(!compressed);
		client.send(closeFrame(1000));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1000), client.readClose().closeCode());
		host::Metrics m = host.server().metrics();
		CPPUNIT_ASSERT(eventually([&] {
			m = host.server().metrics();
			return m.inflateMessagesIn == 501;
		}));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(500), m.deflateMessagesOut);
		CPPUNIT_ASSERT(m.deflateWireBytesOut < m.deflatePayloadBytesOut);
		CPPUNIT_ASSERT_EQUAL(m.deflatePayloadBytesOut, m.inflatePayloadBytesIn);
	}

	void testServerContextTakeover()
	{
		// With the host keeping its window, a message like the last one costs a few bytes.
		TestHost host([](HostConfig& c) {
			deflateRoutes(c);
			c.engine.deflate.negotiation.serverNoContextTakeover = false;
		});
		DeflateClient keeps(host.port(), "/z", Offer);
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; client_max_window_bits=15"), keeps.extensions);
		DeflateClient resets(host.port(), "/z", "permessage-deflate; server_no_context_takeover");
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_no_context_takeover"), resets.extensions);
		const std::string message = randomBytes(2000, 99);
		std::size_t keptSizes[3], resetSizes[3];
		for (int i = 0; i < 3; ++i)
		{
			bool compressed = false;
			keeps.sendBinary(message);
			CPPUNIT_ASSERT_EQUAL(message, keeps.receive(compressed, nullptr, &keptSizes[i]));
			CPPUNIT_ASSERT(compressed);
			resets.sendBinary(message);
			CPPUNIT_ASSERT_EQUAL(message, resets.receive(compressed, nullptr, &resetSizes[i]));
			CPPUNIT_ASSERT(compressed);
		}
		// Random bytes do not compress on their own; repeated, the kept window finds them.
		CPPUNIT_ASSERT(keptSizes[0] > 2000);
		CPPUNIT_ASSERT_MESSAGE(std::to_string(keptSizes[1]), keptSizes[1] < 100 && keptSizes[2] < 100);
		CPPUNIT_ASSERT(resetSizes[1] > 2000 && resetSizes[2] > 2000);
	}

	void testFragmentedWithControlFrames()
	{
		TestHost host(deflateRoutes);
		DeflateClient client(host.port(), "/z", Offer);
		for (unsigned round = 0; round < 3; ++round)
		{
			const std::string message = jsonLike(20000, round);
			const std::string wire = client.compress(message);
			// RSV1 on the first fragment only; a ping between fragments is answered at once.
			const std::size_t a = wire.size() / 3, b = 2 * wire.size() / 3;
			client.send(frame(OpText, wire.substr(0, a), false, true, Rsv1));
			client.send(frame(OpPing, "between"));
			client.send(frame(OpCont, wire.substr(a, b - a), false));
			client.send(frame(OpCont, wire.substr(b), true));
			const Frame pong = client.readFrame();
			CPPUNIT_ASSERT_EQUAL(std::uint8_t(OpPong), pong.opcode);
			CPPUNIT_ASSERT_EQUAL(std::uint8_t(0), pong.rsv);
			CPPUNIT_ASSERT_EQUAL(std::string("between"), pong.payload);
			bool compressed = false;
			CPPUNIT_ASSERT_EQUAL(message, client.receive(compressed));
			CPPUNIT_ASSERT(compressed);
		}
		// A fragment with RSV1 but no data in the first frame (all in the continuations).
		const std::string message = jsonLike(5000, 7);
		const std::string wire = client.compress(message);
		client.send(frame(OpBinary, std::string(), false, true, Rsv1));
		client.send(frame(OpCont, wire, true));
		bool compressed = false;
		std::uint8_t opcode = 0;
		CPPUNIT_ASSERT_EQUAL(message, client.receive(compressed, &opcode));
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(OpBinary), opcode);
	}

	void testMixedAndMinSize()
	{
		TestHost host([](HostConfig& c) {
			deflateRoutes(c);
			c.engine.deflate.minSize = 100;
		});
		DeflateClient client(host.port(), "/z", Offer);
		// Plain and compressed messages interleave on one connection (RSV1 per message); the
		// host compresses what it sends from engine.deflate.min_size on, whatever the client did.
		for (unsigned i = 0; i < 200; ++i)
		{
			const std::string message = jsonLike(50 + i, i);
			if (i % 2) client.sendCompressed(OpText, message);
			else client.sendText(message);
			bool compressed = false;
			CPPUNIT_ASSERT_EQUAL(message, client.receive(compressed));
			CPPUNIT_ASSERT_EQUAL(message.size() >= 100, compressed);
		}
	}

	void testBroadcastToCompressedAndPlain()
	{
		TestHost host([](HostConfig& c) {
			deflateRoutes(c);
			c.engine.threads = 1; // all on one loop: one compression serves them all
		});
		DeflateClient zipA(host.port(), "/room", Offer);
		DeflateClient zipB(host.port(), "/room", "permessage-deflate; server_max_window_bits=10");
		DeflateClient plain(host.port(), "/room", "");
		CPPUNIT_ASSERT_EQUAL(std::string("<none>"), plain.extensions);
		const unsigned Messages = 100;
		for (unsigned i = 0; i < Messages; ++i)
		{
			// Every fourth message repeats 1500 random bytes: a match 1500 bytes back, beyond
			// zipB's 1 KiB window.
			const std::string message = i % 4 == 3 ? std::string(2, ' ') + randomBytes(1500, i) + randomBytes(1500, i)
				: jsonLike(500 + i, i);
			const std::uint8_t op = i % 4 == 3 ? OpBinary : OpText;
			if (i % 3 == 0) zipA.sendCompressed(op, message);
			else if (i % 3 == 1) zipB.send(frame(op, message));
			else plain.send(frame(op, message));
			for (DeflateClient* client : {&zipA, &zipB, &plain})
			{
				bool compressed = false;
				std::size_t wire = 0;
				CPPUNIT_ASSERT_EQUAL(message, client->receive(compressed, nullptr, &wire));
				CPPUNIT_ASSERT_EQUAL(client != &plain, compressed);
				// zlib inflates a too-distant match without complaint, so the window shows in the
				// size: only a 32 KiB window reaches the repeat (a message made for one window
				// was not handed to a connection that agreed to another).
				if (i % 4 == 3 && client == &zipA) CPPUNIT_ASSERT_MESSAGE(std::to_string(wire), wire < 2000);
				if (i % 4 == 3 && client == &zipB) CPPUNIT_ASSERT_MESSAGE(std::to_string(wire), wire > 3000);
			}
		}
		host::Metrics m = host.server().metrics();
		CPPUNIT_ASSERT(eventually([&] {
			m = host.server().metrics();
			return m.messagesOut == 3 * Messages;
		}));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2 * Messages), m.deflateMessagesOut);
	}

	void testProtocolErrors()
	{
		TestHost host(deflateRoutes);
		DeflateClient bystander(host.port(), "/z", Offer);
		auto expectClose = [&](const std::string& path, const std::string& offer, const std::vector<std::string>& frames,
			std::uint16_t code, const std::string& reason) {
			DeflateClient client(host.port(), path, offer);
			for (const auto& f : frames) client.send(f);
			const Frame close = client.readClose();
			CPPUNIT_ASSERT_EQUAL(code, close.closeCode());
			CPPUNIT_ASSERT_EQUAL(reason, close.closeReason());
			// The other connection goes on.
			const std::string message = jsonLike(400, code);
			bystander.sendCompressed(OpText, message);
			bool compressed = false;
			CPPUNIT_ASSERT_EQUAL(message, bystander.receive(compressed));
		};
		MessageDeflater deflater(MessageDeflater::Settings{6, 15, 8, false});
		std::string hello;
		CPPUNIT_ASSERT(deflater.compress("Hello, parley", hello));
		std::string badUtf8;
		CPPUNIT_ASSERT(deflater.compress(std::string("ok \xC3\x28 not UTF-8"), badUtf8));
		// RSV1 without the extension, on a continuation frame, on a control frame: 1002.
		expectClose("/plain", Offer, {frame(OpText, hello, true, true, Rsv1)}, 1002, "reserved bits set without an extension");
		expectClose("/z", Offer, {frame(OpText, "He", false), frame(OpCont, "llo", true, true, Rsv1)}, 1002,
			"RSV1 on a continuation frame");
		expectClose("/z", Offer, {frame(OpPing, "x", true, true, Rsv1)}, 1002, "RSV1 on a control frame");
		// RSV2 and RSV3 stay reserved.
		expectClose("/z", Offer, {frame(OpText, hello, true, true, 2)}, 1002, "reserved bits set without an extension");
		expectClose("/z", Offer, {frame(OpText, hello, true, true, 1)}, 1002, "reserved bits set without an extension");
		// Data that does not inflate: 1002. Text that is not UTF-8 once inflated: 1007.
		expectClose("/z", Offer, {frame(OpText, "\xff\xff\xff\xff garbage", true, true, Rsv1)}, 1002,
			"invalid compressed data");
		expectClose("/z", Offer, {frame(OpText, badUtf8, true, true, Rsv1)}, 1007,
			"invalid UTF-8 in a compressed text message");
		// The same bytes as binary are fine.
		DeflateClient client(host.port(), "/z", Offer);
		client.send(frame(OpBinary, badUtf8, true, true, Rsv1));
		bool compressed = false;
		CPPUNIT_ASSERT_EQUAL(std::string("ok \xC3\x28 not UTF-8"), client.receive(compressed));
	}

	void testDecompressionBomb()
	{
		// 4 MiB of zeros deflate to about 4 KiB; the limit is 1 MiB: 1009, found while inflating.
		TestHost host(deflateRoutes);
		DeflateClient bystander(host.port(), "/z", Offer);
		MessageDeflater deflater(MessageDeflater::Settings{9, 15, 9, false});
		std::string bomb;
		CPPUNIT_ASSERT(deflater.compress(std::string(4u << 20, '\0'), bomb));
		CPPUNIT_ASSERT(bomb.size() < 10000);
		for (int i = 0; i < 3; ++i)
		{
			DeflateClient client(host.port(), "/z", Offer);
			client.send(frame(OpBinary, bomb, true, true, Rsv1));
			const Frame close = client.readClose();
			CPPUNIT_ASSERT_EQUAL(std::uint16_t(1009), close.closeCode());
			CPPUNIT_ASSERT_EQUAL(std::string("inflated message too big"), close.closeReason());
		}
		// Exactly the limit inflates.
		const std::string whole(1u << 20, 'z');
		bystander.sendCompressed(OpBinary, whole);
		bool compressed = false;
		CPPUNIT_ASSERT(whole == bystander.receive(compressed));
		CPPUNIT_ASSERT(compressed);
		// After a message that large the connection gives its buffers back; compression goes on.
		for (int i = 0; i < 3; ++i)
		{
			const std::string next = jsonLike(1000, 70 + i);
			bystander.sendCompressed(OpText, next);
			CPPUNIT_ASSERT_EQUAL(next, bystander.receive(compressed));
		}
		CPPUNIT_ASSERT(eventually([&] {
			const host::Metrics m = host.server().metrics();
			return m.closesSent.count(1009) && m.closesSent.at(1009) == 3;
		}));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostDeflateTest, "host");
