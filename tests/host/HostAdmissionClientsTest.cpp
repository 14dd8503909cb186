//
// HostAdmissionClientsTest.cpp — admission seen from clients nobody here wrote: Node's ws,
// python3-websockets and python3-websocket, and a real browser (Debian's chromium, headless,
// driven over the DevTools protocol). Subprotocols, origins and the jwt gate with whoami.
//
#include "HostTestSupport.h"
#include "ProcessRunner.h"
#include "support/Ports.h"
#include <cppunit/extensions/HelperMacros.h>

using namespace parley;
using namespace parley::test;

namespace {

const char* const Secret = "parley-test-secret-0123456789abcdef";

/// A host with the routes the client scripts expect; `pagePort`: the browser page's origin.
void admissionRoutes(HostConfig& c, std::uint16_t pagePort)
{
	c.originsSet = true;
	c.origins = OriginList::parse("http://localhost:*, http://127.0.0.1:" + std::to_string(pagePort));
	c.routes["/proto"] = {"echo"};
	c.routeOptions["/proto"].subprotocols = {"graphql-transport-ws", "chat.v1"};
	c.routes["/strict"] = {"echo"};
	c.routeOptions["/strict"].hasOrigins = true;
	c.routeOptions["/strict"].origins = OriginList::parse("https://only.example.net");
	c.routes["/private"] = {"whoami"};
	c.routeOptions["/private"].gates = {"jwt"};
	c.pluginSettings["jwt"]["secret"] = Secret;
}

} // namespace

class HostAdmissionClientsTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostAdmissionClientsTest);
	CPPUNIT_TEST(testPythonClients);
	CPPUNIT_TEST(testNodeWs);
	CPPUNIT_TEST(testHeadlessChromium);
	CPPUNIT_TEST_SUITE_END();

public:
	void testPythonClients()
	{
		TestHost host([](HostConfig& c) { admissionRoutes(c, 1); });
		ProcessRunner python(parley::test::python(),
			{sourceDir() + "/tests/host/py/admission_clients.py", std::to_string(host.port()), Secret}, 120);
		const int code = python.wait();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(python.output(), 0, code);
		CPPUNIT_ASSERT_MESSAGE(python.output(), python.output().find("all admission checks passed") != std::string::npos);
	}

	void testNodeWs()
	{
		CPPUNIT_ASSERT_MESSAGE("node and npm are needed (scripts/setup.sh installs them)", onPath("node") && onPath("npm"));
		TestHost host([](HostConfig& c) { admissionRoutes(c, 1); });
		const std::string dir = nodeTestDir("admission_client.js");
		ProcessRunner node("node", {dir + "/admission_client.js", std::to_string(host.port())}, 120);
		const int code = node.wait();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(node.output(), 0, code);
		CPPUNIT_ASSERT_MESSAGE(node.output(), node.output().find("all admission checks passed") != std::string::npos);
	}

	void testHeadlessChromium()
	{
		CPPUNIT_ASSERT_MESSAGE("chromium is needed (scripts/setup.sh installs it)", onPath("chromium"));
		const std::uint16_t pagePort = closedPort();
		TestHost host([pagePort](HostConfig& c) { admissionRoutes(c, pagePort); });
		ProcessRunner browser(parley::test::python(), {sourceDir() + "/tests/host/py/browser_admission.py", "chromium",
			std::to_string(host.port()), Secret, std::to_string(pagePort)}, 180);
		const int code = browser.wait();
		std::cout << "\n" << browser.output();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(browser.output(), 0, code);
		CPPUNIT_ASSERT_MESSAGE(browser.output(), browser.output().find("all browser checks passed") != std::string::npos);
		// What the host saw: the page's origin refused on /strict, the token-less socket refused
		// by the gate.
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), host.server().metrics().originRefusals);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), host.server().metrics().gateRefusals);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostAdmissionClientsTest, "host");
