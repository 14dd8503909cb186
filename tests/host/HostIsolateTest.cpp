//
// HostIsolateTest.cpp — issue 10, part 4: isolated routes (route.<path>.isolate = process)
// through the real parley-host binary: verified traffic in order, a plugin that crashes or
// stalls in a child (1011 for what that child had, a new child, the rest never notices),
// pushes and broadcasts from a child, hot drop-in and SIGHUP on an isolated route.
//
#include "HostFiles.h"
#include "HostTestSupport.h"
#include "ProcessRunner.h"
#include <Poco/DirectoryIterator.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

using namespace parley;
using namespace parley::test;

namespace {

/// A running parley-host whose output lines a thread collects.
class LiveHost
{
public:
	explicit LiveHost(const std::string& config) : _process(binDir() + "/parley-host", {"--config=" + config}, 180)
	{
		_reader = std::thread([this] {
			std::string line;
			while (_process.readLine(line))
			{
				std::lock_guard<std::mutex> lock(_mutex);
				_lines.push_back(line);
			}
		});
		const std::string marker = "listening on ws://127.0.0.1:";
		const std::string adminMarker = "operator endpoints on http://127.0.0.1:";
		CPPUNIT_ASSERT_MESSAGE(dump(), waitFor(marker));
		std::lock_guard<std::mutex> lock(_mutex);
		for (const auto& l : _lines)
		{
			const auto at = l.find(marker);
			if (at != std::string::npos) _port = static_cast<std::uint16_t>(std::stoi(l.substr(at + marker.size())));
			const auto adminAt = l.find(adminMarker);
			if (adminAt != std::string::npos)
				_adminPort = static_cast<std::uint16_t>(std::stoi(l.substr(adminAt + adminMarker.size())));
		}
	}
	~LiveHost() { stop(); }
	int stop()
	{
		if (_reader.joinable())
		{
			_process.requestTermination();
			_reader.join();
			_code = _process.wait();
		}
		return _code;
	}
	std::uint16_t port() const { return _port; }
	std::uint16_t adminPort() const { return _adminPort; }
	void hangUp() { ::kill(_process.pid(), SIGHUP); }
	void terminate() { ::kill(_process.pid(), SIGTERM); }
	int pid() const { return _process.pid(); }
	int count(const std::string& text) const
	{
		std::lock_guard<std::mutex> lock(_mutex);
		int n = 0;
		for (const auto& l : _lines) n += l.find(text) != std::string::npos;
		return n;
	}
	bool waitFor(const std::string& text, int n = 1) const
	{
		return eventually([&] { return count(text) >= n; });
	}
	std::string dump(const std::string& filter = std::string()) const
	{
		std::lock_guard<std::mutex> lock(_mutex);
		std::string all;
		for (const auto& l : _lines)
			if (filter.empty() || l.find(filter) != std::string::npos) all += l + "\n";
		return all;
	}
	/// A series of /metrics (-1 if absent).
	long long metric(const std::string& series) const
	{
		const std::string body = httpGet(_adminPort, "/metrics").body;
		const std::size_t at = ("\n" + body).find("\n" + series + " ");
		if (at == std::string::npos) return -1;
		return std::stoll(body.substr(at + series.size() + 1));
	}

private:
	ProcessRunner _process;
	mutable std::mutex _mutex;
	std::vector<std::string> _lines;
	std::thread _reader;
	std::uint16_t _port = 0;
	std::uint16_t _adminPort = 0;
	int _code = -1;
};

std::string roundTrip(WsClient& c, const std::string& text)
{
	c.sendText(text);
	return c.readFrame().payload;
}

/// Sends `total` messages over `connections` new connections on `path` (batches of 100 in
/// flight) and checks every reply in order: "echo" or "random-suffix". Returns the number verified.
int verifiedTraffic(std::uint16_t port, const std::string& path, const std::string& expect, int total, int connections)
{
	int verified = 0;
	std::vector<std::unique_ptr<WsClient>> clients;
	for (int i = 0; i < connections; ++i)
	{
		clients.push_back(std::make_unique<WsClient>(port, path));
		clients.back()->setTimeout(10000);
	}
	const int each = total / connections;
	for (int i = 0; i < connections; ++i)
	{
		WsClient& c = *clients[static_cast<std::size_t>(i)];
		for (int j = 0; j < each; j += 100)
		{
			std::string batch;
			const int n = std::min(100, each - j);
			for (int k = 0; k < n; ++k) batch += frame(OpText, "c" + std::to_string(i) + ":" + std::to_string(j + k));
			c.send(batch);
			for (int k = 0; k < n; ++k)
			{
				const Frame f = c.readFrame();
				const std::string sent = "c" + std::to_string(i) + ":" + std::to_string(j + k);
				if (f.opcode != OpText) return verified;
				if (expect == "echo" ? f.payload == sent : isRandomSuffixReply(f.payload, sent)) ++verified;
			}
		}
	}
	return verified;
}

std::string config(const Folder& plugins, const std::string& extra)
{
	return "server.port = 0\nadmin.port = 0\nplugins.dir = " + plugins.path +
		"\nplugins.watch_debounce_ms = 100\nengine.threads = 2\nplugins.isolated_workers = 2\n" + extra;
}

/// The pids of the processes whose parent is `parent`.
std::vector<int> childrenOf(int parent)
{
	std::vector<int> out;
	for (Poco::DirectoryIterator it(std::string("/proc")), end; it != end; ++it)
	{
		const std::string name = it.name();
		if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
		std::ifstream stat("/proc/" + name + "/stat");
		std::string line;
		std::getline(stat, line);
		const std::size_t close = line.rfind(')');
		if (close == std::string::npos) continue;
		std::istringstream rest(line.substr(close + 2));
		std::string state;
		int ppid = 0;
		rest >> state >> ppid;
		if (ppid == parent) out.push_back(std::stoi(name));
	}
	return out;
}

/// True if the process is gone (or a zombie nobody reaped yet).
bool gone(int pid)
{
	std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
	std::string line;
	if (!std::getline(stat, line)) return true;
	const std::size_t close = line.rfind(')');
	return close != std::string::npos && line.compare(close + 2, 1, "Z") == 0;
}

/// A plugin folder with the bundled plugins and the isolate-* test plugins.
void fill(const Folder& plugins)
{
	for (const char* name : {"echo.so", "random-suffix.so", "uppercase.so", "ticker.so", "broadcast.so"})
		deploy(pluginDir() + "/" + name, plugins, name);
	for (const char* name : {"isolate-crash.so", "isolate-stall.so"}) deploy(testPluginDir() + "/" + name, plugins, name);
}

} // namespace

class HostIsolateTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostIsolateTest);
	CPPUNIT_TEST(testIsolatedTrafficInOrder);
	CPPUNIT_TEST(testCrashAnswers1011AndRespawns);
	CPPUNIT_TEST(testStallAnswers1011AndRespawns);
	CPPUNIT_TEST(testPushAndBroadcastFromChild);
	CPPUNIT_TEST(testHotDropInAndSighup);
	CPPUNIT_TEST(testBlockingResponderAndConnectionInfo);
	CPPUNIT_TEST(testInProcessHost);
	CPPUNIT_TEST(testDrainRepliesFirst);
	CPPUNIT_TEST(testChildrenDieWithHost);
	CPPUNIT_TEST(testBadIsolateValue);
	CPPUNIT_TEST_SUITE_END();

public:
	void testIsolatedTrafficInOrder()
	{
		Folder plugins, conf;
		fill(plugins);
		writeFile(conf.file("h.properties"), config(plugins,
			"route./echo = echo\nroute./echo.isolate = process\nroute./ws = random-suffix\nroute./ws.isolate = process\n"));
		LiveHost host(conf.file("h.properties"));
		CPPUNIT_ASSERT_EQUAL(10000, verifiedTraffic(host.port(), "/echo", "echo", 10000, 4));
		CPPUNIT_ASSERT_EQUAL(10000, verifiedTraffic(host.port(), "/ws", "random-suffix", 10000, 4));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.dump(), 2LL, host.metric("parley_isolated_children"));
		CPPUNIT_ASSERT_EQUAL(20000LL, host.metric("parley_isolated_messages_total"));
		CPPUNIT_ASSERT_EQUAL(0LL, host.metric("parley_isolated_respawns_total"));
		CPPUNIT_ASSERT_EQUAL(0, host.stop());
	}

	void testCrashAnswers1011AndRespawns()
	{
		Folder plugins, conf;
		fill(plugins);
		// /mix: "stall" sleeps 700 ms, "crash" kills the child, "pid" names it, the rest is echoed.
		writeFile(conf.file("h.properties"), config(plugins,
			"route./mix = isolate-stall, isolate-crash\nroute./mix.isolate = process\nplugin.isolate-stall.sleep_ms = 700\n"
			"route./echo = echo\nroute./iecho = echo\nroute./iecho.isolate = process\n"));
		LiveHost host(conf.file("h.properties"));
		// Four connections on /mix served by one child.
		std::map<std::string, std::vector<std::unique_ptr<WsClient>>> byChild;
		std::string pid;
		for (int i = 0; i < 20 && pid.empty(); ++i)
		{
			auto c = std::make_unique<WsClient>(host.port(), "/mix");
			c->setTimeout(10000);
			const std::string answer = roundTrip(*c, "pid");
			CPPUNIT_ASSERT_EQUAL(std::string("pid "), answer.substr(0, 4));
			auto& group = byChild[answer.substr(4)];
			group.push_back(std::move(c));
			if (group.size() == 4) pid = answer.substr(4);
		}
		CPPUNIT_ASSERT(!pid.empty());
		auto& group = byChild[pid];
		WsClient& staller = *group[0];
		WsClient& crasher = *group[1];
		WsClient& waiting = *group[2];
		WsClient& idle = *group[3];
		WsClient other(host.port(), "/echo");
		WsClient otherIsolated(host.port(), "/iecho");
		CPPUNIT_ASSERT_EQUAL(std::string("before"), roundTrip(other, "before"));
		CPPUNIT_ASSERT_EQUAL(std::string("before"), roundTrip(otherIsolated, "before"));

		// The child sleeps on "stall"; "crash" and "hello" wait behind it, then "crash" kills it
		// with "hello" still in flight.
		staller.sendText("stall");
		::usleep(100000);
		crasher.sendText("crash");
		::usleep(50000);
		waiting.sendText("hello");
		CPPUNIT_ASSERT_EQUAL(std::string("stall"), staller.readFrame().payload);
		const Frame crashed = crasher.readClose();
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1011), crashed.closeCode());
		const Frame lost = waiting.readClose();
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1011), lost.closeCode());
		CPPUNIT_ASSERT_MESSAGE(host.dump(), host.waitFor("isolated child " + pid + " (route /mix (isolate-stall, isolate-crash)) "
			"killed by signal 11 (SIGSEGV); 2 messages in flight answered with 1011"));
		// The child's own fatal-signal handler named the plugin before it died (one line).
		CPPUNIT_ASSERT_MESSAGE(host.dump(), host.waitFor("parley-host: SIGSEGV in plugin 'isolate-crash' 1.0.0 (file "));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.dump(), 1, host.count("SIGSEGV in plugin 'isolate-crash' 1.0.0"));
		CPPUNIT_ASSERT_MESSAGE(host.dump(), host.count("isolate-crash.so) on route /mix, isolated child; this isolated child dies") == 1);
		CPPUNIT_ASSERT(eventually([&] { return host.metric("parley_isolated_respawns_total") == 1; }));
		CPPUNIT_ASSERT(eventually([&] { return host.metric("parley_isolated_children") == 2; }));

		// The idle connection of that child goes on in the new one; the others never noticed.
		const std::string again = roundTrip(idle, "pid");
		CPPUNIT_ASSERT_EQUAL(std::string("pid "), again.substr(0, 4));
		CPPUNIT_ASSERT(again.substr(4) != pid);
		CPPUNIT_ASSERT_EQUAL(std::string("after"), roundTrip(idle, "after"));
		CPPUNIT_ASSERT_EQUAL(std::string("after"), roundTrip(other, "after"));
		CPPUNIT_ASSERT_EQUAL(std::string("after"), roundTrip(otherIsolated, "after"));
		CPPUNIT_ASSERT_EQUAL(std::string("also"), roundTrip(staller, "also"));
		CPPUNIT_ASSERT_EQUAL(10000, verifiedTraffic(host.port(), "/mix", "echo", 10000, 4));
		CPPUNIT_ASSERT_EQUAL(10000, verifiedTraffic(host.port(), "/echo", "echo", 10000, 4));
		CPPUNIT_ASSERT_EQUAL(std::string("end"), roundTrip(other, "end"));
		CPPUNIT_ASSERT_EQUAL(1LL, host.metric("parley_isolated_respawns_total"));

		// The same child crashing again within 10 s of its start waits twice as long.
		const std::string newPid = roundTrip(idle, "pid").substr(4);
		idle.sendText("crash");
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1011), idle.readClose().closeCode());
		CPPUNIT_ASSERT_MESSAGE(host.dump(), host.waitFor("isolated child " + newPid + " (route /mix (isolate-stall, isolate-crash)) "
			"killed by signal 11 (SIGSEGV); 1 messages in flight answered with 1011; starting a new child in 200 ms"));
		CPPUNIT_ASSERT(eventually([&] { return host.metric("parley_isolated_respawns_total") == 2; }));
		CPPUNIT_ASSERT_EQUAL(std::string("end"), roundTrip(other, "end"));
		CPPUNIT_ASSERT_EQUAL(0, host.stop());
	}

	void testStallAnswers1011AndRespawns()
	{
		Folder plugins, conf;
		fill(plugins);
		writeFile(conf.file("h.properties"), config(plugins,
			"route./stall = isolate-stall\nroute./stall.isolate = process\nengine.stall_timeout_ms = 500\nroute./echo = echo\n"));
		LiveHost host(conf.file("h.properties"));
		WsClient other(host.port(), "/echo");
		WsClient s(host.port(), "/stall");
		s.setTimeout(10000);
		CPPUNIT_ASSERT_EQUAL(std::string("fine"), roundTrip(s, "fine"));
		const auto started = std::chrono::steady_clock::now();
		s.sendText("stall");
		const Frame closed = s.readClose();
		const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1011), closed.closeCode());
		CPPUNIT_ASSERT_MESSAGE(std::to_string(ms), ms >= 450 && ms < 3000);
		CPPUNIT_ASSERT_MESSAGE(host.dump(), host.waitFor("(route /stall (isolate-stall)) stalled: a message of route /stall "
			"(isolate-stall) got no answer within 500 ms (engine.stall_timeout_ms); killed it; 1 messages in flight answered with 1011"));
		CPPUNIT_ASSERT(eventually([&] { return host.metric("parley_isolated_respawns_total") == 1; }));
		CPPUNIT_ASSERT(eventually([&] { return host.metric("parley_isolated_children") == 2; }));
		WsClient next(host.port(), "/stall");
		CPPUNIT_ASSERT_EQUAL(std::string("fine"), roundTrip(next, "fine"));
		CPPUNIT_ASSERT_EQUAL(std::string("unaffected"), roundTrip(other, "unaffected"));
		CPPUNIT_ASSERT_EQUAL(0, host.stop());
	}

	void testPushAndBroadcastFromChild()
	{
		Folder plugins, conf;
		fill(plugins);
		writeFile(conf.file("h.properties"), config(plugins,
			"route./time = ticker\nroute./time.isolate = process\nplugin.ticker.interval_ms = 50\n"
			"route./chat = broadcast\nroute./chat.isolate = process\n"));
		LiveHost host(conf.file("h.properties"));
		WsClient t(host.port(), "/time");
		t.setTimeout(5000);
		for (int i = 0; i < 3; ++i)
		{
			const Frame tick = t.readFrame();
			CPPUNIT_ASSERT_EQUAL(std::uint8_t(OpText), tick.opcode);
			CPPUNIT_ASSERT_MESSAGE(tick.payload, tick.payload.size() >= 20 && tick.payload[4] == '-' && tick.payload.back() == 'Z');
		}
		std::vector<std::unique_ptr<WsClient>> room;
		for (int i = 0; i < 4; ++i)
		{
			room.push_back(std::make_unique<WsClient>(host.port(), "/chat"));
			room.back()->setTimeout(5000);
		}
		::usleep(200000);   // every child has heard of every member
		room[0]->sendText("hello room");
		for (auto& member : room) CPPUNIT_ASSERT_EQUAL(std::string("hello room"), member->readFrame().payload);
		CPPUNIT_ASSERT_EQUAL(0, host.stop());
	}

	void testHotDropInAndSighup()
	{
		Folder plugins, conf;
		fill(plugins);
		deploy(testPluginDir() + "/extra/hot-v1.so", plugins, "hot.so");
		const std::string file = conf.file("h.properties");
		writeFile(file, config(plugins, "route./hot = hot\nroute./hot.isolate = process\nroute./x = echo\nroute./x.isolate = process\n"));
		LiveHost host(file);
		WsClient hot(host.port(), "/hot");
		WsClient x(host.port(), "/x");
		hot.setTimeout(5000);
		CPPUNIT_ASSERT_EQUAL(std::string("v1:a"), roundTrip(hot, "a"));
		CPPUNIT_ASSERT_EQUAL(std::string("abc"), roundTrip(x, "abc"));
		const long long before = host.metric("parley_isolated_messages_total");

		deploy(testPluginDir() + "/extra/hot-v2.so", plugins, "hot.so");
		CPPUNIT_ASSERT_MESSAGE(host.dump(), host.waitFor("plugin hot 1.0.0 replaced by 2.0.0"));
		CPPUNIT_ASSERT(eventually([&] { return roundTrip(hot, "a") == "v2:a"; }));   // the same connection
		CPPUNIT_ASSERT(host.metric("parley_isolated_messages_total") > before);

		// SIGHUP: /x's chain changes (still isolated), then only its isolate option: back into the host.
		writeFile(file, config(plugins, "route./hot = hot\nroute./hot.isolate = process\nroute./x = uppercase\nroute./x.isolate = process\n"));
		host.hangUp();
		CPPUNIT_ASSERT(host.waitFor("configuration reloaded"));
		CPPUNIT_ASSERT(eventually([&] { return roundTrip(x, "abc") == "ABC"; }));
		writeFile(file, config(plugins, "route./hot = hot\nroute./hot.isolate = process\nroute./x = uppercase\nroute./x.isolate = no\n"));
		host.hangUp();
		CPPUNIT_ASSERT(host.waitFor("configuration reloaded", 2));
		CPPUNIT_ASSERT_EQUAL(std::string("ABC"), roundTrip(x, "abc"));
		const long long counted = host.metric("parley_isolated_messages_total");
		CPPUNIT_ASSERT_EQUAL(std::string("ABC"), roundTrip(x, "abc"));
		CPPUNIT_ASSERT_EQUAL(counted, host.metric("parley_isolated_messages_total"));   // in the host now
		CPPUNIT_ASSERT_EQUAL(std::string("v2:b"), roundTrip(hot, "b"));
		CPPUNIT_ASSERT_EQUAL(0, host.stop());
	}

	void testBlockingResponderAndConnectionInfo()
	{
		Folder plugins, conf;
		fill(plugins);
		deploy(testPluginDir() + "/sleepy.so", plugins, "sleepy.so");
		deploy(pluginDir() + "/whoami.so", plugins, "whoami.so");
		deploy(testPluginDir() + "/header-gate.so", plugins, "header-gate.so");
		writeFile(conf.file("h.properties"), config(plugins,
			"route./slow = sleepy\nroute./slow.isolate = process\nplugin.sleepy.sleep_ms = 1\n"
			"route./who = whoami\nroute./who.isolate = process\nroute./who.subprotocols = chat.v1\nroute./who.gates = header-gate\n"
			"route./who-here = whoami\nroute./who-here.subprotocols = chat.v1\nroute./who-here.gates = header-gate\n"));
		LiveHost host(conf.file("h.properties"));
		WsClient slow(host.port(), "/slow");
		std::string batch;
		for (int i = 0; i < 200; ++i) batch += frame(OpText, "m" + std::to_string(i));
		slow.send(batch);
		for (int i = 0; i < 200; ++i) CPPUNIT_ASSERT_EQUAL("m" + std::to_string(i), slow.readFrame().payload);
		// whoami in a child sees what it sees in the host (but the connection id and port).
		auto whoami = [&](const std::string& path) {
			RawSocket s(host.port());
			s.send("GET " + path + "?a=b HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
				"Sec-WebSocket-Key: " + std::string(testKey()) + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat.v1\r\n"
				"X-Token: secret\r\nX-User: alice\r\n\r\n");
			const std::string head = s.readHead();
			CPPUNIT_ASSERT_MESSAGE(head, head.compare(0, 12, "HTTP/1.1 101") == 0);
			s.send(frame(OpText, "who"));
			std::string answer = s.readFrame().payload;
			for (const char* key : {"\"id\":", "\"remote_port\":"})
			{
				const std::size_t at = answer.find(key);
				if (at == std::string::npos) continue;
				const std::size_t end = answer.find_first_of(",}", at);
				answer.erase(at, end - at);
			}
			const std::size_t p = answer.find(path);
			if (p != std::string::npos) answer.erase(p, path.size());
			return answer;
		};
		const std::string isolated = whoami("/who");
		for (const char* part : {"chat.v1", "a=b", "alice", "header-gate", "127.0.0.1"})
			CPPUNIT_ASSERT_MESSAGE(isolated, isolated.find(part) != std::string::npos);
		CPPUNIT_ASSERT_EQUAL(whoami("/who-here"), isolated);
		CPPUNIT_ASSERT_EQUAL(0, host.stop());
	}

	void testInProcessHost()
	{
		// A HostServer inside parley-tests: its children are parley-tests --isolated-child.
		TestHost host([](HostConfig& c) {
			c.routes["/iso"] = {"random-suffix"};
			c.routeOptions["/iso"].isolate = true;
			c.isolatedWorkers = 1;
		});
		CPPUNIT_ASSERT_EQUAL(2000, verifiedTraffic(host.port(), "/iso", "random-suffix", 2000, 2));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2000), host.server().metrics().isolatedMessages);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), host.server().metrics().isolatedChildren);
	}

	void testDrainRepliesFirst()
	{
		Folder plugins, conf;
		fill(plugins);
		writeFile(conf.file("h.properties"), config(plugins,
			"route./slow = isolate-stall\nroute./slow.isolate = process\nplugin.isolate-stall.sleep_ms = 600\n"));
		LiveHost host(conf.file("h.properties"));
		WsClient c(host.port(), "/slow");
		c.setTimeout(10000);
		c.sendText("stall");
		c.sendText("next");
		::usleep(150000);
		host.terminate();   // graceful stop while both messages are in the child
		CPPUNIT_ASSERT_EQUAL(std::string("stall"), c.readFrame().payload);
		CPPUNIT_ASSERT_EQUAL(std::string("next"), c.readFrame().payload);
		const Frame closed = c.readFrame();
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(OpClose), closed.opcode);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), closed.closeCode());
		c.send(closeFrame(1001));
		CPPUNIT_ASSERT_MESSAGE(host.dump(), host.waitFor("drained 1 connections"));
		CPPUNIT_ASSERT_EQUAL(0, host.stop());
	}

	void testChildrenDieWithHost()
	{
		Folder plugins, conf;
		fill(plugins);
		writeFile(conf.file("h.properties"), config(plugins, "route./x = isolate-stall\nroute./x.isolate = process\n"));
		LiveHost host(conf.file("h.properties"));
		std::vector<int> children;
		CPPUNIT_ASSERT(eventually([&] { return (children = childrenOf(host.pid())).size() == 2; }));
		WsClient busy(host.port(), "/x");
		busy.sendText("stall");   // one child sleeps a minute in the plugin: only the signal ends it
		::usleep(200000);
		::kill(host.pid(), SIGKILL);   // no stop(): PR_SET_PDEATHSIG must take them
		for (int child : children) CPPUNIT_ASSERT_MESSAGE(std::to_string(child), eventually([&] { return gone(child); }));
	}

	void testBadIsolateValue()
	{
		Folder conf;
		writeFile(conf.file("h.properties"), "plugins.dir = " + pluginDir() + "\nroute./x = echo\nroute./x.isolate = thread\n");
		ProcessRunner run(binDir() + "/parley-host", {"--config=" + conf.file("h.properties"), "--check-config"}, 30);
		CPPUNIT_ASSERT_EQUAL(78, run.wait());
		CPPUNIT_ASSERT_MESSAGE(run.output(), run.output().find("route./x.isolate: 'thread' is not process or no") != std::string::npos);
		writeFile(conf.file("h.properties"), "plugins.dir = " + pluginDir() + "\nroute./x = echo\nplugins.isolated_workers = 0\n");
		ProcessRunner zero(binDir() + "/parley-host", {"--config=" + conf.file("h.properties"), "--check-config"}, 30);
		CPPUNIT_ASSERT_EQUAL(78, zero.wait());
		CPPUNIT_ASSERT_MESSAGE(zero.output(), zero.output().find("plugins.isolated_workers") != std::string::npos);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostIsolateTest, "host");
