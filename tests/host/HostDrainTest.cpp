//
// HostDrainTest.cpp — graceful stop of the real parley-host binary (SIGTERM): it stops accepting
// at once, /health says draining, and every client gets the replies to every message the host
// read (inline and blocking chains, queued worker jobs too) before its 1001; the host exits 0.
//
#include "HostFiles.h"
#include "HostProcess.h"
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

using namespace parley::test;

class HostDrainTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostDrainTest);
	CPPUNIT_TEST(testDrainAnswersEveryMessageRead);
	CPPUNIT_TEST(testDrainDelayKeepsServingWhileHealthSaysDraining);
	CPPUNIT_TEST(testSecondSignalStopsAtOnce);
	CPPUNIT_TEST(testSilentPeerEndsAtDrainTimeout);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_files = std::make_unique<HostFiles>("drain");
		_files->copyPlugins(pluginDir(), {"echo.so"});
		_files->copyPlugins(testPluginDir(), {"sleepy.so"});
	}

	void tearDown() override
	{
		_files.reset();
	}

	/// 4 connections with 64 messages in flight each on an inline route, and 2 on a blocking
	/// route whose messages queue for the workers (64 × 20 ms each): after SIGTERM every one of
	/// them is answered, in order, then 1001 "server going away" comes; the host exits 0.
	void testDrainAnswersEveryMessageRead()
	{
		Host host(*this, "route./echo = echo\nroute./slow = sleepy\nplugin.sleepy.sleep_ms = 20\nplugins.workers = 2\n"
						 "engine.threads = 2\n");
		std::vector<std::unique_ptr<WsClient>> clients;
		std::vector<std::vector<std::string>> sent;
		for (int i = 0; i < 6; ++i)
		{
			clients.push_back(std::make_unique<WsClient>(host.port, i < 4 ? "/echo" : "/slow"));
			std::string batch;
			sent.emplace_back();
			for (int j = 0; j < 64; ++j)
			{
				sent.back().push_back("client " + std::to_string(i) + " message " + std::to_string(j));
				batch += frame(OpText, sent.back().back());
			}
			clients.back()->send(batch); // one write: the host reads all 64 together
		}
		// The first reply of each means the host has read that client's 64 messages.
		std::vector<std::vector<std::string>> received(clients.size());
		for (std::size_t i = 0; i < clients.size(); ++i) received[i].push_back(clients[i]->readFrame().payload);
		host.signal(SIGTERM);
		host.waitFor("draining:");
		// Accepting stopped at once: a new client is refused.
		CPPUNIT_ASSERT_MESSAGE("a new connection was accepted while draining", !connects(host.port));
		for (std::size_t i = 0; i < clients.size(); ++i)
		{
			for (;;)
			{
				Frame f = clients[i]->readFrame();
				if (f.opcode == OpClose)
				{
					CPPUNIT_ASSERT_EQUAL_MESSAGE("client " + std::to_string(i), std::uint16_t(1001), f.closeCode());
					CPPUNIT_ASSERT_EQUAL(std::string("server going away"), f.payload.substr(2));
					break;
				}
				received[i].push_back(f.payload);
			}
			CPPUNIT_ASSERT_EQUAL_MESSAGE("client " + std::to_string(i), sent[i].size(), received[i].size());
			for (std::size_t j = 0; j < sent[i].size(); ++j) CPPUNIT_ASSERT_EQUAL(sent[i][j], received[i][j]);
			// The host waits for our close before it ends TCP.
			clients[i]->send(closeFrame(1001));
			CPPUNIT_ASSERT(clients[i]->readEof());
		}
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.runner.output(), 0, host.runner.wait());
		CPPUNIT_ASSERT(!host.runner.killed());
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(), host.runner.output().find("drained 6 connections in ") != std::string::npos);
	}

	/// engine.drain_delay_ms: /health answers 503 draining at once and new clients are refused,
	/// while the open connection is still served; its 1001 comes after the delay.
	void testDrainDelayKeepsServingWhileHealthSaysDraining()
	{
		Host host(*this, "route./echo = echo\nengine.drain_delay_ms = 1500\n");
		CPPUNIT_ASSERT_EQUAL(200, httpGet(host.adminPort, "/health").status);
		WsClient client(host.port, "/echo");
		host.signal(SIGTERM);
		host.waitFor("draining:");
		const HttpAnswer health = httpGet(host.adminPort, "/health");
		CPPUNIT_ASSERT_EQUAL(503, health.status);
		CPPUNIT_ASSERT_MESSAGE(health.body, health.body.find("\"status\":\"draining\"") != std::string::npos);
		CPPUNIT_ASSERT(!connects(host.port));
		client.sendText("still served");
		Frame reply = client.readFrame();
		CPPUNIT_ASSERT_EQUAL(std::string("still served"), reply.payload);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), client.readClose().closeCode());
		client.send(closeFrame(1001));
		CPPUNIT_ASSERT(client.readEof());
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.runner.output(), 0, host.runner.wait());
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(), host.runner.output().find("drained 1 connections in ") != std::string::npos);
	}

	/// A second SIGTERM during a long drain delay ends the host at once.
	void testSecondSignalStopsAtOnce()
	{
		Host host(*this, "route./echo = echo\nengine.drain_delay_ms = 600000\n", 60);
		WsClient client(host.port, "/echo");
		host.signal(SIGTERM);
		host.waitFor("draining:");
		host.signal(SIGINT);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), client.readClose().closeCode());
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.runner.output(), 0, host.runner.wait());
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(), !host.runner.killed());
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(), host.runner.output().find("drain interrupted") != std::string::npos);
	}

	/// A peer that never answers the 1001 is dropped at engine.drain_timeout_ms; the log says so.
	void testSilentPeerEndsAtDrainTimeout()
	{
		Host host(*this, "route./echo = echo\nengine.drain_timeout_ms = 300\n");
		WsClient silent(host.port, "/echo");
		WsClient polite(host.port, "/echo");
		host.signal(SIGTERM);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), polite.readClose().closeCode());
		polite.send(closeFrame(1001));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), silent.readClose().closeCode());
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.runner.output(), 0, host.runner.wait());
		CPPUNIT_ASSERT(silent.readEof());
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(),
			host.runner.output().find("drain timeout: 1 of 2 connections had not finished their close handshake") !=
				std::string::npos);
	}

private:
	/// A parley-host binary on free ports with the given configuration (plugins echo and sleepy).
	struct Host : HostProcess
	{
		Host(HostDrainTest& test, const std::string& body, int limitSeconds = 60)
			: HostProcess(test._files->writeConfig(body), limitSeconds)
		{
		}
	};

	/// True if a TCP connection to 127.0.0.1:port is accepted (or at least not refused).
	static bool connects(std::uint16_t port)
	{
		try
		{
			Poco::Net::StreamSocket socket;
			socket.connect(Poco::Net::SocketAddress("127.0.0.1", port), Poco::Timespan(2, 0));
			return true;
		}
		catch (const Poco::Net::ConnectionRefusedException&)
		{
			return false;
		}
	}

	std::unique_ptr<HostFiles> _files;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostDrainTest, "host");
