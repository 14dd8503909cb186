//
// HostPluginBinaryTest.cpp — issue 5 through the real parley-host binary: --list-plugins,
// SIGHUP with good and broken configurations, a live replace under load (its log is printed),
// and an out-of-tree plugin built from the installed SDK and dropped into a running host.
//
#include "HostFiles.h"
#include "HostTestSupport.h"
#include "ProcessRunner.h"
#include <Poco/File.h>
#include <algorithm>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

using namespace parley;
using namespace parley::test;

namespace {

std::string binary() { return binDir() + "/parley-host"; }

/// A running parley-host whose output lines are collected by a thread.
class LiveHost
{
public:
	LiveHost(const std::string& config) : _process(binary(), {"--config=" + config}, 120)
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
	~LiveHost()
	{
		stop();
	}
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
	int count(const std::string& text) const
	{
		std::lock_guard<std::mutex> lock(_mutex);
		int n = 0;
		for (const auto& l : _lines) n += l.find(text) != std::string::npos;
		return n;
	}
	/// Waits until `n` lines contain `text`.
	bool waitFor(const std::string& text, int n = 1) const
	{
		return eventually([&] { return count(text) >= n; });
	}
	std::string dump(const std::string& filter = std::string()) const
	{
		std::lock_guard<std::mutex> lock(_mutex);
		std::string all;
		for (const auto& l : _lines)
		{
			if (filter.empty() || l.find(filter) != std::string::npos) all += l + "\n";
		}
		return all;
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

std::string baseConfig(const Folder& plugins, const std::string& extra)
{
	return "server.port = 0\nadmin.port = 0\nplugins.dir = " + plugins.path + "\nplugins.watch_debounce_ms = 100\nengine.threads = 2\n" + extra;
}

} // namespace

class HostPluginBinaryTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostPluginBinaryTest);
	CPPUNIT_TEST(testListPlugins);
	CPPUNIT_TEST(testSighupAndLiveReplace);
	CPPUNIT_TEST(testSdkPluginDroppedIn);
	CPPUNIT_TEST_SUITE_END();

public:
	void testListPlugins()
	{
		Folder conf;
		writeFile(conf.file("host.properties"), "plugins.dir = " + pluginDir() + "\nroute./ws = echo\n");
		ProcessRunner run(binary(), {"--list-plugins", "--config=" + conf.file("host.properties")}, 30);
		const int code = run.wait();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output(), 0, code);
		for (const char* part : {"uppercase 1.", "plugin.rate-limit.per_second = 100", "plugin.ticker.interval_ms = ",
				 "json-stamp", "broadcast", "random-suffix", "(no settings)"})
			CPPUNIT_ASSERT_MESSAGE(std::string(part) + "\n" + run.output(), run.output().find(part) != std::string::npos);
	}

	void testSighupAndLiveReplace()
	{
		Folder plugins, conf;
		for (const char* name : {"echo.so", "uppercase.so", "rate-limit.so"}) deploy(pluginDir() + "/" + name, plugins, name);
		deploy(testPluginDir() + "/extra/hot-v1.so", plugins, "hot.so");
		const std::string file = conf.file("host.properties");
		writeFile(file, baseConfig(plugins, "route./x = echo\nroute./hot = hot\n"));
		LiveHost host(file);
		WsClient x(host.port(), "/x");
		CPPUNIT_ASSERT_EQUAL(std::string("abc"), roundTrip(x, "abc"));

		// Good: /x becomes uppercase, /y appears; the open connection moves to the new chain.
		writeFile(file, baseConfig(plugins, "route./x = uppercase\nroute./y = rate-limit, echo\nroute./hot = hot\n"
			"plugin.rate-limit.per_second = 50\n"));
		host.hangUp();
		CPPUNIT_ASSERT_MESSAGE(host.dump(), host.waitFor("configuration reloaded"));
		CPPUNIT_ASSERT_EQUAL(std::string("ABC"), roundTrip(x, "abc"));
		WsClient y(host.port(), "/y");
		CPPUNIT_ASSERT_EQUAL(std::string("why"), roundTrip(y, "why"));

		// Broken: a parse error, an unknown plugin, a setting the plugin refuses: each refused.
		const char* broken[] = {"route./x = uppercase\nroute./hot = hot\nengine.threads = many\n",
			"route./x = echo\nroute./hot = hot\nroute./z = no-such-plugin\n",
			"route./x = echo\nroute./y = rate-limit\nroute./hot = hot\nplugin.rate-limit.per_second = abc\n"};
		int refused = 0;
		for (const char* text : broken)
		{
			writeFile(file, "server.port = 0\nadmin.port = 0\nplugins.dir = " + plugins.path + "\nplugins.watch_debounce_ms = 100\n" + text);
			host.hangUp();
			CPPUNIT_ASSERT_MESSAGE(host.dump(), host.waitFor("configuration reload refused", ++refused));
			CPPUNIT_ASSERT_EQUAL(std::string("ABC"), roundTrip(x, "abc"));
		}
		CPPUNIT_ASSERT_EQUAL(1, host.count("configuration reloaded"));
		CPPUNIT_ASSERT(host.count("per_second") >= 1 && host.count("no-such-plugin") >= 1 && host.count("engine.threads") >= 1);

		// A restart-only change is named once, the routes still apply.
		writeFile(file, baseConfig(plugins, "route./x = echo\nroute./hot = hot\nengine.threads = 3\n"));
		host.hangUp();
		CPPUNIT_ASSERT(host.waitFor("configuration reloaded", 2));
		CPPUNIT_ASSERT_EQUAL(1, host.count("need a restart"));
		CPPUNIT_ASSERT_EQUAL(1, host.count("need a restart (the running values stay): engine.threads"));
		CPPUNIT_ASSERT_EQUAL(std::string("abc"), roundTrip(x, "abc"));

		// Live replace under load: 3 connections send 600 messages; v2 lands half-way.
		constexpr int Clients = 3, Each = 200;
		std::vector<std::unique_ptr<WsClient>> clients;
		for (int i = 0; i < Clients; ++i) clients.push_back(std::make_unique<WsClient>(host.port(), "/hot"));
		std::vector<int> answered(Clients, 0), v2(Clients, 0);
		std::vector<std::thread> threads;
		std::atomic<int> sent{0};
		for (int i = 0; i < Clients; ++i)
		{
			threads.emplace_back([&, i] {
				for (int j = 0; j < Each; j += 5)
				{
					std::string batch;
					for (int k = j; k < j + 5; ++k) batch += frame(OpText, "m" + std::to_string(k));
					clients[i]->send(batch);
					sent += 5;
					::usleep(j == Each / 2 ? 400000 : 3000);   // a pause across the swap
				}
			});
			threads.emplace_back([&, i] {
				for (int j = 0; j < Each; ++j)
				{
					const std::string r = clients[i]->readFrame().payload;
					if (r == "v1:m" + std::to_string(j) || r == "v2:m" + std::to_string(j)) ++answered[i];
					if (r.compare(0, 3, "v2:") == 0) ++v2[i];
				}
			});
		}
		while (sent.load() < Clients * Each / 2) ::usleep(1000);
		deploy(testPluginDir() + "/extra/hot-v2.so", plugins, "hot.so");
		for (auto& t : threads) t.join();
		for (int i = 0; i < Clients; ++i)
		{
			CPPUNIT_ASSERT_EQUAL(Each, answered[i]);
			CPPUNIT_ASSERT(v2[i] > 0 && v2[i] < Each);
		}
		CPPUNIT_ASSERT(host.waitFor("plugin hot 1.0.0 replaced by 2.0.0"));
		CPPUNIT_ASSERT(host.waitFor("plugin hot 1.0.0 retired"));
		std::printf("\n--- live replace under load (parley-host log) ---\n%s---\n", host.dump("plugin hot").c_str());
		CPPUNIT_ASSERT_EQUAL(0, host.stop());
	}

	void testSdkPluginDroppedIn()
	{
		Folder prefix, work, plugins, conf;
		const std::string quiet = " > " + work.file("log.txt") + " 2>&1";
		const std::string install = "cmake --install " + std::string(PARLEY_BUILD_DIR) + " --prefix " + prefix.path + quiet;
		CPPUNIT_ASSERT_EQUAL_MESSAGE(install, 0, std::system(install.c_str()));
		// Only the bundled plugins are installed: the test plugins (throwing, sleepy, ...) stay in
		// the build tree, or an installed host would load them.
		auto soFiles = [](const std::string& dir) {
			std::vector<std::string> names;
			if (Poco::File(dir).exists()) Poco::File(dir).list(names);
			std::sort(names.begin(), names.end());
			return names;
		};
		std::string installed;
		for (const auto& name : soFiles(prefix.path + "/" + pluginSubdir())) installed += name + " ";
		std::string bundled;
		for (const auto& name : soFiles(pluginDir())) bundled += name + " ";
		CPPUNIT_ASSERT(bundled.find("echo.so") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL(bundled, installed);
		const std::string tmpl = prefix.path + "/share/parley/plugin-template";
		CPPUNIT_ASSERT_MESSAGE(tmpl, Poco::File(tmpl + "/CMakeLists.txt").exists());
		Poco::File(tmpl).copyTo(work.file("src"));
		const std::string configure = "cmake -S " + work.file("src") + " -B " + work.file("build") +
			" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" + prefix.path + quiet;
		CPPUNIT_ASSERT_EQUAL_MESSAGE(configure, 0, std::system(configure.c_str()));
		const std::string build = "cmake --build " + work.file("build") + quiet;
		CPPUNIT_ASSERT_EQUAL_MESSAGE(build, 0, std::system(build.c_str()));

		deploy(pluginDir() + "/echo.so", plugins, "echo.so");
		const std::string file = conf.file("host.properties");
		writeFile(file, baseConfig(plugins, "route./echo = echo\n"));
		LiveHost host(file);
		// Drop it in (copy, then rename), then route it with SIGHUP: routes must name loaded plugins.
		deploy(work.file("build/my-plugin.so"), plugins, "my-plugin.so");
		CPPUNIT_ASSERT_MESSAGE(host.dump(), host.waitFor("plugin my-plugin 0.1.0 loaded"));
		writeFile(file, baseConfig(plugins, "route./echo = echo\nroute./mine = my-plugin\nplugin.my-plugin.prefix = >\n"));
		host.hangUp();
		CPPUNIT_ASSERT_MESSAGE(host.dump(), host.waitFor("configuration reloaded"));
		WsClient mine(host.port(), "/mine");
		CPPUNIT_ASSERT_EQUAL(std::string(">olleh"), roundTrip(mine, "hello"));
		HttpAnswer a = httpGet(host.adminPort(), "/plugins");
		CPPUNIT_ASSERT_MESSAGE(a.body, a.body.find(R"("name":"my-plugin")") != std::string::npos &&
			a.body.find(R"("routes":["/mine"])") != std::string::npos);

		// The template's gate, dropped into the same running host and put in front of /mine.
		deploy(work.file("build/my-gate.so"), plugins, "my-gate.so");
		CPPUNIT_ASSERT_MESSAGE(host.dump(), host.waitFor("plugin my-gate 0.1.0 loaded"));
		writeFile(file, baseConfig(plugins, "route./echo = echo\nroute./mine = my-plugin\nplugin.my-plugin.prefix = >\n"
			"route./mine.gates = my-gate\nplugin.my-gate.key = k3y\n"));
		host.hangUp();
		CPPUNIT_ASSERT_MESSAGE(host.dump(), eventually([&] {
			return httpRequest(host.port(), upgradeRequest("/mine")).status == 401;
		}));
		const HttpAnswer refused = httpRequest(host.port(), upgradeRequest("/mine", "X-Api-Key: wrong\r\n"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(refused.body, 401, refused.status);
		WsClient admitted(host.port(), "/mine?api_key=k3y");
		CPPUNIT_ASSERT_EQUAL(std::string(">olleh"), roundTrip(admitted, "hello"));
		a = httpGet(host.adminPort(), "/plugins");
		CPPUNIT_ASSERT_MESSAGE(a.body, a.body.find(R"("name":"my-gate","kind":"gate")") != std::string::npos);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostPluginBinaryTest, "host");
