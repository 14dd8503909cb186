//
// HostClusterBusTest.cpp — the cluster bus between real parley-host processes and Debian's
// redis-server (cluster.redis), without a balancer in front: Outbox::send to a connection of
// another host, the cluster-wide connection count (presence), Redis going away and coming back
// (local traffic goes on, /health says degraded, the lost messages are counted, cross-host
// delivery resumes), a host that starts without Redis, and a host with no cluster at all.
// (Many hosts behind HAProxy, with drains: HostClusterTest.)
//
#include "HostFiles.h"
#include "HostProcess.h"
#include "HostTestSupport.h"
#include "RedisServer.h"
#include "support/TestEnv.h"
#include <cppunit/extensions/HelperMacros.h>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

using namespace parley::test;

namespace {

using Clock = std::chrono::steady_clock;

/// One value of /metrics (the first sample whose line starts with `name`), -1 if absent.
double metric(std::uint16_t adminPort, const std::string& name)
{
	const HttpAnswer answer = httpGet(adminPort, "/metrics");
	const std::size_t at = answer.body.find("\n" + name + " ");
	if (at == std::string::npos) return -1;
	return std::stod(answer.body.substr(at + name.size() + 2));
}

/// The next data frame of `client` within `ms`, or false if none came (the client's receive
/// timeout is put back to 15 s).
bool nextWithin(WsClient& client, int ms, Frame& frame)
{
	client.setTimeout(ms);
	bool got = false;
	try
	{
		frame = client.readFrame();
		got = true;
	}
	catch (const std::exception&)
	{
	}
	client.setTimeout(15000);
	return got;
}

std::size_t countOf(const std::string& text, const std::string& part)
{
	std::size_t n = 0;
	for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
	return n;
}

} // namespace

class HostClusterBusTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostClusterBusTest);
	CPPUNIT_TEST(testSendToAConnectionOnAnotherHost);
	CPPUNIT_TEST(testPresenceCountsEveryHost);
	CPPUNIT_TEST(testIsolatedRouteCountsEveryHost);
	CPPUNIT_TEST(testRedisGoesAwayAndComesBack);
	CPPUNIT_TEST(testRedisThatStopsAnswering);
	CPPUNIT_TEST(testHostStartsWithoutRedis);
	CPPUNIT_TEST(testRedisWithAPassword);
	CPPUNIT_TEST(testNoClusterWithoutRedisKey);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_files = std::make_unique<HostFiles>("cluster-bus");
		_files->copyPlugins(testPluginDir(), {"relay.so"});
	}

	void tearDown() override
	{
		for (auto& host : _hosts)
			if (host)
			{
				::kill(host->runner.pid(), SIGTERM);
				host->runner.wait();
			}
		_hosts.clear();
		_files.reset();
	}

	/// A client of host 1 sends to the id of a client of host 2: it arrives there, once, and the
	/// id says which host owns it (its high 16 bits differ from host 1's). A send to an id of
	/// host 2 that is closed arrives nowhere and harms nothing.
	void testSendToAConnectionOnAnotherHost()
	{
		if (!debianToolOrSkip("redis-server", "redis-server")) return;
		RedisServer redis;
		startHosts(redis, 2);
		WsClient a(_hosts[0]->port, "/chat");
		WsClient b(_hosts[1]->port, "/chat");
		WsClient gone(_hosts[1]->port, "/chat");
		const std::uint64_t aId = idOf(a);
		const std::uint64_t bId = idOf(b);
		const std::uint64_t goneId = idOf(gone);
		CPPUNIT_ASSERT((aId >> 48) != (bId >> 48));
		CPPUNIT_ASSERT_EQUAL(bId >> 48, goneId >> 48);
		waitUp();

		for (int i = 0; i < 50; ++i)
		{
			a.sendText("to " + std::to_string(bId) + " private " + std::to_string(i));
			CPPUNIT_ASSERT_EQUAL(std::string("sent"), a.readFrame().payload);
		}
		for (int i = 0; i < 50; ++i) CPPUNIT_ASSERT_EQUAL("private " + std::to_string(i), b.readFrame().payload);
		// And back: host 2 to host 1.
		b.sendText("to " + std::to_string(aId) + " back");
		CPPUNIT_ASSERT_EQUAL(std::string("sent"), b.readFrame().payload);
		CPPUNIT_ASSERT_EQUAL(std::string("back"), a.readFrame().payload);

		gone.send(closeFrame(1000));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1000), gone.readClose().closeCode());
		a.sendText("to " + std::to_string(goneId) + " nobody");
		CPPUNIT_ASSERT_EQUAL(std::string("sent"), a.readFrame().payload); // handed to Redis
		Frame f;
		CPPUNIT_ASSERT_MESSAGE("b got '" + f.payload + "'", !nextWithin(b, 500, f));
		CPPUNIT_ASSERT(eventually([&] { return metric(_hosts[1]->adminPort, "parley_cluster_received_total") == 51; }));
		CPPUNIT_ASSERT_EQUAL(51.0, metric(_hosts[0]->adminPort, "parley_cluster_published_total"));
		CPPUNIT_ASSERT(metric(_hosts[0]->adminPort, "parley_cluster_publish_commands_total") >= 1);
		// Both hosts still serve: a broadcast reaches both.
		b.sendText("all");
		CPPUNIT_ASSERT_EQUAL(std::string("all"), a.readFrame().payload);
		CPPUNIT_ASSERT_EQUAL(std::string("all"), b.readFrame().payload);
	}

	/// Outbox::connectionCount and /metrics' parley_cluster_connections count the route's
	/// connections on every host within about a second (presence through Redis); a host that
	/// stops leaves the count at once.
	void testPresenceCountsEveryHost()
	{
		if (!debianToolOrSkip("redis-server", "redis-server")) return;
		RedisServer redis;
		startHosts(redis, 3);
		std::vector<std::unique_ptr<WsClient>> clients;
		for (int i = 0; i < 2; ++i) clients.push_back(std::make_unique<WsClient>(_hosts[0]->port, "/chat"));
		for (int i = 0; i < 3; ++i) clients.push_back(std::make_unique<WsClient>(_hosts[1]->port, "/chat"));
		for (int i = 0; i < 4; ++i) clients.push_back(std::make_unique<WsClient>(_hosts[2]->port, "/chat"));
		CPPUNIT_ASSERT_MESSAGE(std::to_string(countAsked(*clients[0])), eventually([&] { return countAsked(*clients[0]) == 9; }));
		for (const auto& host : _hosts)
		{
			CPPUNIT_ASSERT(eventually([&] { return metric(host->adminPort, "parley_cluster_connections{route=\"/chat\"}") == 9; }));
			CPPUNIT_ASSERT_EQUAL(3.0, metric(host->adminPort, "parley_cluster_nodes"));
		}
		// Two of host 2's clients leave.
		for (int i = 3; i < 5; ++i)
		{
			clients[i]->send(closeFrame(1000));
			clients[i]->readClose();
		}
		CPPUNIT_ASSERT(eventually([&] { return countAsked(*clients[8]) == 7; }));
		// Host 3 stops: it takes itself out of the presence hash as it goes.
		clients.resize(5);
		_hosts[2]->signal(SIGTERM);
		CPPUNIT_ASSERT_EQUAL(0, _hosts[2]->runner.wait());
		_hosts[2].reset();
		const auto stopped = Clock::now();
		CPPUNIT_ASSERT(eventually([&] { return countAsked(*clients[0]) == 3; }));
		// Within the next presence round, not after its entry has gone stale (3 s).
		const double left = std::chrono::duration<double>(Clock::now() - stopped).count();
		CPPUNIT_ASSERT_MESSAGE(std::to_string(left) + " s", left < 2.5);
		CPPUNIT_ASSERT(eventually([&] { return metric(_hosts[0]->adminPort, "parley_cluster_nodes") == 2; }));
	}

	/// An isolated route (its plugins in child processes) gets the same count: the host sends it
	/// to the children every second. Host 1 runs /chat isolated, host 2 in the host.
	void testIsolatedRouteCountsEveryHost()
	{
		if (!debianToolOrSkip("redis-server", "redis-server")) return;
		RedisServer redis;
		_hosts.push_back(std::make_unique<HostProcess>(_files->writeConfig("route./chat = relay\nroute./chat.isolate = process\n"
																		   "plugins.isolated_workers = 1\ncluster.redis = " +
			redis.address() + "\ncluster.node = node1\n")));
		startHosts(redis, 1, 2);
		WsClient a(_hosts[0]->port, "/chat");
		WsClient b(_hosts[1]->port, "/chat");
		WsClient b2(_hosts[1]->port, "/chat");
		CPPUNIT_ASSERT_MESSAGE(std::to_string(countAsked(a)), eventually([&] { return countAsked(a) == 3; }));
		CPPUNIT_ASSERT(eventually([&] { return countAsked(b) == 3; }));
		// And its broadcasts still reach both hosts.
		a.sendText("from the child");
		for (WsClient* c : {&a, &b, &b2}) CPPUNIT_ASSERT_EQUAL(std::string("from the child"), c->readFrame().payload);
	}

	/// Redis stops mid-run: each host logs one line, /health says "degraded" (200: it still
	/// serves), local broadcasts go on, the other host gets none of them, and
	/// parley_cluster_unpublished_total counts every one. Redis comes back on the same port:
	/// cross-host delivery resumes within 2 s, one line says so with the count, /health is "ok".
	void testRedisGoesAwayAndComesBack()
	{
		if (!debianToolOrSkip("redis-server", "redis-server")) return;
		RedisServer redis;
		startHosts(redis, 2);
		WsClient a(_hosts[0]->port, "/chat");
		WsClient a2(_hosts[0]->port, "/chat");
		WsClient b(_hosts[1]->port, "/chat");
		waitUp();
		a.sendText("before");
		for (WsClient* c : {&a, &a2, &b}) CPPUNIT_ASSERT_EQUAL(std::string("before"), c->readFrame().payload);

		redis.stop();
		for (const auto& host : _hosts)
		{
			CPPUNIT_ASSERT(eventually([&] {
				const HttpAnswer h = httpGet(host->adminPort, "/health");
				return h.status == 200 && h.body.find("\"status\":\"degraded\"") != std::string::npos &&
					h.body.find("\"cluster\":\"down\"") != std::string::npos;
			}));
		}
		const double unpublishedBefore = metric(_hosts[0]->adminPort, "parley_cluster_unpublished_total");
		const int whileDown = 40;
		for (int i = 0; i < whileDown; ++i)
		{
			a.sendText("down " + std::to_string(i));
			CPPUNIT_ASSERT_EQUAL("down " + std::to_string(i), a.readFrame().payload);
			CPPUNIT_ASSERT_EQUAL("down " + std::to_string(i), a2.readFrame().payload);
		}
		Frame f;
		CPPUNIT_ASSERT_MESSAGE("b got '" + f.payload + "' while Redis was down", !nextWithin(b, 300, f));
		CPPUNIT_ASSERT(eventually([&] {
			return metric(_hosts[0]->adminPort, "parley_cluster_unpublished_total") == unpublishedBefore + whileDown;
		}));
		CPPUNIT_ASSERT_EQUAL(0.0, metric(_hosts[0]->adminPort, "parley_cluster_up"));

		// Back: a sends a numbered message every 20 ms until b receives one.
		redis.start();
		const auto back = Clock::now();
		int sent = 0;
		int firstSeen = -1;
		while (firstSeen < 0 && Clock::now() - back < std::chrono::seconds(10))
		{
			a.sendText("up " + std::to_string(sent));
			CPPUNIT_ASSERT_EQUAL("up " + std::to_string(sent), a.readFrame().payload);
			CPPUNIT_ASSERT_EQUAL("up " + std::to_string(sent), a2.readFrame().payload);
			++sent;
			if (nextWithin(b, 20, f)) firstSeen = std::stoi(f.payload.substr(3));
		}
		const double resumedAfter = std::chrono::duration<double>(Clock::now() - back).count();
		std::cout << " [sent while down " << whileDown << ", unpublished " << whileDown << "; cross-host resumed "
				  << resumedAfter << " s after Redis was back, " << firstSeen << " sent meanwhile lost] " << std::flush;
		CPPUNIT_ASSERT_MESSAGE("cross-host delivery did not resume within 2 s", firstSeen >= 0 && resumedAfter < 2.0);
		// From then on, nothing is lost and the order holds.
		for (int i = 0; i < 100; ++i)
		{
			a.sendText("after " + std::to_string(i));
			a.readFrame();
			a2.readFrame();
		}
		for (int i = firstSeen + 1; i < sent; ++i) CPPUNIT_ASSERT_EQUAL("up " + std::to_string(i), b.readFrame().payload);
		for (int i = 0; i < 100; ++i) CPPUNIT_ASSERT_EQUAL("after " + std::to_string(i), b.readFrame().payload);

		for (const auto& host : _hosts)
		{
			CPPUNIT_ASSERT(eventually([&] { return httpGet(host->adminPort, "/health").body.find("\"status\":\"ok\"") != std::string::npos; }));
			CPPUNIT_ASSERT(metric(host->adminPort, "parley_cluster_reconnects_total") >= 1);
		}
		_hosts[0]->signal(SIGTERM);
		_hosts[0]->runner.wait();
		const std::string log = _hosts[0]->runner.output();
		_hosts[0].reset();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(log, std::size_t(1), countOf(log, "cluster bus: lost Redis at " + redis.address()));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(log, std::size_t(1), countOf(log, "cluster bus: Redis at " + redis.address() + " is back after "));
		CPPUNIT_ASSERT_MESSAGE(log, log.find("messages could not be published meanwhile") != std::string::npos);
	}

	/// A Redis that keeps its port and connections but answers nothing (SIGSTOP): every wait on it
	/// has a deadline, so within a few seconds the hosts say "degraded" and why, local traffic never
	/// waits for it, what could not be published is counted, a reconnect to the silent port does
	/// not count as up, and when it answers again (SIGCONT) cross-host delivery comes back.
	void testRedisThatStopsAnswering()
	{
		if (!debianToolOrSkip("redis-server", "redis-server")) return;
		RedisServer redis;
		startHosts(redis, 2);
		WsClient a(_hosts[0]->port, "/chat");
		WsClient a2(_hosts[0]->port, "/chat");
		WsClient b(_hosts[1]->port, "/chat");
		waitUp();
		const double unpublishedBefore = metric(_hosts[0]->adminPort, "parley_cluster_unpublished_total");
		redis.pause();
		// Local delivery does not wait for Redis, before or after the hosts notice.
		const int during = 30;
		for (int i = 0; i < during; ++i)
		{
			a.sendText("stalled " + std::to_string(i));
			CPPUNIT_ASSERT_EQUAL("stalled " + std::to_string(i), a.readFrame().payload);
			CPPUNIT_ASSERT_EQUAL("stalled " + std::to_string(i), a2.readFrame().payload);
			if (i == 0)
				for (const auto& host : _hosts)
					CPPUNIT_ASSERT(eventually([&] { return httpGet(host->adminPort, "/health").body.find("\"status\":\"degraded\"") != std::string::npos; }));
		}
		Frame f;
		CPPUNIT_ASSERT_MESSAGE("b got '" + f.payload + "' from a silent Redis", !nextWithin(b, 300, f));
		// Reconnects reach the stopped Redis's port (the kernel accepts for it) but never count as up.
		::usleep(2500000);
		CPPUNIT_ASSERT_EQUAL(0.0, metric(_hosts[0]->adminPort, "parley_cluster_up"));
		CPPUNIT_ASSERT(eventually([&] {
			return metric(_hosts[0]->adminPort, "parley_cluster_unpublished_total") == unpublishedBefore + during;
		}));

		redis.resume();
		waitUp();
		int sent = 0;
		bool through = false;
		for (; !through && sent < 500; ++sent)
		{
			a.sendText("again " + std::to_string(sent));
			a.readFrame();
			a2.readFrame();
			through = nextWithin(b, 20, f);
		}
		CPPUNIT_ASSERT_MESSAGE("cross-host delivery did not come back", through);
		const std::string first = f.payload;
		for (const auto& host : _hosts)
		{
			host->signal(SIGTERM);
			CPPUNIT_ASSERT_EQUAL(0, host->runner.wait());
		}
		const std::string log = _hosts[0]->runner.output();
		_hosts.clear();
		std::cout << " [" << during << " sent while Redis was silent, all delivered here and counted unpublished; first across after "
				  << first << "] " << std::flush;
		CPPUNIT_ASSERT_MESSAGE(log, log.find("cluster bus: lost Redis at " + redis.address()) != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(log, log.find("cluster bus: Redis at " + redis.address() + " is back after ") != std::string::npos);
	}

	/// Redis unreachable at start: the host starts anyway, serves its own connections, says
	/// "degraded" and why in one line, and joins the cluster when Redis appears.
	void testHostStartsWithoutRedis()
	{
		if (!debianToolOrSkip("redis-server", "redis-server")) return;
		RedisServer redis;
		redis.stop();
		startHosts(redis, 1);
		WsClient a(_hosts[0]->port, "/chat");
		a.sendText("alone");
		CPPUNIT_ASSERT_EQUAL(std::string("alone"), a.readFrame().payload);
		const HttpAnswer health = httpGet(_hosts[0]->adminPort, "/health");
		CPPUNIT_ASSERT_EQUAL(200, health.status);
		CPPUNIT_ASSERT_MESSAGE(health.body, health.body.find("\"status\":\"degraded\"") != std::string::npos);
		// (That line may come before the start-up line, which the host's constructor read up to.)
		const std::string cannot = "cluster bus: cannot reach Redis at " + redis.address() + " (Connection refused)";
		CPPUNIT_ASSERT(eventually([&] {
			std::string line;
			return _hosts[0]->runner.output().find(cannot) != std::string::npos ||
				(_hosts[0]->runner.readLine(line) && line.find(cannot) != std::string::npos);
		}));
		redis.start();
		_hosts[0]->waitFor("cluster bus: connected to Redis at " + redis.address() + " as node 'node1'");
		CPPUNIT_ASSERT(eventually([&] { return httpGet(_hosts[0]->adminPort, "/health").body.find("\"status\":\"ok\"") != std::string::npos; }));
	}

	/// A Redis with requirepass: the host with cluster.redis_password joins; one with a wrong
	/// password serves alone, degraded, and its line says that AUTH was refused and which key.
	void testRedisWithAPassword()
	{
		if (!debianToolOrSkip("redis-server", "redis-server")) return;
		RedisServer redis("pa55word");
		for (const char* password : {"pa55word", "wrong"})
			_hosts.push_back(std::make_unique<HostProcess>(_files->writeConfig("route./chat = relay\ncluster.redis = " +
				redis.address() + "\ncluster.redis_password = " + password + "\n")));
		CPPUNIT_ASSERT(eventually([&] { return metric(_hosts[0]->adminPort, "parley_cluster_up") == 1; }));
		WsClient a(_hosts[0]->port, "/chat");
		CPPUNIT_ASSERT(eventually([&] { return countAsked(a) == 1; }));
		CPPUNIT_ASSERT_EQUAL(1.0, metric(_hosts[0]->adminPort, "parley_cluster_nodes"));
		const HttpAnswer health = httpGet(_hosts[1]->adminPort, "/health");
		CPPUNIT_ASSERT_MESSAGE(health.body, health.body.find("\"status\":\"degraded\"") != std::string::npos);
		_hosts[1]->signal(SIGTERM);
		_hosts[1]->runner.wait();
		const std::string log = _hosts[1]->runner.output();
		_hosts[1].reset();
		CPPUNIT_ASSERT_MESSAGE(log, log.find("cluster bus: cannot reach Redis at " + redis.address() + " (AUTH refused: ") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(log, log.find("(cluster.redis_password)") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(log, std::size_t(1), countOf(log, "cluster bus: cannot reach Redis"));
	}

	/// Without cluster.redis a host is what it was: no bus, no cluster fields, no Redis.
	void testNoClusterWithoutRedisKey()
	{
		const std::string file = _files->writeConfig("route./chat = relay\n");
		_hosts.push_back(std::make_unique<HostProcess>(file));
		WsClient a(_hosts[0]->port, "/chat");
		WsClient b(_hosts[0]->port, "/chat");
		a.sendText("count");
		CPPUNIT_ASSERT_EQUAL(std::string("2"), a.readFrame().payload);
		const HttpAnswer health = httpGet(_hosts[0]->adminPort, "/health");
		CPPUNIT_ASSERT_MESSAGE(health.body, health.body.find("cluster") == std::string::npos);
		CPPUNIT_ASSERT(httpGet(_hosts[0]->adminPort, "/metrics").body.find("parley_cluster") == std::string::npos);
		// Turning the cluster on needs a restart: a reload says so and changes nothing.
		writeFile(file, HostFiles::commonKeys(_files->plugins()) + "route./chat = relay\ncluster.redis = 127.0.0.1:" +
			std::to_string(closedPort()) + "\n");
		_hosts[0]->signal(SIGHUP);
		_hosts[0]->waitFor("changed keys that need a restart (the running values stay): cluster.*");
		CPPUNIT_ASSERT(httpGet(_hosts[0]->adminPort, "/health").body.find("cluster") == std::string::npos);
		_hosts[0]->signal(SIGTERM);
		_hosts[0]->runner.wait();
		const std::string log = _hosts[0]->runner.output();
		_hosts[0].reset();
		CPPUNIT_ASSERT_MESSAGE(log, log.find("cluster bus") == std::string::npos);
	}

private:
	/// `count` hosts (node<first>, node<first + 1>...) with route /chat = relay, on the cluster of `redis`.
	void startHosts(const RedisServer& redis, int count, int first = 1)
	{
		for (int i = first; i < first + count; ++i)
			_hosts.push_back(std::make_unique<HostProcess>(_files->writeConfig("route./chat = relay\ncluster.redis = " +
				redis.address() + "\ncluster.node = node" + std::to_string(i) + "\n")));
	}

	/// Waits until every host's links to Redis are up (its subscriptions made).
	void waitUp()
	{
		for (const auto& host : _hosts)
			CPPUNIT_ASSERT(eventually([&] { return metric(host->adminPort, "parley_cluster_up") == 1; }));
	}

	static std::uint64_t idOf(WsClient& client)
	{
		client.sendText("id");
		return std::stoull(client.readFrame().payload);
	}

	static std::size_t countAsked(WsClient& client)
	{
		client.sendText("count");
		return std::stoul(client.readFrame().payload);
	}

	std::unique_ptr<HostFiles> _files;
	std::vector<std::unique_ptr<HostProcess>> _hosts;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostClusterBusTest, "host");
