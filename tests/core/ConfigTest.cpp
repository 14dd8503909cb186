//
// ConfigTest.cpp — HostConfig from .properties text and files.
//
#include "parley/config/HostConfig.h"
#include "support/TestEnv.h"
#include <Poco/AutoPtr.h>
#include <Poco/File.h>
#include <Poco/TemporaryFile.h>
#include <Poco/Util/PropertyFileConfiguration.h>
#include <cppunit/extensions/HelperMacros.h>
#include <fstream>
#include <sstream>

using namespace parley;

namespace {

HostConfig parse(const std::string& text)
{
	std::istringstream in(text);
	Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> config(new Poco::Util::PropertyFileConfiguration(in));
	return HostConfig::from(*config);
}

std::string errorOf(const std::string& text)
{
	try
	{
		parse(text);
	}
	catch (const ConfigError& e)
	{
		return e.what();
	}
	return "";
}

} // namespace

class ConfigTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ConfigTest);
	CPPUNIT_TEST(testShippedDefaultFile);
	CPPUNIT_TEST(testDefaults);
	CPPUNIT_TEST(testRoutesAndPluginSettings);
	CPPUNIT_TEST(testRouteWithoutPlugins);
	CPPUNIT_TEST(testRouteWithoutSlash);
	CPPUNIT_TEST(testNoRoutes);
	CPPUNIT_TEST(testBadNumbers);
	CPPUNIT_TEST(testBackpressureOrder);
	CPPUNIT_TEST(testSendChunk);
	CPPUNIT_TEST(testTlsAndAdminKeys);
	CPPUNIT_TEST(testRouteOptions);
	CPPUNIT_TEST(testRouteOptionErrors);
	CPPUNIT_TEST(testOriginLists);
	CPPUNIT_TEST(testPerAddressLimits);
	CPPUNIT_TEST(testDeflateSettings);
	CPPUNIT_TEST(testMissingFile);
	CPPUNIT_TEST(testFileErrorNamesFile);
	CPPUNIT_TEST(testClusterKeys);
	CPPUNIT_TEST_SUITE_END();

public:
	void testRouteOptions()
	{
		const HostConfig c = parse("route./chat = broadcast\n"
			"route./chat.subprotocols = graphql-transport-ws, chat.v1\n"
			"route./chat.origins = https://*.example.com, null\n"
			"route./chat.gates = jwt, audit\n"
			"route./chat.deflate = on\n"
			"route./api.v1 = echo\n"
			"route./api.v1.subprotocols = v1.example\n"
			"route./a.b.c = echo\n"
			"server.origins = http://localhost:*\n");
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), c.routes.size());
		CPPUNIT_ASSERT(c.routes.at("/chat") == std::vector<std::string>{"broadcast"});
		CPPUNIT_ASSERT(c.routes.at("/api.v1") == std::vector<std::string>{"echo"});
		CPPUNIT_ASSERT(c.routes.at("/a.b.c") == std::vector<std::string>{"echo"});
		const RouteOptions& chat = c.optionsFor("/chat");
		CPPUNIT_ASSERT((chat.subprotocols == std::vector<std::string>{"graphql-transport-ws", "chat.v1"}));
		CPPUNIT_ASSERT((chat.gates == std::vector<std::string>{"jwt", "audit"}));
		CPPUNIT_ASSERT(chat.deflate);
		CPPUNIT_ASSERT(chat.hasOrigins);
		CPPUNIT_ASSERT(c.originsFor("/chat")->allows("https://x.example.com"));
		CPPUNIT_ASSERT(!c.originsFor("/chat")->allows("http://localhost:3000"));
		CPPUNIT_ASSERT(c.originsFor("/api.v1")->allows("http://localhost:3000"));
		CPPUNIT_ASSERT((c.optionsFor("/api.v1").subprotocols == std::vector<std::string>{"v1.example"}));
		CPPUNIT_ASSERT(c.optionsFor("/a.b.c").subprotocols.empty());
		CPPUNIT_ASSERT(!c.optionsFor("/a.b.c").deflate);
		// Without server.origins, no list (HostConfig::originsFor null): browser origins are refused.
		CPPUNIT_ASSERT(parse("route./x = echo\n").originsFor("/x") == nullptr);
		CPPUNIT_ASSERT(parse("route./x = echo\nroute./x.deflate = off\n").optionsFor("/x").deflate == false);
		// Isolated routes: route.<path>.isolate, plugins.isolated_workers, engine.stall_timeout_ms.
		const HostConfig i = parse("route./x = echo\nroute./x.isolate = process\nroute./y = echo\nroute./y.isolate = no\n"
			"plugins.isolated_workers = 3\nengine.stall_timeout_ms = 250\n");
		CPPUNIT_ASSERT(i.optionsFor("/x").isolate);
		CPPUNIT_ASSERT(!i.optionsFor("/y").isolate);
		CPPUNIT_ASSERT_EQUAL(3u, i.isolatedWorkers);
		CPPUNIT_ASSERT_EQUAL(250u, i.engine.stallTimeoutMs);
		const HostConfig d = parse("route./x = echo\n");
		CPPUNIT_ASSERT(!d.optionsFor("/x").isolate);
		CPPUNIT_ASSERT_EQUAL(2u, d.isolatedWorkers);
		CPPUNIT_ASSERT_EQUAL(5000u, d.engine.stallTimeoutMs);
		CPPUNIT_ASSERT(i.optionsFor("/x") != d.optionsFor("/x"));
	}

	void testRouteOptionErrors()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("route./nope.gates: no route /nope (set route./nope = <plugins> first)"),
			errorOf("route./x = echo\nroute./nope.gates = jwt\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("route./x.deflate: 'maybe' is not on or off"),
			errorOf("route./x = echo\nroute./x.deflate = maybe\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("route./x.isolate: 'thread' is not process or no"),
			errorOf("route./x = echo\nroute./x.isolate = thread\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("route./x.subprotocols: 'chat v1' is not a valid subprotocol name (an HTTP token)"),
			errorOf("route./x = echo\nroute./x.subprotocols = chat v1\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("route./x.subprotocols: no subprotocol named (expected e.g. route./x.subprotocols = chat.v1)"),
			errorOf("route./x = echo\nroute./x.subprotocols = ,\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("route./x.gates: no gate named (expected e.g. route./x.gates = jwt)"),
			errorOf("route./x = echo\nroute./x.gates =\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("route./x.origins: 'example.com': expected scheme://host[:port], e.g. https://example.com"),
			errorOf("route./x = echo\nroute./x.origins = example.com\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("server.origins: 'https://a.example/app': an origin has no path, query or user name"),
			errorOf("route./x = echo\nserver.origins = https://a.example/app\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("server.origins: 'http://localhost:99999': port out of range"),
			errorOf("route./x = echo\nserver.origins = http://localhost:99999\n"));
	}

	void testOriginLists()
	{
		const OriginList list = OriginList::parse("https://app.example.com, http://localhost:*, https://*.example.org, null, http://[::1]:8000");
		CPPUNIT_ASSERT(list.allows("https://app.example.com"));
		CPPUNIT_ASSERT(list.allows("https://app.example.com:443"));
		CPPUNIT_ASSERT(!list.allows("https://app.example.com:444"));
		CPPUNIT_ASSERT(!list.allows("http://app.example.com"));
		CPPUNIT_ASSERT(list.allows("http://localhost"));
		CPPUNIT_ASSERT(list.allows("http://localhost:8080"));
		CPPUNIT_ASSERT(!list.allows("http://localhost.evil.net"));
		CPPUNIT_ASSERT(list.allows("https://deep.sub.example.org"));
		CPPUNIT_ASSERT(!list.allows("https://example.org"));
		CPPUNIT_ASSERT(!list.allows("https://evilexample.org"));
		CPPUNIT_ASSERT(list.allows("null"));
		CPPUNIT_ASSERT(list.allows("http://[::1]:8000"));
		CPPUNIT_ASSERT(!list.allows("http://[::1]:8001"));
		CPPUNIT_ASSERT(!list.allows(""));
		CPPUNIT_ASSERT(!list.allows("https://*.example.org"));   // a wildcard in a request is not a match
		CPPUNIT_ASSERT(!OriginList::parse("https://a.example").allows("null"));
		CPPUNIT_ASSERT(OriginList::parse("*").allows("https://anything.example:1"));
	}

	void testPerAddressLimits()
	{
		const HostConfig d = parse("route./x = echo\n");
		CPPUNIT_ASSERT_EQUAL(1000u, d.engine.maxConnectionsPerIp);
		CPPUNIT_ASSERT_EQUAL(200u, d.engine.handshakesPerIpPerS);
		const HostConfig c = parse("route./x = echo\nengine.max_connections_per_ip = 0\nengine.handshakes_per_ip_per_s = 7\n");
		CPPUNIT_ASSERT_EQUAL(0u, c.engine.maxConnectionsPerIp);
		CPPUNIT_ASSERT_EQUAL(7u, c.engine.handshakesPerIpPerS);
		CPPUNIT_ASSERT_EQUAL(std::string("engine.handshakes_per_ip_per_s: 'many' is not a whole number"),
			errorOf("route./x = echo\nengine.handshakes_per_ip_per_s = many\n"));
	}

	void testDeflateSettings()
	{
		const HostConfig d = parse("route./x = echo\n");
		CPPUNIT_ASSERT_EQUAL(1, d.engine.deflate.negotiation.level);
		CPPUNIT_ASSERT_EQUAL(8, d.engine.deflate.memLevel);
		CPPUNIT_ASSERT_EQUAL(15, d.engine.deflate.negotiation.serverMaxWindowBits);
		CPPUNIT_ASSERT(d.engine.deflate.negotiation.serverNoContextTakeover);
		CPPUNIT_ASSERT_EQUAL(15, d.engine.deflate.negotiation.clientMaxWindowBits);
		CPPUNIT_ASSERT(!d.engine.deflate.negotiation.requestClientNoContextTakeover);
		CPPUNIT_ASSERT_EQUAL(std::size_t(64), d.engine.deflate.minSize);
		const HostConfig c = parse("route./x = echo\nengine.deflate.level = 6\nengine.deflate.mem_level = 4\n"
			"engine.deflate.server_max_window_bits = 10\nengine.deflate.server_no_context_takeover = false\n"
			"engine.deflate.client_max_window_bits = 12\nengine.deflate.client_no_context_takeover = true\n"
			"engine.deflate.min_size = 0\n");
		const DeflateConfig& e = c.engine.deflate;
		CPPUNIT_ASSERT_EQUAL(6, e.negotiation.level);
		CPPUNIT_ASSERT_EQUAL(4, e.memLevel);
		CPPUNIT_ASSERT_EQUAL(10, e.negotiation.serverMaxWindowBits);
		CPPUNIT_ASSERT(!e.negotiation.serverNoContextTakeover);
		CPPUNIT_ASSERT_EQUAL(12, e.negotiation.clientMaxWindowBits);
		CPPUNIT_ASSERT(e.negotiation.requestClientNoContextTakeover);
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), e.minSize);
		CPPUNIT_ASSERT(e != d.engine.deflate);
		CPPUNIT_ASSERT_EQUAL(std::string("engine.deflate.level: 10 is out of range (0..9)"),
			errorOf("route./x = echo\nengine.deflate.level = 10\n"));
		// zlib has no 8-bit raw deflate window.
		CPPUNIT_ASSERT_EQUAL(std::string("engine.deflate.server_max_window_bits: 8 is out of range (9..15)"),
			errorOf("route./x = echo\nengine.deflate.server_max_window_bits = 8\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("engine.deflate.client_no_context_takeover: 'maybe' is not a boolean (true/false)"),
			errorOf("route./x = echo\nengine.deflate.client_no_context_takeover = maybe\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("engine.deflate.levle: unknown key (engine.deflate.* are level, mem_level, "
			"server_max_window_bits, server_no_context_takeover, client_max_window_bits, client_no_context_takeover, min_size)"),
			errorOf("route./x = echo\nengine.deflate.levle = 3\n"));
	}

	void testShippedDefaultFile()
	{
		const std::string path = test::sourceDir() + "/etc/parley-host.properties";
		HostConfig c = HostConfig::fromFile(path);
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), c.address);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(8080), c.port);
		CPPUNIT_ASSERT(c.routes.at("/ws") == std::vector<std::string>{"random-suffix"});
		CPPUNIT_ASSERT(c.routes.at("/echo") == std::vector<std::string>{"echo"});
		CPPUNIT_ASSERT_EQUAL(std::string("\" \""), c.settingsFor("random-suffix").at("separator"));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(16777216), c.engine.maxMessageSize);
		CPPUNIT_ASSERT(c.pluginDir.empty());
		// Every EngineConfig default equals what the shipped file says.
		EngineConfig d;
		CPPUNIT_ASSERT_EQUAL(d.backpressureHigh, c.engine.backpressureHigh);
		CPPUNIT_ASSERT_EQUAL(d.backpressureLow, c.engine.backpressureLow);
		CPPUNIT_ASSERT_EQUAL(d.backpressureLimit, c.engine.backpressureLimit);
		CPPUNIT_ASSERT_EQUAL(d.maxConnections, c.engine.maxConnections);
		CPPUNIT_ASSERT_EQUAL(d.maxConnectionsPerIp, c.engine.maxConnectionsPerIp);
		CPPUNIT_ASSERT_EQUAL(d.handshakesPerIpPerS, c.engine.handshakesPerIpPerS);
		CPPUNIT_ASSERT(c.originsFor("/echo") && c.originsFor("/echo")->allows("http://localhost:5173"));
		CPPUNIT_ASSERT(!c.originsFor("/echo")->allows("https://example.com"));
		CPPUNIT_ASSERT_EQUAL(d.handshakeTimeoutMs, c.engine.handshakeTimeoutMs);
		CPPUNIT_ASSERT_EQUAL(d.idleTimeoutMs, c.engine.idleTimeoutMs);
		CPPUNIT_ASSERT_EQUAL(d.pingIntervalMs, c.engine.pingIntervalMs);
		CPPUNIT_ASSERT_EQUAL(d.threads, c.engine.threads);
		CPPUNIT_ASSERT(d.deflate == c.engine.deflate);
		CPPUNIT_ASSERT_EQUAL(HostConfig().logRateLimitMs, c.logRateLimitMs);
		CPPUNIT_ASSERT_EQUAL(path, HostConfig::defaultFile(""));
	}

	void testDefaults()
	{
		HostConfig c = parse("route./x = echo\n");
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), c.address);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(8080), c.port);
		CPPUNIT_ASSERT_EQUAL(std::size_t(8192), c.maxHeaderBytes);
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), c.adminAddress);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(8081), c.adminPort);
		CPPUNIT_ASSERT_EQUAL(2u, c.adminThreads);
		CPPUNIT_ASSERT_EQUAL(5000u, c.engine.handshakeTimeoutMs);
		CPPUNIT_ASSERT_EQUAL(10000u, c.logRateLimitMs);
		CPPUNIT_ASSERT(!c.tls.enabled);
		CPPUNIT_ASSERT(c.tls.requireTLSv1_2);
		CPPUNIT_ASSERT_EQUAL(std::string(TlsConfig::DefaultCipherList), c.tls.cipherList);
		CPPUNIT_ASSERT(c.settingsFor("echo").empty());
	}

	void testRoutesAndPluginSettings()
	{
		HostConfig c = parse(
			"server.port = 0\n"
			"route./chain = closer, random-suffix ,echo\n"
			"plugin.random-suffix.max = 5\n"
			"plugin.random-suffix.min = 1\n");
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), c.port);
		CPPUNIT_ASSERT((c.routes.at("/chain") == std::vector<std::string>{"closer", "random-suffix", "echo"}));
		CPPUNIT_ASSERT_EQUAL(std::string("5"), c.settingsFor("random-suffix").at("max"));
		CPPUNIT_ASSERT_EQUAL(std::string("1"), c.settingsFor("random-suffix").at("min"));
	}

	void testRouteWithoutPlugins()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("route./empty: route has no plugins (expected e.g. route./empty = echo)"),
			errorOf("route./ws = echo\nroute./empty = \n"));
		CPPUNIT_ASSERT(errorOf("route./empty = , ,\n").find("route./empty") == 0);
	}

	void testRouteWithoutSlash()
	{
		CPPUNIT_ASSERT(errorOf("route.ws = echo\n").find("route.ws: a route path must start with '/'") == 0);
	}

	void testNoRoutes()
	{
		CPPUNIT_ASSERT(errorOf("server.port = 1\n").find("no route configured") != std::string::npos);
	}

	void testBadNumbers()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("server.port: 'eighty' is not a whole number"), errorOf("route./a = echo\nserver.port = eighty\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("server.port: 70000 is out of range (0..65535)"), errorOf("route./a = echo\nserver.port = 70000\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("engine.max_message_size: '-5' is not a whole number"),
			errorOf("route./a = echo\nengine.max_message_size = -5\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("admin.threads: 0 is out of range (1..64)"), errorOf("route./a = echo\nadmin.threads = 0\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("server.max_header_bytes: 100 is out of range (256..1048576)"),
			errorOf("route./a = echo\nserver.max_header_bytes = 100\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("admin.port: 65536 is out of range (0..65535)"), errorOf("route./a = echo\nadmin.port = 65536\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("engine.send_chunk: 'big' is not a whole number"),
			errorOf("route./a = echo\nengine.send_chunk = big\n"));
	}

	void testSendChunk()
	{
		CPPUNIT_ASSERT_EQUAL(std::size_t(16384), parse("route./a = echo\n").engine.sendChunk);
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), parse("route./a = echo\nengine.send_chunk = 0\n").engine.sendChunk);
		CPPUNIT_ASSERT_EQUAL(std::size_t(65536), parse("route./a = echo\nengine.send_chunk = 65536\n").engine.sendChunk);
	}

	void testTlsAndAdminKeys()
	{
		HostConfig c = parse("route./a = echo\nserver.tls = true\nopenSSL.server.certificateFile = /x/cert.pem\n"
			"openSSL.server.privateKeyFile = /x/key.pem\nopenSSL.server.cipherList = HIGH\n"
			"openSSL.server.requireTLSv1_2 = false\nopenSSL.server.sessionTickets = true\nadmin.address = 0.0.0.0\nadmin.port = 0\nadmin.threads = 3\n"
			"server.max_header_bytes = 16384\nengine.handshake_timeout_ms = 2000\n");
		CPPUNIT_ASSERT(c.tls.enabled);
		CPPUNIT_ASSERT_EQUAL(std::string("/x/cert.pem"), c.tls.certificateFile);
		CPPUNIT_ASSERT_EQUAL(std::string("/x/key.pem"), c.tls.privateKeyFile);
		CPPUNIT_ASSERT_EQUAL(std::string("HIGH"), c.tls.cipherList);
		CPPUNIT_ASSERT(!c.tls.requireTLSv1_2);
		CPPUNIT_ASSERT(c.tls.sessionTickets);
		CPPUNIT_ASSERT_EQUAL(std::string("0.0.0.0"), c.adminAddress);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), c.adminPort);
		CPPUNIT_ASSERT_EQUAL(3u, c.adminThreads);
		CPPUNIT_ASSERT_EQUAL(std::size_t(16384), c.maxHeaderBytes);
		CPPUNIT_ASSERT_EQUAL(2000u, c.engine.handshakeTimeoutMs);
		// TLS without a certificate, a boolean that is not one, an empty address: one line naming the key.
		CPPUNIT_ASSERT(errorOf("route./a = echo\nserver.tls = true\n").find("openSSL.server.certificateFile:") == 0);
		CPPUNIT_ASSERT_EQUAL(std::string("server.tls: 'yes please' is not a boolean (true/false)"),
			errorOf("route./a = echo\nserver.tls = yes please\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("admin.address: must not be empty"), errorOf("route./a = echo\nadmin.address =\n"));
		CPPUNIT_ASSERT(errorOf("route./a = echo\nopenSSL.server.requireTLSv1_2 = maybe\n").find("openSSL.server.requireTLSv1_2:") == 0);
	}

	void testBackpressureOrder()
	{
		CPPUNIT_ASSERT(errorOf("route./a = echo\nengine.backpressure_low = 9000000\n").find("engine.backpressure_low") == 0);
		CPPUNIT_ASSERT(errorOf("route./a = echo\nengine.backpressure_limit = 2000\n").find("engine.backpressure_limit") == 0);
	}

	void testMissingFile()
	{
		try
		{
			HostConfig::fromFile("/nonexistent/parley.properties");
			CPPUNIT_FAIL("expected ConfigError");
		}
		catch (const ConfigError& e)
		{
			CPPUNIT_ASSERT_EQUAL(std::string("configuration file '/nonexistent/parley.properties' does not exist"), std::string(e.what()));
		}
	}

	/// cluster.*: off without cluster.redis; host:port (names and [v6]) parsed; bad values named.
	void testClusterKeys()
	{
		CPPUNIT_ASSERT(!parse("route./ws = echo\n").cluster.enabled());
		const HostConfig c = parse("route./ws = echo\ncluster.redis = redis.internal:6380\ncluster.redis_password = s3cret\n"
								   "cluster.node = web-1\ncluster.name = chat.prod\n");
		CPPUNIT_ASSERT(c.cluster.enabled());
		CPPUNIT_ASSERT_EQUAL(std::string("redis.internal"), c.cluster.redisHost);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(6380), c.cluster.redisPort);
		CPPUNIT_ASSERT_EQUAL(std::string("s3cret"), c.cluster.redisPassword);
		CPPUNIT_ASSERT_EQUAL(std::string("web-1"), c.cluster.node);
		CPPUNIT_ASSERT_EQUAL(std::string("chat.prod"), c.cluster.name);
		const HostConfig v6 = parse("route./ws = echo\ncluster.redis = [::1]:6379\n");
		CPPUNIT_ASSERT_EQUAL(std::string("::1"), v6.cluster.redisHost);
		CPPUNIT_ASSERT_EQUAL(std::string("parley"), v6.cluster.name);
		for (const char* bad : {"localhost", "localhost:", ":6379", "localhost:0", "localhost:65536", "localhost:63x9"})
		{
			const std::string error = errorOf(std::string("route./ws = echo\ncluster.redis = ") + bad + "\n");
			CPPUNIT_ASSERT_MESSAGE(bad, error.find("cluster.redis: '" + std::string(bad) + "' is not host:port") != std::string::npos);
		}
		CPPUNIT_ASSERT(errorOf("route./ws = echo\ncluster.redis = r:1\ncluster.node = a b\n").find("cluster.node: 'a b' must be") != std::string::npos);
		CPPUNIT_ASSERT(errorOf("route./ws = echo\ncluster.redis = r:1\ncluster.node = \"x\"\n").find("cluster.node:") != std::string::npos);
		CPPUNIT_ASSERT(errorOf("route./ws = echo\ncluster.name = a/b\n").find("cluster.name: 'a/b' must be") != std::string::npos);
		CPPUNIT_ASSERT(errorOf("route./ws = echo\ncluster.redis_pasword = x\n").find("cluster.redis_pasword") != std::string::npos);
	}

	void testFileErrorNamesFile()
	{
		Poco::TemporaryFile tmp;
		{
			std::ofstream out(tmp.path());
			out << "route./ws = \n";
		}
		try
		{
			HostConfig::fromFile(tmp.path());
			CPPUNIT_FAIL("expected ConfigError");
		}
		catch (const ConfigError& e)
		{
			const std::string what = e.what();
			CPPUNIT_ASSERT_MESSAGE(what + " (file " + tmp.path() + ")", what.find(tmp.path()) == 0);
			CPPUNIT_ASSERT_MESSAGE(what, what.find("route./ws") != std::string::npos);
		}
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ConfigTest, "core");
