//
// SdkTemplateTest.cpp — the SDK's plugin template, built out of tree against an installed Parley
// (cmake --install), gives a responder and a gate that the registry loads and runs. (Dropping
// them into a running host is the host suite's part.)
//
#include "parley/Gate.h"
#include "parley/PluginRegistry.h"
#include "host/HostFiles.h"
#include "support/LogCapture.h"
#include <Poco/File.h>
#include <cppunit/extensions/HelperMacros.h>
#include <cstdlib>
#include <fstream>
#include <string>

using namespace parley;
using parley::test::Folder;

namespace {

GateVerdict check(Gate& gate, const std::string& address, const Headers& headers = {}, const std::string& query = "")
{
	GateRequest request;
	request.method = "GET";
	request.path = "/mine";
	request.query = query;
	request.remoteAddress = address;
	request.remotePort = 50000;
	request.headers = &headers;
	GateVerdict verdict;
	gate.check(request, verdict);
	return verdict;
}

std::string readAll(const std::string& file)
{
	std::ifstream in(file);
	return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

} // namespace

class SdkTemplateTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(SdkTemplateTest);
	CPPUNIT_TEST(testTemplateBuildsAgainstInstalledSdk);
	CPPUNIT_TEST_SUITE_END();

public:
	void testTemplateBuildsAgainstInstalledSdk()
	{
		Folder prefix, work;
		const std::string log = work.file("log.txt");
		auto run = [&](const std::string& command) {
			const int code = std::system((command + " >> " + log + " 2>&1").c_str());
			CPPUNIT_ASSERT_EQUAL_MESSAGE(command + "\n" + readAll(log), 0, code);
		};
		run("cmake --install " + std::string(PARLEY_BUILD_DIR) + " --prefix " + prefix.path);
		const std::string tmpl = prefix.path + "/share/parley/plugin-template";
		CPPUNIT_ASSERT_MESSAGE(tmpl, Poco::File(tmpl + "/MyGate.cpp").exists());
		Poco::File(tmpl).copyTo(work.file("src"));
		run("cmake -S " + work.file("src") + " -B " + work.file("build") + " -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" +
			prefix.path);
		run("cmake --build " + work.file("build"));

		test::LogCapture capture;
		PluginRegistry registry(capture.logger());
		CPPUNIT_ASSERT_MESSAGE(capture.dump(), registry.loadLibrary(work.file("build/my-plugin.so")));
		CPPUNIT_ASSERT_MESSAGE(capture.dump(), registry.loadLibrary(work.file("build/my-gate.so")));
		CPPUNIT_ASSERT_EQUAL(std::string("responder"), registry.kindOf("my-plugin"));
		CPPUNIT_ASSERT_EQUAL(std::string("gate"), registry.kindOf("my-gate"));
		CPPUNIT_ASSERT(capture.contains("plugin my-gate 0.1.0 loaded from"));

		// The responder: the message reversed.
		auto responder = registry.create("my-plugin", {{"prefix", ">"}});
		Reply reply;
		const Message message{PayloadKind::Text, "hello"};
		responder->respond(message, reply);
		CPPUNIT_ASSERT_EQUAL(std::string(">olleh"), reply.bytes(message));

		// The gate: loopback by default, as guest@<address>.
		auto gate = registry.createGate("my-gate", {});
		GateVerdict v = check(*gate, "127.0.0.1");
		CPPUNIT_ASSERT(v.admitted);
		CPPUNIT_ASSERT_EQUAL(std::string("guest@127.0.0.1"), v.identity);
		CPPUNIT_ASSERT_EQUAL(std::string("50000"), v.attributes["my-gate.port"]);
		CPPUNIT_ASSERT(check(*gate, "::1").admitted);
		v = check(*gate, "203.0.113.7");
		CPPUNIT_ASSERT(!v.admitted);
		CPPUNIT_ASSERT_EQUAL(403, v.status);
		CPPUNIT_ASSERT_EQUAL(std::string("address not allowed"), v.reason);

		// With a key: from the X-Api-Key header or the api_key parameter.
		auto keyed = registry.createGate("my-gate", {{"allow", "*"}, {"key", "s3cret"}});
		v = check(*keyed, "203.0.113.7");
		CPPUNIT_ASSERT(!v.admitted);
		CPPUNIT_ASSERT_EQUAL(401, v.status);
		CPPUNIT_ASSERT_EQUAL(std::string("wrong or missing key"), v.reason);
		CPPUNIT_ASSERT(!check(*keyed, "203.0.113.7", {{"X-Api-Key", "s3cre"}}).admitted);
		CPPUNIT_ASSERT(check(*keyed, "203.0.113.7", {{"x-api-key", "s3cret"}}).admitted);
		CPPUNIT_ASSERT(check(*keyed, "203.0.113.7", {}, "api_key=s3cret").admitted);
		CPPUNIT_ASSERT_THROW(registry.createGate("my-gate", {{"allow", " , "}}), std::invalid_argument);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(SdkTemplateTest, "plugins");
