//
// HostPluginTest.cpp — issue 5 through an in-process host with real sockets and real plugin
// libraries: server push (broadcast, ticker), blocking plugins on the worker pool, the bundled
// chain plugins, GET /plugins, and hot drop-in of libraries into a watched temporary folder.
//
#include "HostTestSupport.h"
#include "parley/host/PluginCatalog.h"
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

using namespace parley;
using namespace parley::test;

namespace {

/// A host whose registry loads the build's plugins, the test plugins named in `extra`, and
/// the libraries of `watchDir` (if given), which it also watches.
class PluginHost
{
public:
	PluginHost(const std::function<void(HostConfig&)>& tweak, const std::vector<std::string>& extra = {},
		const std::string& watchDir = std::string())
		: _registry(_log.logger())
	{
		_registry.loadDirectory(pluginDir());
		for (const auto& name : extra) _registry.loadLibrary(testPluginDir() + "/" + name);
		HostConfig config;
		config.port = 0;
		config.adminPort = 0;
		config.engine.threads = 2;
		config.routes["/echo"] = {"echo"};
		config.pluginWatch = !watchDir.empty();
		config.pluginWatchDebounceMs = 100;
		if (!watchDir.empty())
		{
			config.pluginDir = watchDir;
			_registry.loadDirectory(watchDir);
		}
		if (tweak) tweak(config);
		_server = std::make_unique<host::HostServer>(config, _registry, _log.logger());
		_server->start();
	}
	~PluginHost() { _server.reset(); }

	std::uint16_t port() const { return _server->port(); }
	std::uint16_t adminPort() const { return _server->adminPort(); }
	host::HostServer& server() { return *_server; }
	PluginRegistry& registry() { return _registry; }
	bool logged(const std::string& text) const { return _log.contains(text); }
	int logCount(const std::string& text) const { return _log.count(text); }
	std::string log() const { return _log.dump(); }

private:
	LogCapture _log;
	PluginRegistry _registry;
	std::unique_ptr<host::HostServer> _server;
};

/// A fresh empty folder, removed with everything in it at the end.
struct TempDir
{
	TempDir() : path(Poco::TemporaryFile::tempName())
	{
		Poco::File(path).createDirectories();
	}
	~TempDir()
	{
		try
		{
			Poco::File(path).remove(true);
		}
		catch (...)
		{
		}
	}
	std::string file(const std::string& name) const { return path + "/" + name; }
	std::string path;
};

/// Deploys `from` as `dir/name` the safe way: copy to a hidden temporary name, then rename.
void deploy(const std::string& from, const TempDir& dir, const std::string& name)
{
	const std::string temp = dir.file("." + name + ".tmp");
	Poco::File(from).copyTo(temp);
	if (std::rename(temp.c_str(), dir.file(name).c_str()) != 0) throw std::runtime_error("rename failed");
}

std::string roundTrip(WsClient& c, const std::string& text)
{
	c.sendText(text);
	return c.readFrame().payload;
}

} // namespace

class HostPluginTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostPluginTest);
	CPPUNIT_TEST(testBroadcastReachesEveryClient);
	CPPUNIT_TEST(testTickerPushesAtItsPace);
	CPPUNIT_TEST(testBlockingPluginLeavesTheLoopFree);
	CPPUNIT_TEST(testBlockingRepliesInOrderAndBeforeClose);
	CPPUNIT_TEST(testBundledChainPlugins);
	CPPUNIT_TEST(testPluginsJson);
	CPPUNIT_TEST(testHotReplaceUnderLoad);
	CPPUNIT_TEST(testBadFilesRefusedWhileServing);
	CPPUNIT_TEST_SUITE_END();

public:
	void testBroadcastReachesEveryClient()
	{
		PluginHost host([](HostConfig& c) { c.routes["/chat"] = {"broadcast"}; });
		constexpr int Clients = 50, Each = 100;
		std::vector<std::unique_ptr<WsClient>> clients;
		for (int i = 0; i < Clients; ++i) clients.push_back(std::make_unique<WsClient>(host.port(), "/chat"));
		// Every client is open on its loop before anyone speaks (a connection adopted after a
		// broadcast does not get it): one round trip on /echo per loop is not enough, so wait
		// for the host to count them.
		CPPUNIT_ASSERT(eventually([&] { return host.server().connectionCount() == Clients; }));
		::usleep(100000);
		for (int i = 0; i < Clients; ++i)
		{
			std::string batch;
			for (int j = 0; j < Each; ++j) batch += frame(OpText, "c" + std::to_string(i) + "-" + std::to_string(j));
			clients[i]->send(batch);
		}
		for (int i = 0; i < Clients; ++i)
		{
			std::set<std::string> seen;
			std::vector<int> last(Clients, -1);
			for (int k = 0; k < Clients * Each; ++k)
			{
				const Frame f = clients[i]->readFrame();
				CPPUNIT_ASSERT_EQUAL(int(OpText), int(f.opcode));
				seen.insert(f.payload);
				// Messages of one sender arrive in the order it sent them.
				const int from = std::stoi(f.payload.substr(1));
				const int n = std::stoi(f.payload.substr(f.payload.find('-') + 1));
				CPPUNIT_ASSERT(n > last[from]);
				last[from] = n;
			}
			CPPUNIT_ASSERT_EQUAL(std::size_t(Clients * Each), seen.size());
		}
	}

	void testTickerPushesAtItsPace()
	{
		PluginHost host([](HostConfig& c) {
			c.routes["/tick"] = {"ticker"};
			c.pluginSettings["ticker"]["interval_ms"] = "50";
		});
		WsClient a(host.port(), "/tick");
		WsClient b(host.port(), "/tick");
		const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
		// 20 ticks at 50 ms take about one second; both clients get them, each an ISO time.
		const auto start = std::chrono::steady_clock::now();
		for (int i = 0; i < 20; ++i)
		{
			const Frame f = a.readFrame();
			CPPUNIT_ASSERT_MESSAGE(f.payload, std::regex_search(f.payload, iso));
		}
		const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
		// Generous window: not a timing test, just "about that pace" (not a burst, not stalled).
		CPPUNIT_ASSERT_MESSAGE(std::to_string(ms), ms >= 500 && ms < 10000);
		for (int i = 0; i < 5; ++i) CPPUNIT_ASSERT(std::regex_search(b.readFrame().payload, iso));
		// The echo route is unaffected by pushes on another route.
		WsClient e(host.port(), "/echo");
		CPPUNIT_ASSERT_EQUAL(std::string("x"), roundTrip(e, "x"));
	}

	void testBlockingPluginLeavesTheLoopFree()
	{
		PluginHost host(
			[](HostConfig& c) {
				c.engine.threads = 1;
				c.routes["/sleepy"] = {"sleepy"};
				c.pluginSettings["sleepy"]["sleep_ms"] = "300";
			},
			{"sleepy.so"});
		WsClient slow(host.port(), "/sleepy");
		WsClient fast(host.port(), "/echo");
		std::atomic<int> sleepyReplies{0};
		std::string batch;
		for (int i = 0; i < 10; ++i) batch += frame(OpText, "s" + std::to_string(i));
		slow.send(batch);
		std::thread reader([&] {
			for (int i = 0; i < 10; ++i)
			{
				const Frame f = slow.readFrame();
				if (f.payload == "s" + std::to_string(i)) ++sleepyReplies;
			}
		});
		for (int i = 0; i < 200; ++i) CPPUNIT_ASSERT_EQUAL("e" + std::to_string(i), roundTrip(fast, "e" + std::to_string(i)));
		// The one loop answered 200 echoes while the sleepy messages (3 s of work) waited.
		const int early = sleepyReplies.load();
		reader.join();
		CPPUNIT_ASSERT_EQUAL(0, early);
		CPPUNIT_ASSERT_EQUAL(10, sleepyReplies.load());
	}

	void testBlockingRepliesInOrderAndBeforeClose()
	{
		PluginHost host(
			[](HostConfig& c) {
				c.routes["/sleepy"] = {"sleepy"};
				c.pluginSettings["sleepy"]["sleep_ms"] = "5";
				c.pluginWorkers = 3;
			},
			{"sleepy.so"});
		constexpr int Clients = 4, Each = 30;
		std::vector<std::unique_ptr<WsClient>> clients;
		for (int i = 0; i < Clients; ++i) clients.push_back(std::make_unique<WsClient>(host.port(), "/sleepy"));
		for (int i = 0; i < Clients; ++i)
		{
			std::string batch;
			for (int j = 0; j < Each; ++j) batch += frame(OpText, std::to_string(i) + ":" + std::to_string(j));
			batch += closeFrame(1000);   // every message before the close is answered first
			clients[i]->send(batch);
		}
		for (int i = 0; i < Clients; ++i)
		{
			for (int j = 0; j < Each; ++j)
				CPPUNIT_ASSERT_EQUAL(std::to_string(i) + ":" + std::to_string(j), clients[i]->readFrame().payload);
			const Frame close = clients[i]->readFrame();
			CPPUNIT_ASSERT_EQUAL(int(OpClose), int(close.opcode));
			CPPUNIT_ASSERT_EQUAL(std::uint16_t(1000), close.closeCode());
		}
		// A connection that vanishes with jobs pending: their results are dropped safely.
		{
			WsClient gone(host.port(), "/sleepy");
			std::string batch;
			for (int j = 0; j < 20; ++j) batch += frame(OpText, "lost");
			gone.send(batch);
		}
		WsClient after(host.port(), "/sleepy");
		CPPUNIT_ASSERT_EQUAL(std::string("still here"), roundTrip(after, "still here"));
	}

	void testBundledChainPlugins()
	{
		PluginHost host([](HostConfig& c) {
			c.routes["/up"] = {"uppercase", "random-suffix"};
			c.routes["/stamp"] = {"json-stamp"};
			c.routes["/limited"] = {"rate-limit", "echo"};
			c.pluginSettings["rate-limit"]["per_second"] = "5";
		});
		WsClient up(host.port(), "/up");
		const std::string reply = roundTrip(up, "hello parley");
		CPPUNIT_ASSERT_MESSAGE(reply, isRandomSuffixReply(reply, "HELLO PARLEY"));

		WsClient stamp(host.port(), "/stamp");
		const std::string first = roundTrip(stamp, R"({"a":1})");
		CPPUNIT_ASSERT_MESSAGE(first, first.find("\"seq\":1") != std::string::npos && first.find("server_time") != std::string::npos);
		const std::string bad = roundTrip(stamp, "not json");
		CPPUNIT_ASSERT_MESSAGE(bad, bad.find("error") != std::string::npos);
		const std::string third = roundTrip(stamp, R"({"b":[true,null]})");
		CPPUNIT_ASSERT_MESSAGE(third, third.find("\"seq\":3") != std::string::npos);

		WsClient limited(host.port(), "/limited");
		std::string batch;
		for (int i = 0; i < 20; ++i) batch += frame(OpText, "m");
		limited.send(batch);
		int echoes = 0;
		for (;;)
		{
			const Frame f = limited.readFrame();
			if (f.opcode == OpClose)
			{
				CPPUNIT_ASSERT_EQUAL(std::uint16_t(1008), f.closeCode());
				break;
			}
			++echoes;
		}
		CPPUNIT_ASSERT_EQUAL(5, echoes);
	}

	void testPluginsJson()
	{
		PluginHost host([](HostConfig& c) { c.routes["/up"] = {"uppercase", "echo"}; });
		const HttpAnswer a = httpGet(host.adminPort(), "/plugins");
		CPPUNIT_ASSERT_EQUAL(200, a.status);
		CPPUNIT_ASSERT(a.hasHeader("Content-Type: application/json"));
		CPPUNIT_ASSERT_MESSAGE(a.body, a.body.find(R"({"name":"uppercase","kind":"responder","version":)") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(a.body, a.body.find(R"("routes":["/echo","/up"])") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(a.body, a.body.find(R"("key":"interval_ms","default":")") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL(std::string(R"("a\"b\\c\n\u0001")"), host::PluginCatalog::quote("a\"b\\c\n\x01"));
	}

	void testHotReplaceUnderLoad()
	{
		TempDir dir;
		const std::string extra = testPluginDir() + "/extra/";
		deploy(extra + "hot-v1.so", dir, "hot.so");
		PluginHost host([](HostConfig& c) { c.routes["/hot"] = {"hot"}; }, {}, dir.path);
		constexpr int Clients = 4, Each = 250;   // 1,000 messages in flight across the swap
		std::vector<std::unique_ptr<WsClient>> clients;
		for (int i = 0; i < Clients; ++i) clients.push_back(std::make_unique<WsClient>(host.port(), "/hot"));
		std::atomic<int> sent{0};
		const std::uint64_t before = host.registry().generation();
		std::vector<std::vector<std::string>> replies(Clients);
		std::vector<std::thread> threads;
		for (int i = 0; i < Clients; ++i)
		{
			threads.emplace_back([&, i] {
				for (int j = 0; j < Each; j += 10)
				{
					std::string batch;
					for (int k = j; k < j + 10; ++k) batch += frame(OpText, std::to_string(i) + "." + std::to_string(k));
					clients[i]->send(batch);
					sent += 10;
					::usleep(4000);
					// Half-way, hold on until the new version is loaded: the other half goes after it.
					for (int w = 0; j == 120 && w < 10000 && host.registry().generation() == before; ++w) ::usleep(1000);
				}
			});
			threads.emplace_back([&, i] {
				for (int j = 0; j < Each; ++j) replies[i].push_back(clients[i]->readFrame().payload);
			});
		}
		while (sent.load() < 200) ::usleep(1000);
		deploy(extra + "hot-v2.so", dir, "hot.so");
		for (auto& t : threads) t.join();
		int v1 = 0, v2 = 0;
		for (int i = 0; i < Clients; ++i)
		{
			CPPUNIT_ASSERT_EQUAL(std::size_t(Each), replies[i].size());
			bool switched = false;
			for (int j = 0; j < Each; ++j)
			{
				const std::string msg = std::to_string(i) + "." + std::to_string(j);
				const std::string& r = replies[i][j];
				CPPUNIT_ASSERT_MESSAGE(r, r == "v1:" + msg || r == "v2:" + msg);
				if (r[1] == '2') switched = true, ++v2;
				else CPPUNIT_ASSERT_MESSAGE("v1 after v2: " + r, !switched), ++v1;
			}
		}
		CPPUNIT_ASSERT(eventually([&] { return host.logged("plugin hot 1.0.0 replaced by 2.0.0"); }));
		// Every connection moved to v2, so v1 has no instance left and its library goes.
		CPPUNIT_ASSERT_MESSAGE(host.log(), eventually([&] { return host.logged("plugin hot 1.0.0 retired"); }));
		for (auto& c : clients) CPPUNIT_ASSERT_EQUAL(std::string("v2:after"), roundTrip(*c, "after"));
		WsClient fresh(host.port(), "/hot");
		CPPUNIT_ASSERT_EQUAL(std::string("v2:new"), roundTrip(fresh, "new"));
		std::printf(" [v1 %d, v2 %d replies] ", v1, v2);
		CPPUNIT_ASSERT(v1 > 0 && v2 > 0);

		// Remove: open connections keep v2 until they close; new ones are closed with 1001.
		Poco::File(dir.file("hot.so")).remove();
		CPPUNIT_ASSERT(eventually([&] { return host.logged("plugin hot 2.0.0 removed"); }));
		CPPUNIT_ASSERT(eventually([&] { return host.logged("route /hot: "); }));
		CPPUNIT_ASSERT_EQUAL(std::string("v2:kept"), roundTrip(fresh, "kept"));
		WsClient refused(host.port(), "/hot");
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), refused.readClose().closeCode());
		CPPUNIT_ASSERT_EQUAL(0, host.logCount("plugin hot 2.0.0 retired"));
		clients.clear();
		fresh.send(closeFrame(1000));
		fresh.readClose();
		CPPUNIT_ASSERT_MESSAGE(host.log(), eventually([&] { return host.logged("plugin hot 2.0.0 retired"); }));
		CPPUNIT_ASSERT(eventually([&] { return host.registry().loadedLibraries() == host.registry().plugins().size(); }));
	}

	void testBadFilesRefusedWhileServing()
	{
		TempDir dir;
		PluginHost host({}, {}, dir.path);
		WsClient echo(host.port(), "/echo");
		deploy(testPluginDir() + "/not-a-library.so", dir, "text.so");
		deploy(testPluginDir() + "/wrong-api.so", dir, "wrong-api.so");
		deploy(testPluginDir() + "/extra/ctor-throws.so", dir, "ctor-throws.so");
		{
			// Half a library, as a copy that stopped half-way would leave it.
			std::ifstream in(testPluginDir() + "/extra/hot-v1.so", std::ios::binary);
			std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
			std::ofstream out(dir.file("half.so"), std::ios::binary);
			out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
		}
		for (const char* name : {"text.so", "wrong-api.so", "ctor-throws.so", "half.so"})
		{
			CPPUNIT_ASSERT_MESSAGE(std::string(name) + "\n" + host.log(),
				eventually([&] { return host.logged("plugin file " + dir.file(name) + " refused"); }));
			CPPUNIT_ASSERT_EQUAL(std::string(name), roundTrip(echo, name));
		}
		CPPUNIT_ASSERT(!host.registry().has("hot"));
		// The half-written file completes: now it loads.
		deploy(testPluginDir() + "/extra/hot-v1.so", dir, "half.so");
		CPPUNIT_ASSERT(eventually([&] { return host.registry().has("hot"); }));
		CPPUNIT_ASSERT_EQUAL(std::string("ok"), roundTrip(echo, "ok"));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostPluginTest, "host");
