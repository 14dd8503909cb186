//
// HostDeflateClientsTest.cpp — permessage-deflate (RFC 7692) seen from clients nobody here wrote:
// python3-websockets (with several offers and host settings), python3-websocket (no extension),
// a deflate client and a plain one at once, a broadcast room with compressed and plain
// receivers, Node's ws, and a real browser (Debian's chromium, headless). Each script checks the
// negotiated extension, every reply, and the host's /metrics against what crossed the wire
// (python3-websockets also RSV1 and the size of every frame).
//
#include "HostTestSupport.h"
#include "ProcessRunner.h"
#include <cppunit/extensions/HelperMacros.h>
#include <iostream>

using namespace parley;
using namespace parley::test;

namespace {

/// The routes the scripts expect: /echo-deflate (echo, deflate on), /ws-deflate (random-suffix,
/// deflate on), /room (broadcast, deflate on) beside baseConfig's /echo (deflate off); replies
/// below 64 bytes go plain.
void deflateRoutes(HostConfig& c)
{
	c.routes["/echo-deflate"] = {"echo"};
	c.routeOptions["/echo-deflate"].deflate = true;
	c.routes["/ws-deflate"] = {"random-suffix"};
	c.routeOptions["/ws-deflate"].deflate = true;
	c.routes["/room"] = {"broadcast"};
	c.routeOptions["/room"].deflate = true;
	c.engine.deflate.minSize = 64;
}

/// deflateRoutes, and the host keeps its compression window between messages
/// (engine.deflate.server_no_context_takeover = false) unless a client asks otherwise.
void serverKeepsWindow(HostConfig& c)
{
	deflateRoutes(c);
	c.engine.deflate.negotiation.serverNoContextTakeover = false;
}

} // namespace

class HostDeflateClientsTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostDeflateClientsTest);
	CPPUNIT_TEST(testWebsocketsDefault);
	CPPUNIT_TEST(testWebsocketsServerKeepsWindow);
	CPPUNIT_TEST(testWebsocketsClientOffersNoContextTakeover);
	CPPUNIT_TEST(testWebsocketsHostAsksClientNoContextTakeover);
	CPPUNIT_TEST(testWebsocketsWindowBits);
	CPPUNIT_TEST(testWebsocketsEveryReplyCompressed);
	CPPUNIT_TEST(testWebsocketsInflatedSizeLimit);
	CPPUNIT_TEST(testWebsocketsRouteWithoutDeflate);
	CPPUNIT_TEST(testWebsocketsDeflateAndPlainAtOnce);
	CPPUNIT_TEST(testBroadcastToCompressedAndPlainReceivers);
	CPPUNIT_TEST(testBroadcastWhenHostKeepsWindow);
	CPPUNIT_TEST(testWebsocketClientOffersNothing);
	CPPUNIT_TEST(testNodeWs);
	CPPUNIT_TEST(testNodeWsBothKeepWindows);
	CPPUNIT_TEST(testNodeWsNoContextTakeover);
	CPPUNIT_TEST(testHeadlessChromium);
	CPPUNIT_TEST(testHeadlessChromiumHostKeepsWindow);
	CPPUNIT_TEST_SUITE_END();

public:
	void testWebsocketsDefault()
	{
		TestHost host(deflateRoutes);
		runPython(host, {"default"});
		runPython(host, {"suffix"});
		expectCompressedBothWays(host);
	}

	void testWebsocketsServerKeepsWindow()
	{
		TestHost host(serverKeepsWindow);
		runPython(host, {"server-context"});
		runPython(host, {"suffix", "server-context"});
		expectCompressedBothWays(host);
	}

	void testWebsocketsClientOffersNoContextTakeover()
	{
		TestHost host(deflateRoutes);
		runPython(host, {"client-reset"});
		expectCompressedBothWays(host);
	}

	void testWebsocketsHostAsksClientNoContextTakeover()
	{
		TestHost host([](HostConfig& c) {
			deflateRoutes(c);
			c.engine.deflate.negotiation.requestClientNoContextTakeover = true;
		});
		runPython(host, {"host-asks-reset"});
		expectCompressedBothWays(host);
	}

	void testWebsocketsWindowBits()
	{
		TestHost host([](HostConfig& c) {
			serverKeepsWindow(c);
			c.engine.deflate.negotiation.serverMaxWindowBits = 12;
			c.engine.deflate.negotiation.clientMaxWindowBits = 12;
			c.engine.deflate.negotiation.level = 9;
		});
		runPython(host, {"windows"});
		expectCompressedBothWays(host);
	}

	void testWebsocketsEveryReplyCompressed()
	{
		TestHost host([](HostConfig& c) {
			deflateRoutes(c);
			c.engine.deflate.minSize = 0;
		});
		runPython(host, {"min-size-0"});
		expectCompressedBothWays(host);
	}

	void testWebsocketsInflatedSizeLimit()
	{
		TestHost host([](HostConfig& c) {
			deflateRoutes(c);
			c.engine.maxMessageSize = 1u << 20;
		});
		runPython(host, {"bomb"}, 1);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), host.server().metrics().closesSent[1009]);
	}

	void testWebsocketsRouteWithoutDeflate()
	{
		TestHost host(deflateRoutes);
		runPython(host, {"off"});
		expectNothingCompressed(host);
	}

	void testWebsocketsDeflateAndPlainAtOnce()
	{
		TestHost host(deflateRoutes);
		runPython(host, {"mixed"});
		expectCompressedBothWays(host);
	}

	void testBroadcastToCompressedAndPlainReceivers()
	{
		TestHost host(deflateRoutes);
		runPython(host, {"broadcast"});
		expectCompressedBothWays(host);
	}

	void testBroadcastWhenHostKeepsWindow()
	{
		TestHost host(serverKeepsWindow);
		runPython(host, {"broadcast", "server-context"});
		expectCompressedBothWays(host);
	}

	void testWebsocketClientOffersNothing()
	{
		TestHost host(deflateRoutes);
		runPython(host, {"websocket-client"});
		expectNothingCompressed(host);
	}

	void testNodeWs()
	{
		TestHost host(deflateRoutes);
		runNode(host, "default");
		expectCompressedBothWays(host);
	}

	void testNodeWsBothKeepWindows()
	{
		TestHost host(serverKeepsWindow);
		runNode(host, "takeover");
		expectCompressedBothWays(host);
	}

	void testNodeWsNoContextTakeover()
	{
		TestHost host(serverKeepsWindow);
		runNode(host, "no-takeover");
		expectCompressedBothWays(host);
	}

	void testHeadlessChromium()
	{
		TestHost host(deflateRoutes);
		runChromium(host, "default");
		expectCompressedBothWays(host);
	}

	void testHeadlessChromiumHostKeepsWindow()
	{
		TestHost host(serverKeepsWindow);
		runChromium(host, "server-context");
		expectCompressedBothWays(host);
	}

private:
	/// Runs deflate_clients.py with `args` against `host`; the script must pass every check and
	/// the host must have closed `protocolErrors` connections for bad frames or data.
	static void runPython(TestHost& host, const std::vector<std::string>& args, std::uint64_t protocolErrors = 0)
	{
		std::vector<std::string> all = {sourceDir() + "/tests/host/py/deflate_clients.py", std::to_string(host.port()),
			std::to_string(host.adminPort())};
		all.insert(all.end(), args.begin(), args.end());
		ProcessRunner python(parley::test::python(), all, 150);
		const int code = python.wait();
		std::cout << "\n" << python.output();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(python.output(), 0, code);
		CPPUNIT_ASSERT_MESSAGE(python.output(), python.output().find("all deflate checks passed") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.logDump(), protocolErrors, host.server().metrics().protocolErrors);
	}

	/// Runs tests/node/deflate_client.js `mode` against `host`; it must pass every check.
	static void runNode(TestHost& host, const std::string& mode)
	{
		CPPUNIT_ASSERT_MESSAGE("node and npm are needed (scripts/setup.sh installs them)", onPath("node") && onPath("npm"));
		nodeTestDir("deflate_messages.js");
		const std::string dir = nodeTestDir("deflate_client.js");
		ProcessRunner node("node", {dir + "/deflate_client.js", std::to_string(host.port()), std::to_string(host.adminPort()),
			mode}, 150);
		const int code = node.wait();
		std::cout << "\n" << node.output();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(node.output(), 0, code);
		CPPUNIT_ASSERT_MESSAGE(node.output(), node.output().find("node ws: all deflate checks passed") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.logDump(), std::uint64_t(0), host.server().metrics().protocolErrors);
	}

	/// Runs browser_deflate.py `mode` (headless chromium) against `host`; it must pass every check.
	static void runChromium(TestHost& host, const std::string& mode)
	{
		CPPUNIT_ASSERT_MESSAGE("chromium is needed (scripts/setup.sh installs it)", onPath("chromium"));
		ProcessRunner browser(parley::test::python(), {sourceDir() + "/tests/host/py/browser_deflate.py", "chromium",
			std::to_string(host.port()), std::to_string(host.adminPort()), mode}, 180);
		const int code = browser.wait();
		std::cout << "\n" << browser.output();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(browser.output(), 0, code);
		CPPUNIT_ASSERT_MESSAGE(browser.output(), browser.output().find("all browser deflate checks passed") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.logDump(), std::uint64_t(0), host.server().metrics().protocolErrors);
	}

	/// The host's own counts, beside the script's exact ones: compressed messages went both ways
	/// and came out smaller than they went in.
	static void expectCompressedBothWays(TestHost& host)
	{
		const host::Metrics m = host.server().metrics();
		CPPUNIT_ASSERT(m.deflateMessagesOut > 0);
		CPPUNIT_ASSERT(m.inflateMessagesIn > 0);
		CPPUNIT_ASSERT(m.deflateWireBytesOut < m.deflatePayloadBytesOut);
		CPPUNIT_ASSERT(m.inflateWireBytesIn < m.inflatePayloadBytesIn);
	}

	/// Messages went through and none of them compressed, either way.
	static void expectNothingCompressed(TestHost& host)
	{
		const host::Metrics m = host.server().metrics();
		CPPUNIT_ASSERT(m.messagesIn > 0);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), m.deflateMessagesOut);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), m.inflateMessagesIn);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostDeflateClientsTest, "host");
