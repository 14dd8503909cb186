//
// HostBinaryTest.cpp — the real parley-host binary: bad configurations fail with one clear line
// and a non-zero exit before serving; a good one serves and stops gracefully on a signal.
//
#include "HostFiles.h"
#include "HostTestSupport.h"
#include "ProcessRunner.h"
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <memory>
#include <string>
#include <vector>

using namespace parley::test;

class HostBinaryTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostBinaryTest);
	CPPUNIT_TEST(testMissingConfigFile);
	CPPUNIT_TEST(testUnknownPluginInRoute);
	CPPUNIT_TEST(testRouteWithoutPlugins);
	CPPUNIT_TEST(testPortInUse);
	CPPUNIT_TEST(testMissingPluginFolder);
	CPPUNIT_TEST(testBadPortOption);
	CPPUNIT_TEST(testAdminPortInUseOrBad);
	CPPUNIT_TEST(testServesAndStopsOnSignal);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_files = std::make_unique<HostFiles>("host");
	}

	void tearDown() override
	{
		_files.reset();
	}

	void testMissingConfigFile()
	{
		const std::string missing = _files->dir() + "missing.properties";
		expectOneLineFailure({"--config=" + missing}, {missing, "does not exist"});
	}

	void testUnknownPluginInRoute()
	{
		const std::string file = writeConfig("route./ws = random-suffix\nroute./chat = echo, no-such-plugin\n");
		expectOneLineFailure({"--config=" + file}, {"route./chat", "no-such-plugin"});
	}

	void testRouteWithoutPlugins()
	{
		const std::string file = writeConfig("route./ws =\n");
		expectOneLineFailure({"--config=" + file}, {"route./ws", "no plugins"});
	}

	void testPortInUse()
	{
		Poco::Net::ServerSocket taken(Poco::Net::SocketAddress("127.0.0.1", 0));
		const std::string port = std::to_string(taken.address().port());
		const std::string file = writeConfig("route./ws = echo\nserver.port = " + port + "\n");
		expectOneLineFailure({"--config=" + file}, {"server.port", port, "in use"});
		// --port overrides the file and is checked the same way.
		const std::string other = writeConfig("route./ws = echo\nserver.port = 0\n");
		expectOneLineFailure({"--config=" + other, "--port=" + port}, {"server.port", port, "in use"});
	}

	void testMissingPluginFolder()
	{
		const std::string folder = _files->dir() + "no-plugins-here";
		const std::string file = writeConfig("route./ws = echo\nplugins.dir = " + folder + "\n", false);
		expectOneLineFailure({"--config=" + file}, {"plugins.dir", folder});
	}

	void testBadPortOption()
	{
		const std::string file = writeConfig("route./ws = echo\n");
		expectOneLineFailure({"--config=" + file, "--port=http"}, {"--port", "http"});
	}

	void testAdminPortInUseOrBad()
	{
		Poco::Net::ServerSocket taken(Poco::Net::SocketAddress("127.0.0.1", 0));
		const std::string port = std::to_string(taken.address().port());
		const std::string file = writeConfig("route./ws = echo\nserver.port = 0\n");
		expectOneLineFailure({"--config=" + file, "--admin-port=" + port}, {"admin.port", port, "in use"});
		expectOneLineFailure({"--config=" + file, "--admin-port=-1"}, {"--admin-port", "-1"});
	}

	void testServesAndStopsOnSignal()
	{
		const std::string file = writeConfig("route./ws = random-suffix\nroute./echo = echo\nserver.port = 0\nengine.threads = 1\n");
		ProcessRunner host(binary(), {"--config=" + file}, 60);
		std::string line;
		std::uint16_t port = 0;
		while (port == 0 && host.readLine(line))
		{
			const std::string marker = "listening on ws://127.0.0.1:";
			const std::size_t at = line.find(marker);
			if (at != std::string::npos) port = static_cast<std::uint16_t>(std::stoi(line.substr(at + marker.size())));
		}
		CPPUNIT_ASSERT_MESSAGE(host.output(), port != 0);
		CPPUNIT_ASSERT_MESSAGE(host.output(), line.find("/echo -> echo") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(host.output(), line.find("/ws -> random-suffix") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(host.output(), line.find("1 loop") != std::string::npos);
		// The operator endpoints are on the port the line names, not on the public one.
		const std::string adminMarker = "operator endpoints on http://127.0.0.1:";
		CPPUNIT_ASSERT_MESSAGE(line, line.find(adminMarker) != std::string::npos);
		const auto adminPort = static_cast<std::uint16_t>(std::stoi(line.substr(line.find(adminMarker) + adminMarker.size())));
		CPPUNIT_ASSERT_EQUAL(200, httpGet(adminPort, "/health").status);
		CPPUNIT_ASSERT_EQUAL(404, httpGet(port, "/health").status);
		WsClient client(port, "/ws");
		client.sendText("hello binary");
		CPPUNIT_ASSERT(isRandomSuffixReply(client.readFrame().payload, "hello binary"));
		host.requestTermination();
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), client.readClose().closeCode());
		const int code = host.wait();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.output(), 0, code);
		CPPUNIT_ASSERT(!host.killed());
	}

private:
	static std::string binary() { return binDir() + "/parley-host"; }

	/// Writes a configuration file (with plugins.dir pointing at the build's plugins unless
	/// `withPluginDir` is false) and returns its path.
	std::string writeConfig(const std::string& body, bool withPluginDir = true)
	{
		const std::string plugins = withPluginDir ? "plugins.dir = " + pluginDir() + "\n" : "";
		return _files->write("server.address = 127.0.0.1\nadmin.port = 0\n" + plugins + body);
	}

	/// Runs the binary and expects a non-zero exit with exactly one output line that starts with
	/// "parley-host: " and contains every one of `parts`.
	void expectOneLineFailure(const std::vector<std::string>& args, const std::vector<std::string>& parts)
	{
		ProcessRunner host(binary(), args, 60);
		const int code = host.wait();
		const std::string& out = host.output();
		CPPUNIT_ASSERT_MESSAGE(out, !host.killed());
		CPPUNIT_ASSERT_MESSAGE(out, code != 0);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(out, std::string("parley-host: "), out.substr(0, 13));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(out, out.size() - 1, out.find('\n'));
		for (const auto& part : parts)
			CPPUNIT_ASSERT_MESSAGE("'" + part + "' missing in: " + out, out.find(part) != std::string::npos);
	}

	std::unique_ptr<HostFiles> _files;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostBinaryTest, "host");
