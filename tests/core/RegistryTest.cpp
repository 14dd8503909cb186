//
// RegistryTest.cpp — PluginRegistry with the real plugins of the build and test plugins.
//
#include "parley/PluginRegistry.h"
#include "support/LogCapture.h"
#include "support/TestEnv.h"
#include <Poco/File.h>
#include <Poco/TemporaryFile.h>
#include <cppunit/extensions/HelperMacros.h>

using namespace parley;

class RegistryTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(RegistryTest);
	CPPUNIT_TEST(testLoadsBuildPlugins);
	CPPUNIT_TEST(testCreateAndRespond);
	CPPUNIT_TEST(testWrongApiVersionRefused);
	CPPUNIT_TEST(testNotALibraryRefused);
	CPPUNIT_TEST(testNoManifestRefused);
	CPPUNIT_TEST(testFolderKeepsGoodPlugins);
	CPPUNIT_TEST(testMissingFolder);
	CPPUNIT_TEST(testUnknownPlugin);
	CPPUNIT_TEST(testBadSettingNamesKey);
	CPPUNIT_TEST(testDuplicateNameRefused);
	CPPUNIT_TEST_SUITE_END();

public:
	void testLoadsBuildPlugins()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		const std::vector<std::string> expected{"broadcast", "echo", "json-stamp", "jwt", "random-suffix", "rate-limit", "ticker", "uppercase", "whoami"};
		CPPUNIT_ASSERT_EQUAL(expected.size(), registry.loadDirectory(test::pluginDir()));
		auto plugins = registry.plugins();
		CPPUNIT_ASSERT_EQUAL(expected.size(), plugins.size());
		for (std::size_t i = 0; i < expected.size(); ++i)
		{
			CPPUNIT_ASSERT(registry.has(expected[i]));
			CPPUNIT_ASSERT_EQUAL(expected[i], plugins[i].name);
			CPPUNIT_ASSERT_EQUAL(std::string("1.0.0"), plugins[i].version);
			CPPUNIT_ASSERT(!plugins[i].description.empty());
		}
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), plugins[4].settings.size());
		CPPUNIT_ASSERT_EQUAL(std::string("separator"), plugins[4].settings[0].first);
		CPPUNIT_ASSERT(log.contains("plugin echo 1.0.0 loaded from"));
	}

	void testCreateAndRespond()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		registry.loadDirectory(test::pluginDir());
		auto echo = registry.create("echo", {});
		Reply reply;
		const Message message{PayloadKind::Binary, std::string_view("\0\1\2", 3)};
		echo->respond(message, reply);
		CPPUNIT_ASSERT(reply.action == Reply::Action::Send);
		CPPUNIT_ASSERT(reply.kind == PayloadKind::Binary);
		CPPUNIT_ASSERT_EQUAL(std::string("\0\1\2", 3), reply.bytes(message));
	}

	void testWrongApiVersionRefused()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		std::string why;
		const std::string path = test::testPluginDir() + "/wrong-api.so";
		CPPUNIT_ASSERT(!registry.loadLibrary(path, &why));
		CPPUNIT_ASSERT(why.find("API version 999") != std::string::npos);
		CPPUNIT_ASSERT(!registry.has("wrong-api"));
		CPPUNIT_ASSERT_EQUAL(1, log.count("refused"));
		CPPUNIT_ASSERT(log.contains(path));
	}

	void testNotALibraryRefused()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		std::string why;
		const std::string path = test::testPluginDir() + "/not-a-library.so";
		CPPUNIT_ASSERT(!registry.loadLibrary(path, &why));
		CPPUNIT_ASSERT(why.find("not a loadable library") != std::string::npos);
		CPPUNIT_ASSERT(log.contains(path));
	}

	void testNoManifestRefused()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		std::string why;
		CPPUNIT_ASSERT(!registry.loadLibrary(test::testPluginDir() + "/no-manifest.so", &why));
		CPPUNIT_ASSERT(why.find("not a Parley plugin") != std::string::npos);
	}

	void testFolderKeepsGoodPlugins()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		// test-plugins holds good ones (throwing, closer, sleepy, isolate-crash, isolate-stall, faulty,
		// relay; three gates) and three bad files.
		const std::size_t loaded = registry.loadDirectory(test::testPluginDir());
		CPPUNIT_ASSERT_EQUAL(std::size_t(10), loaded);
		CPPUNIT_ASSERT(registry.has("isolate-crash") && registry.has("isolate-stall") && registry.has("faulty"));
		CPPUNIT_ASSERT(registry.has("sleepy"));
		CPPUNIT_ASSERT(registry.has("faulty"));
		CPPUNIT_ASSERT(registry.has("throwing"));
		CPPUNIT_ASSERT(registry.has("closer"));
		CPPUNIT_ASSERT(registry.has("relay"));
		for (const char* gate : {"header-gate", "sleepy-gate", "throwing-gate"})
			CPPUNIT_ASSERT_EQUAL(std::string("gate"), registry.kindOf(gate));
		CPPUNIT_ASSERT_EQUAL(std::string("responder"), registry.kindOf("sleepy"));
		CPPUNIT_ASSERT_EQUAL(std::string(), registry.kindOf("nothing"));
		// Each kind is made by its own factory only.
		CPPUNIT_ASSERT(registry.createGate("header-gate", {}) != nullptr);
		CPPUNIT_ASSERT_THROW(registry.create("header-gate", {}), std::invalid_argument);
		CPPUNIT_ASSERT_THROW(registry.createGate("sleepy", {}), std::invalid_argument);
		CPPUNIT_ASSERT_EQUAL(3, log.count("refused"));
	}

	void testMissingFolder()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		try
		{
			registry.loadDirectory("/nonexistent/parley-plugins");
			CPPUNIT_FAIL("expected an error");
		}
		catch (const std::runtime_error& e)
		{
			CPPUNIT_ASSERT(std::string(e.what()).find("/nonexistent/parley-plugins") != std::string::npos);
			CPPUNIT_ASSERT(std::string(e.what()).find("plugins.dir") != std::string::npos);
		}
	}

	void testUnknownPlugin()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		registry.loadDirectory(test::pluginDir());
		CPPUNIT_ASSERT_THROW(registry.create("nope", {}), std::invalid_argument);
	}

	void testBadSettingNamesKey()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		registry.loadDirectory(test::pluginDir());
		try
		{
			registry.create("random-suffix", Settings{{"max", "lots"}});
			CPPUNIT_FAIL("expected invalid_argument");
		}
		catch (const std::invalid_argument& e)
		{
			CPPUNIT_ASSERT_EQUAL(std::string("plugin.random-suffix: max: 'lots' is not an integer"), std::string(e.what()));
		}
	}

	void testDuplicateNameRefused()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		CPPUNIT_ASSERT(registry.loadLibrary(test::pluginDir() + "/echo.so"));
		// Same plugin name from another path (a copy) is refused while the first stays.
		Poco::TemporaryFile copy;
		const std::string copyPath = copy.path() + ".so";
		Poco::File(test::pluginDir() + "/echo.so").copyTo(copyPath);
		std::string why;
		CPPUNIT_ASSERT(!registry.loadLibrary(copyPath, &why));
		Poco::File(copyPath).remove();
		CPPUNIT_ASSERT(why.find("already loaded") != std::string::npos);
		CPPUNIT_ASSERT(registry.has("echo"));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(RegistryTest, "core");
