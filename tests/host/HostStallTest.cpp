//
// HostStallTest.cpp — the stall watchdog in the real parley-host binary: a responder that does
// not return within engine.stall_timeout_ms is named in one line (plugin, route, connection,
// loop), /health answers 503 "stalled" and the loop takes no new connection until the plugin
// returns; then one line says so and everything serves again. SIGTERM while a loop is stuck
// exits (status 70) after engine.drain_timeout_ms naming the plugin; engine.stall_action = abort
// aborts after the line.
//
#include "HostFiles.h"
#include "HostProcess.h"
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <chrono>
#include <csignal>
#include <memory>
#include <stdexcept>
#include <string>

using namespace parley::test;

namespace {

using Clock = std::chrono::steady_clock;

long long msSince(Clock::time_point start)
{
	return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

std::size_t countOf(const std::string& text, const std::string& part)
{
	std::size_t n = 0;
	for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
	return n;
}

/// The value of an unlabelled series in /metrics text ("" if absent).
std::string metric(const std::string& text, const std::string& name)
{
	const std::size_t at = text.find("\n" + name + " ");
	if (at == std::string::npos) return std::string();
	const std::size_t start = at + name.size() + 2;
	return text.substr(start, text.find('\n', start) - start);
}

} // namespace

class HostStallTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostStallTest);
	CPPUNIT_TEST(testStallIsReportedAndTheLoopRecovers);
	CPPUNIT_TEST(testWorkerStallIsReported);
	CPPUNIT_TEST(testGateStallIsReported);
	CPPUNIT_TEST(testSigtermWhileStuckExitsNamingThePlugin);
	CPPUNIT_TEST(testStallActionAbort);
	CPPUNIT_TEST(testBadStallKeysAreConfigErrors);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_files = std::make_unique<HostFiles>("stall");
		_files->copyPlugins(pluginDir(), {"echo.so"});
		_files->copyPlugins(testPluginDir(), {"faulty.so", "sleepy-gate.so"});
	}

	void tearDown() override
	{
		_files.reset();
	}

	/// One loop; a message makes `faulty` sleep 2.5 s with engine.stall_timeout_ms = 300: within
	/// the timeout and a margin the log names the plugin, its version, the route, the connection
	/// and the loop; /health is 503 stalled, /metrics counts it, a new client gets no answer. When
	/// the plugin returns: one line with the time, the reply, /health 200, the waiting client's 101.
	void testStallIsReportedAndTheLoopRecovers()
	{
		HostProcess host(writeConfig("engine.threads = 1\nengine.stall_timeout_ms = 300\n"));
		CPPUNIT_ASSERT_EQUAL(200, httpGet(host.adminPort, "/health").status);
		WsClient client(host.port, "/faulty");
		const auto sent = Clock::now();
		client.sendText("stall 2500");
		host.waitFor("stall: plugin 'faulty' 1.2.3 on route /faulty (event loop 0, connection ");
		const long long noticed = msSince(sent);
		CPPUNIT_ASSERT_MESSAGE(std::to_string(noticed) + " ms", noticed >= 300 && noticed < 1500);
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(), host.runner.output().find(" from 127.0.0.1:") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(),
			host.runner.output().find("(engine.stall_timeout_ms = 300); /health answers 503 stalled") != std::string::npos);
		const HttpAnswer health = httpGet(host.adminPort, "/health");
		CPPUNIT_ASSERT_EQUAL(503, health.status);
		CPPUNIT_ASSERT_MESSAGE(health.body, health.body.find("\"status\":\"stalled\"") != std::string::npos);
		const std::string metrics = httpGet(host.adminPort, "/metrics").body;
		CPPUNIT_ASSERT_EQUAL(std::string("1"), metric(metrics, "parley_stalls_total"));
		CPPUNIT_ASSERT_EQUAL(std::string("1"), metric(metrics, "parley_loops_stalled"));
		// The stuck loop takes no connection: an upgrade gets no answer while it is stuck.
		RawSocket waiting(host.port);
		waiting.setTimeout(400);
		waiting.send(upgradeRequest("/echo"));
		bool answered = true;
		try
		{
			waiting.readHead();
		}
		catch (const std::exception&)
		{
			answered = false;
		}
		CPPUNIT_ASSERT_MESSAGE("a connection was served while the only loop is stuck", !answered);
		// The plugin returns: the reply, a line, health and connections back.
		host.waitFor("stall over: plugin 'faulty' on route /faulty returned after about ");
		CPPUNIT_ASSERT_EQUAL(std::string("stall 2500"), client.readFrame().payload);
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(), host.runner.output().find("(event loop 0); the loop serves again") !=
			std::string::npos);
		CPPUNIT_ASSERT(eventually([&] { return httpGet(host.adminPort, "/health").status == 200; }));
		CPPUNIT_ASSERT_EQUAL(std::string("0"), metric(httpGet(host.adminPort, "/metrics").body, "parley_loops_stalled"));
		waiting.setTimeout(5000);
		CPPUNIT_ASSERT(waiting.readHead().find(" 101 ") != std::string::npos);
		WsClient fresh(host.port, "/faulty");
		fresh.sendText("hello");
		CPPUNIT_ASSERT_EQUAL(std::string("hello"), fresh.readFrame().payload);
		host.signal(SIGTERM);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.runner.output(), 0, host.runner.wait());
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.runner.output(), std::size_t(1), countOf(host.runner.output(), "stall: "));
	}

	/// A blocking responder stuck on a worker: named with the worker; /health stays 200 (the
	/// loops serve), parley_workers_stalled says it.
	void testWorkerStallIsReported()
	{
		HostProcess host(writeConfig("engine.stall_timeout_ms = 300\nplugin.faulty.blocking = true\nplugins.workers = 1\n"));
		WsClient client(host.port, "/faulty");
		client.sendText("stall 1500");
		host.waitFor("stall: plugin 'faulty' 1.2.3 on route /faulty (worker 0) has not returned for ");
		CPPUNIT_ASSERT_EQUAL(200, httpGet(host.adminPort, "/health").status);
		const std::string metrics = httpGet(host.adminPort, "/metrics").body;
		CPPUNIT_ASSERT_EQUAL(std::string("1"), metric(metrics, "parley_workers_stalled"));
		CPPUNIT_ASSERT_EQUAL(std::string("0"), metric(metrics, "parley_loops_stalled"));
		host.waitFor("stall over: plugin 'faulty' on route /faulty returned after about ");
		CPPUNIT_ASSERT_EQUAL(std::string("stall 1500"), client.readFrame().payload);
		host.signal(SIGTERM);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.runner.output(), 0, host.runner.wait());
	}

	/// A gate (on a worker) slower than engine.stall_timeout_ms: named with its route and worker;
	/// the handshake completes when it returns.
	void testGateStallIsReported()
	{
		HostProcess host(writeConfig("engine.stall_timeout_ms = 300\nplugins.workers = 1\nroute./gated = echo\n"
									 "route./gated.gates = sleepy-gate\nplugin.sleepy-gate.sleep_ms = 1200\n"));
		RawSocket client(host.port);
		client.setTimeout(5000);
		client.send(upgradeRequest("/gated"));
		host.waitFor("stall: gate 'sleepy-gate' 1.0.0 on route /gated (worker 0) has not returned for ");
		CPPUNIT_ASSERT(client.readHead().find(" 101 ") != std::string::npos);
		host.waitFor("stall over: gate 'sleepy-gate' on route /gated returned after about ");
		host.signal(SIGTERM);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.runner.output(), 0, host.runner.wait());
	}

	/// SIGTERM while the only loop never returns: the host exits with 70 within
	/// engine.drain_timeout_ms and a margin, naming the stuck plugin.
	void testSigtermWhileStuckExitsNamingThePlugin()
	{
		HostProcess host(writeConfig("engine.threads = 1\nengine.stall_timeout_ms = 300\nengine.drain_timeout_ms = 700\n"), 30);
		WsClient client(host.port, "/faulty");
		client.sendText("stall forever");
		host.waitFor("stall: plugin 'faulty'");
		const auto start = Clock::now();
		host.signal(SIGTERM);
		const int code = host.runner.wait();
		const long long took = msSince(start);
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(), !host.runner.killed());
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.runner.output(), 70, code);
		CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took < 700 + 1500);
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(), host.runner.output().find(
			"stopping: plugin 'faulty' 1.2.3 on route /faulty (event loop 0, connection ") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(), host.runner.output().find("exiting without waiting for it (status 70)") !=
			std::string::npos);
	}

	/// engine.stall_action = abort: the line, then the process dies by SIGABRT (no line of the
	/// fatal-signal handler: the watchdog aborts outside plugin code).
	void testStallActionAbort()
	{
		HostProcess host(writeConfig("engine.threads = 1\nengine.stall_timeout_ms = 300\nengine.stall_action = abort\n"), 30);
		WsClient client(host.port, "/faulty");
		client.sendText("stall forever");
		const int code = host.runner.wait();
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(), !host.runner.killed());
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.runner.output(), 256 + SIGABRT, code);
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(), host.runner.output().find(
			"stall: plugin 'faulty' 1.2.3 on route /faulty (event loop 0, connection ") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(), host.runner.output().find("engine.stall_action = abort: aborting") !=
			std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(host.runner.output(), host.runner.output().find("SIGABRT in") == std::string::npos);
	}

	/// A bad engine.stall_timeout_ms or engine.stall_action stops the host with one line, 78.
	void testBadStallKeysAreConfigErrors()
	{
		{
			ProcessRunner run(binDir() + "/parley-host", {"--config=" + writeConfig("engine.stall_action = sometimes\n")}, 30);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output(), 78, run.wait());
			CPPUNIT_ASSERT_MESSAGE(run.output(), run.output().find("engine.stall_action: 'sometimes' is not log or abort") !=
				std::string::npos);
		}
		{
			ProcessRunner run(binDir() + "/parley-host", {"--config=" + writeConfig("engine.stall_timeout_ms = 50\n")}, 30);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output(), 78, run.wait());
			CPPUNIT_ASSERT_MESSAGE(run.output(), run.output().find("engine.stall_timeout_ms: 50 is out of range") !=
				std::string::npos);
		}
	}

private:
	/// A configuration on free ports whose plugin folder holds echo and the test plugins faulty and sleepy-gate.
	std::string writeConfig(const std::string& body)
	{
		return _files->writeConfig("route./echo = echo\nroute./faulty = faulty\n" + body);
	}

	std::unique_ptr<HostFiles> _files;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostStallTest, "host");
