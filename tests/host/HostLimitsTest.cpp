//
// HostLimitsTest.cpp — backpressure, idle timeout and ping interval over real sockets.
//
#include "HostTestSupport.h"
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <chrono>
#include <fcntl.h>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace parley::test;

class HostLimitsTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostLimitsTest);
	CPPUNIT_TEST(testBackpressureThrottlesAReaderThatNeverReads);
	CPPUNIT_TEST(testBackpressureLimitCloses1008);
	CPPUNIT_TEST(testIdleTimeoutCloses1001);
	CPPUNIT_TEST(testPingIntervalAndMissingPong);
	CPPUNIT_TEST(testHandshakeTimeout);
	CPPUNIT_TEST(testChunkedSendsKeepOrderThroughShortSends);
	CPPUNIT_TEST_SUITE_END();

public:
	void tearDown() override { _host.reset(); }

	void testBackpressureThrottlesAReaderThatNeverReads()
	{
		_host = std::make_unique<TestHost>([](parley::HostConfig& config) {
			config.engine.backpressureHigh = 64 * 1024;
			config.engine.backpressureLow = 16 * 1024;
			config.engine.backpressureLimit = 512u << 20;
		});
		WsClient flooder(_host->port(), "/echo", 64 * 1024);
		WsClient bystander(_host->port(), "/echo");
		const std::string message(1000, 'f');
		// Far more than the socket buffers of both sides hold: the host must stop reading.
		const std::string one = frame(OpBinary, message);
		const std::size_t limit = std::size_t(256) << 20;
		const std::size_t written = writeUntilStuck(flooder, one, limit, 1500);
		CPPUNIT_ASSERT_MESSAGE("the host never stopped reading: " + std::to_string(written), written < limit);
		const std::size_t frames = written / one.size();
		const std::size_t partial = written % one.size();

		const parley::host::Metrics m = _host->server().metrics();
		CPPUNIT_ASSERT(m.backpressurePauses >= 1);
		// The host held at most the high mark plus the replies to one read (1 MiB) per connection.
		CPPUNIT_ASSERT_MESSAGE(std::to_string(m.maxPendingOutput), m.maxPendingOutput <= 64 * 1024 + (1100u << 10));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), m.backpressureCloses);

		// Another connection is not harmed.
		bystander.sendText("unharmed");
		CPPUNIT_ASSERT_EQUAL(std::string("unharmed"), bystander.readFrame().payload);

		// Once the flooder reads, every message is answered, in order, and the connection lives on.
		for (std::size_t i = 0; i < frames; ++i)
		{
			const Frame f = flooder.readFrame();
			CPPUNIT_ASSERT_EQUAL(int(OpBinary), int(f.opcode));
			CPPUNIT_ASSERT(f.payload == message);
		}
		if (partial != 0)
		{
			flooder.send(std::string_view(one).substr(partial));
			CPPUNIT_ASSERT(flooder.readFrame().payload == message);
		}
		flooder.sendText("done");
		CPPUNIT_ASSERT_EQUAL(std::string("done"), flooder.readFrame().payload);
	}

	void testBackpressureLimitCloses1008()
	{
		// One reply larger than the limit plus all the socket buffers can hold (the kernel's
		// send buffer grows to tcp_wmem's maximum, 4 MiB by default) must close the connection.
		_host = std::make_unique<TestHost>([](parley::HostConfig& config) {
			config.engine.backpressureHigh = 32 * 1024;
			config.engine.backpressureLow = 8 * 1024;
			config.engine.backpressureLimit = 64 * 1024;
		});
		WsClient flooder(_host->port(), "/echo", 64 * 1024);
		WsClient bystander(_host->port(), "/echo");
		std::string big(12u << 20, 'g');
		for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
		flooder.sendBinary(big);
		// Give the host time to try to send the reply into the full socket, then read: the reply
		// (already encoded) still arrives whole, followed by the 1008 close and EOF.
		CPPUNIT_ASSERT(eventually([this] { return _host->server().metrics().backpressureCloses == 1; }));
		const Frame echo = flooder.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpBinary), int(echo.opcode));
		CPPUNIT_ASSERT(echo.payload == big);
		const Frame f = flooder.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpClose), int(f.opcode));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1008), f.closeCode());
		CPPUNIT_ASSERT(flooder.readEof());
		CPPUNIT_ASSERT_MESSAGE(_host->logDump(), _host->logCount({"engine.backpressure_limit", "1008"}) == 1);
		bystander.sendText("unharmed");
		CPPUNIT_ASSERT_EQUAL(std::string("unharmed"), bystander.readFrame().payload);
	}

	void testIdleTimeoutCloses1001()
	{
		_host = std::make_unique<TestHost>([](parley::HostConfig& config) { config.engine.idleTimeoutMs = 1500; });
		WsClient idle(_host->port(), "/echo");
		WsClient busy(_host->port(), "/echo");
		// `busy` talks every 100 ms (well inside the timeout) while `idle` says nothing.
		bool idleClosed = false;
		for (int i = 0; i < 100 && !idleClosed; ++i)
		{
			busy.sendText("tick");
			CPPUNIT_ASSERT_EQUAL(std::string("tick"), busy.readFrame().payload);
			pollfd p{idle.fd(), POLLIN, 0};
			idleClosed = ::poll(&p, 1, 100) == 1;
		}
		CPPUNIT_ASSERT(idleClosed);
		const Frame f = idle.readFrame();
		CPPUNIT_ASSERT_EQUAL(int(OpClose), int(f.opcode));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), f.closeCode());
		// The host started the closing handshake: it ends TCP once our close arrives.
		idle.send(closeFrame(1001));
		CPPUNIT_ASSERT(idle.readEof());
		busy.sendText("still open");
		CPPUNIT_ASSERT_EQUAL(std::string("still open"), busy.readFrame().payload);
		CPPUNIT_ASSERT(eventually([this] { return _host->server().metrics().idleCloses == 1; }));
	}

	void testPingIntervalAndMissingPong()
	{
		_host = std::make_unique<TestHost>([](parley::HostConfig& config) { config.engine.pingIntervalMs = 300; });
		WsClient c(_host->port(), "/echo");
		// Answer three pings: the connection stays open.
		for (int i = 0; i < 3; ++i)
		{
			const Frame ping = c.readFrame();
			CPPUNIT_ASSERT_EQUAL(int(OpPing), int(ping.opcode));
			c.send(frame(OpPong, ping.payload));
		}
		c.sendText("alive");
		Frame f = c.readFrame();
		while (f.opcode == OpPing)
		{
			c.send(frame(OpPong, f.payload));
			f = c.readFrame();
		}
		CPPUNIT_ASSERT_EQUAL(std::string("alive"), f.payload);
		// Now ignore the pings: the host gives up with 1001.
		f = c.readClose();
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), f.closeCode());
		CPPUNIT_ASSERT(c.readEof());
		CPPUNIT_ASSERT(eventually([this] { return _host->server().metrics().pingTimeouts == 1; }));
	}

	void testHandshakeTimeout()
	{
		_host = std::make_unique<TestHost>([](parley::HostConfig& config) { config.engine.handshakeTimeoutMs = 300; });
		RawSocket slow(_host->port());
		slow.send("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n");
		// The rest of the request never comes: the host drops the connection.
		CPPUNIT_ASSERT(slow.readEof());
		// A complete request in time still upgrades.
		WsClient c(_host->port(), "/echo");
		c.sendText("in time");
		CPPUNIT_ASSERT_EQUAL(std::string("in time"), c.readFrame().payload);
	}

	void testChunkedSendsKeepOrderThroughShortSends()
	{
		// engine.send_chunk of 64 bytes sends the first replies of a run of small messages at once
		// and the rest with a second send; 16 KiB is the default. A 4 KiB receive buffer and a peer
		// that reads late make sends come up short, so the rest of a read's replies queue behind
		// them. Every reply (and every pong) must still arrive whole and in order, on both routes.
		for (std::size_t chunk : {std::size_t(64), std::size_t(16384), std::size_t(65536)})
		{
			_host = std::make_unique<TestHost>([chunk](parley::HostConfig& config) { config.engine.sendChunk = chunk; });
			for (const char* route : {"/echo", "/ws"})
			{
				WsClient c(_host->port(), route, 4096);
				std::string burst;
				std::vector<std::pair<std::uint8_t, std::string>> expected;
				for (int i = 0; i < 6000; ++i)
				{
					// Blocks of 1000 small messages (their replies go out early) between blocks of
					// 100 large ones (which fill the socket buffers).
					const bool large = i % 1100 >= 1000;
					const std::string text = "m" + std::to_string(i) + std::string(static_cast<std::size_t>(large ? 20000 : i % 50), 'x');
					if (i % 100 == 0)
					{
						burst += frame(OpPing, "p" + std::to_string(i));
						expected.emplace_back(OpPong, "p" + std::to_string(i));
					}
					burst += frame(OpText, text);
					expected.emplace_back(OpText, text);
				}
				// About 10 MB of replies: more than the socket buffers hold, so the host's sends
				// come up short while it still has replies of the same read to make. The burst is
				// written from a thread, as the host stops reading while its output is backed up,
				// and read only after a pause.
				std::thread writer([&c, &burst] { c.send(burst); });
				std::this_thread::sleep_for(std::chrono::milliseconds(300)); // let the buffers fill
				std::string failure;
				try
				{
					for (std::size_t k = 0; k < expected.size() && failure.empty(); ++k)
					{
						const Frame f = c.readFrame();
						const bool ok = f.opcode == expected[k].first &&
							(expected[k].first == OpPong || std::string(route) == "/echo"
									? f.payload == expected[k].second
									// random-suffix: the message, a space and a number
									: f.payload.compare(0, expected[k].second.size() + 1, expected[k].second + " ") == 0);
						if (!ok)
							failure = std::string(route) + " chunk " + std::to_string(chunk) + ": reply " + std::to_string(k) +
								" is wrong (opcode " + std::to_string(f.opcode) + ", " + std::to_string(f.payload.size()) + " bytes)";
					}
				}
				catch (const std::exception& e)
				{
					failure = std::string(route) + " chunk " + std::to_string(chunk) + ": " + e.what();
				}
				::shutdown(c.fd(), SHUT_RDWR); // unblocks the writer if the host stopped reading
				writer.join();
				CPPUNIT_ASSERT_MESSAGE(failure, failure.empty());
			}
			const parley::host::Metrics m = _host->server().metrics();
			CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), m.protocolErrors + m.ioErrors + m.backpressureCloses);
			CPPUNIT_ASSERT_MESSAGE("no send came up short", m.maxPendingOutput > 0);
		}
	}

private:
	std::unique_ptr<TestHost> _host;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostLimitsTest, "host");
