//
// HostMetricsTest.cpp — issue 13 items 2 and 6: /metrics in the Prometheus text format, read by
// Prometheus' own parser (python3-prometheus-client) while real clients send real traffic; the
// series of a route a reload removes; /plugins showing each setting's value in force.
//
#include "HostTestSupport.h"
#include "ProcessRunner.h"
#include "parley/host/PluginCatalog.h"
#include <cppunit/extensions/HelperMacros.h>
#include <iostream>

using namespace parley;
using namespace parley::test;

namespace {

/// /slow: the test plugin `sleepy` (a blocking chain on the workers), 2 ms per message.
void withSlowRoute(HostConfig& c)
{
	c.routes["/slow"] = {"sleepy"};
	c.pluginSettings["sleepy"]["sleep_ms"] = "2";
	c.routes.erase("/throw");
	c.routes.erase("/closer");
}

/// The number after `series ` in a /metrics body (-1 if the series is not there).
long long sampleValue(const std::string& body, const std::string& series)
{
	const std::size_t at = ("\n" + body).find("\n" + series + " ");
	if (at == std::string::npos) return -1;
	return std::stoll(body.substr(at + series.size() + 1));
}

} // namespace

class HostMetricsTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostMetricsTest);
	CPPUNIT_TEST(testPrometheusClientParsesWhatTrafficMoves);
	CPPUNIT_TEST(testRemovedRouteKeepsItsTotals);
	CPPUNIT_TEST(testPluginsShowValuesInForce);
	CPPUNIT_TEST_SUITE_END();

public:
	void testPrometheusClientParsesWhatTrafficMoves()
	{
		TestHost host(withSlowRoute);
		CPPUNIT_ASSERT_MESSAGE("the test plugin sleepy is needed", host.registry().has("sleepy"));
		ProcessRunner python(parley::test::python(),
			{sourceDir() + "/tests/host/py/prometheus_metrics.py", std::to_string(host.port()), std::to_string(host.adminPort())}, 120);
		const int code = python.wait();
		std::cout << "\n" << python.output();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(python.output(), 0, code);
		CPPUNIT_ASSERT_MESSAGE(python.output(), python.output().find("all prometheus checks passed") != std::string::npos);
		// The struct C++ callers use agrees with the text.
		const host::Metrics m = host.server().metrics();
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(192), m.routes.at("/echo").messagesIn);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(192 + 192 + 128), m.messagesIn);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), m.handshakeSeconds.count());
	}

	void testRemovedRouteKeepsItsTotals()
	{
		TestHost host;
		{
			WsClient echo(host.port(), "/echo");
			for (int i = 0; i < 7; ++i)
			{
				echo.sendText("seven");
				CPPUNIT_ASSERT_EQUAL(std::string("seven"), echo.readFrame().payload);
			}
		}
		HostConfig next = baseConfig();
		next.routes.erase("/echo");
		next.routes.erase("/throw");
		next.routes.erase("/closer");
		next.routes["/added"] = {"echo"};
		std::string why;
		CPPUNIT_ASSERT_MESSAGE(why, host.server().reload(next, &why));
		CPPUNIT_ASSERT_EQUAL(404, httpRequest(host.port(), upgradeRequest("/echo")).status);
		// The removed route's counters stay (a counter never goes back); the new one starts at 0.
		std::string body;
		CPPUNIT_ASSERT(eventually([&] {
			body = httpGet(host.adminPort(), "/metrics").body;
			return sampleValue(body, "parley_messages_received_total{route=\"/echo\"}") == 7 &&
				sampleValue(body, "parley_connections{route=\"/echo\"}") == 0 &&
				sampleValue(body, "parley_messages_received_total{route=\"/added\"}") == 0;
		}));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(body, 7LL, sampleValue(body, "parley_messages_sent_total{route=\"/echo\"}"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(body, 0LL, sampleValue(body, "parley_respond_seconds_count{route=\"/added\"}"));
		WsClient added(host.port(), "/added");
		added.sendText("new");
		CPPUNIT_ASSERT_EQUAL(std::string("new"), added.readFrame().payload);
		CPPUNIT_ASSERT(eventually([&] {
			body = httpGet(host.adminPort(), "/metrics").body;
			return sampleValue(body, "parley_messages_received_total{route=\"/added\"}") == 1 &&
				sampleValue(body, "parley_connections{route=\"/added\"}") == 1;
		}));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(body, 7LL, sampleValue(body, "parley_messages_received_total{route=\"/echo\"}"));
	}

	void testPluginsShowValuesInForce()
	{
		TestHost host([](HostConfig& c) { c.pluginSettings["random-suffix"]["max"] = "42"; });
		std::string body = httpGet(host.adminPort(), "/plugins").body;
		CPPUNIT_ASSERT_MESSAGE(body,
			body.find(R"({"key":"max","default":"999999","value":"42","configured":true,)") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(body, body.find(R"({"key":"min","default":"0","value":"0","configured":false,)") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL(body, host.server().pluginsJson());

		// SIGHUP's path: the value in force follows the reload.
		HostConfig next = baseConfig();
		next.routes.erase("/throw");
		next.routes.erase("/closer");
		next.pluginSettings["random-suffix"]["max"] = "7";
		next.pluginSettings["random-suffix"]["min"] = "5";
		std::string why;
		CPPUNIT_ASSERT_MESSAGE(why, host.server().reload(next, &why));
		body = httpGet(host.adminPort(), "/plugins").body;
		CPPUNIT_ASSERT_MESSAGE(body, body.find(R"({"key":"max","default":"999999","value":"7","configured":true,)") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(body, body.find(R"({"key":"min","default":"0","value":"5","configured":true,)") != std::string::npos);
		// And the responders really use it: every reply ends in 5, 6 or 7.
		WsClient ws(host.port(), "/ws");
		for (int i = 0; i < 20; ++i)
		{
			ws.sendText("n");
			const std::string reply = ws.readFrame().payload;
			CPPUNIT_ASSERT_MESSAGE(reply, reply == "n 5" || reply == "n 6" || reply == "n 7");
		}

		// Back to the default once the key is gone.
		next.pluginSettings.erase("random-suffix");
		CPPUNIT_ASSERT_MESSAGE(why, host.server().reload(next, &why));
		body = httpGet(host.adminPort(), "/plugins").body;
		CPPUNIT_ASSERT_MESSAGE(body,
			body.find(R"({"key":"max","default":"999999","value":"999999","configured":false,)") != std::string::npos);
		// --list-plugins' text shows a configured value beside its default.
		const std::string text = host::PluginCatalog::toText(host.registry().plugins(), &next);
		CPPUNIT_ASSERT_MESSAGE(text, text.find("plugin.random-suffix.max = 999999    ") != std::string::npos);
		next.pluginSettings["random-suffix"]["max"] = "7";
		const std::string configured = host::PluginCatalog::toText(host.registry().plugins(), &next);
		CPPUNIT_ASSERT_MESSAGE(configured, configured.find("plugin.random-suffix.max = 7 (default 999999)    ") != std::string::npos);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostMetricsTest, "host");
