//
// PluginWatcherTest.cpp — hot drop-in at the registry level: add, replace, remove, bad files.
//
#include "parley/PluginRegistry.h"
#include "parley/PluginWatcher.h"
#include "support/LogCapture.h"
#include "support/TestEnv.h"
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>
#include <cppunit/extensions/HelperMacros.h>
#include <fstream>
#include <functional>
#include <thread>

using namespace parley;

namespace {

std::string ask(Responder& responder, const std::string& text)
{
	Reply reply;
	const Message message{PayloadKind::Text, text};
	responder.respond(message, reply);
	return reply.bytes(message);
}

/// Waits up to 10 s for a condition.
bool eventually(const std::function<bool()>& condition)
{
	for (int i = 0; i < 1000; ++i)
	{
		if (condition()) return true;
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	return condition();
}

/// Copies a file into the folder the way the README says to deploy: copy, then rename.
void deploy(const std::string& from, const std::string& folder, const std::string& name)
{
	const std::string temp = folder + "/." + name + ".tmp";
	Poco::File(from).copyTo(temp);
	Poco::File(temp).renameTo(folder + "/" + name);
}

std::string extra(const std::string& file)
{
	return test::testPluginDir() + "/extra/" + file;
}

} // namespace

class PluginWatcherTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(PluginWatcherTest);
	CPPUNIT_TEST(testReplaceKeepsOldInstancesUntilRetired);
	CPPUNIT_TEST(testConstructorThrowsRefused);
	CPPUNIT_TEST(testWatcherAddReplaceRemove);
	CPPUNIT_TEST(testWatcherRefusesBadFilesAndKeepsServing);
	CPPUNIT_TEST(testHalfWrittenFileRetriedWhenComplete);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_dir.reset(new Poco::TemporaryFile);
		Poco::File(_dir->path()).createDirectories();
	}

	void tearDown() override
	{
		_dir.reset();
	}

	void testReplaceKeepsOldInstancesUntilRetired()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		const std::string file = _dir->path() + "/hot.so";
		Poco::File(extra("hot-v1.so")).copyTo(file);
		CPPUNIT_ASSERT(registry.loadLibrary(file));
		auto old = registry.create("hot", {});
		CPPUNIT_ASSERT_EQUAL(std::string("v1:a"), ask(*old, "a"));
		const auto generation = registry.generation();

		Poco::File(extra("hot-v2.so")).copyTo(file);
		CPPUNIT_ASSERT(registry.loadLibrary(file));
		CPPUNIT_ASSERT(registry.generation() > generation);
		auto fresh = registry.create("hot", {});
		CPPUNIT_ASSERT_EQUAL(std::string("v2:b"), ask(*fresh, "b"));
		// The old instance still runs the old code, and its library is still loaded.
		CPPUNIT_ASSERT_EQUAL(std::string("v1:c"), ask(*old, "c"));
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), registry.loadedLibraries());
		CPPUNIT_ASSERT(log.contains("plugin hot 1.0.0 replaced by 2.0.0 from " + file));
		CPPUNIT_ASSERT(!log.contains("retired"));

		old.reset();
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), registry.loadedLibraries());
		CPPUNIT_ASSERT(log.contains("plugin hot 1.0.0 retired (from " + file + ")"));
		CPPUNIT_ASSERT_EQUAL(std::string("v2:d"), ask(*fresh, "d"));

		CPPUNIT_ASSERT(registry.unloadLibrary(file));
		CPPUNIT_ASSERT(!registry.has("hot"));
		CPPUNIT_ASSERT_EQUAL(std::string("v2:e"), ask(*fresh, "e"));
		fresh.reset();
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), registry.loadedLibraries());
		CPPUNIT_ASSERT(log.contains("plugin hot 2.0.0 retired"));
	}

	void testConstructorThrowsRefused()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		std::string why;
		CPPUNIT_ASSERT(!registry.loadLibrary(extra("ctor-throws.so"), &why));
		CPPUNIT_ASSERT(why.find("constructor failed: cannot start: no database") != std::string::npos);
		CPPUNIT_ASSERT(!registry.has("ctor-throws"));
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), registry.loadedLibraries());
	}

	void testWatcherAddReplaceRemove()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		PluginWatcher watcher(registry, _dir->path(), log.logger(), std::chrono::milliseconds(100));
		deploy(extra("hot-v1.so"), _dir->path(), "hot.so");
		CPPUNIT_ASSERT_MESSAGE(log.dump(), eventually([&] { return registry.has("hot"); }));
		CPPUNIT_ASSERT_EQUAL(std::string("v1:x"), ask(*registry.create("hot", {}), "x"));

		deploy(extra("hot-v2.so"), _dir->path(), "hot.so");
		CPPUNIT_ASSERT_MESSAGE(log.dump(), eventually([&] { return log.contains("replaced by 2.0.0"); }));
		CPPUNIT_ASSERT_EQUAL(std::string("v2:x"), ask(*registry.create("hot", {}), "x"));

		Poco::File(_dir->path() + "/hot.so").remove();
		CPPUNIT_ASSERT_MESSAGE(log.dump(), eventually([&] { return !registry.has("hot"); }));
		CPPUNIT_ASSERT(log.contains("plugin hot 2.0.0 removed"));
	}

	void testWatcherRefusesBadFilesAndKeepsServing()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		deploy(test::pluginDir() + "/echo.so", _dir->path(), "echo.so");
		registry.loadDirectory(_dir->path());
		PluginWatcher watcher(registry, _dir->path(), log.logger(), std::chrono::milliseconds(100));
		deploy(test::testPluginDir() + "/not-a-library.so", _dir->path(), "junk.so");
		deploy(test::testPluginDir() + "/wrong-api.so", _dir->path(), "wrong-api.so");
		deploy(extra("ctor-throws.so"), _dir->path(), "ctor-throws.so");
		CPPUNIT_ASSERT_MESSAGE(log.dump(), eventually([&] { return watcher.processed() >= 3; }));
		CPPUNIT_ASSERT_EQUAL(3, log.count("refused"));
		CPPUNIT_ASSERT(log.contains(_dir->path() + "/junk.so refused: not a loadable library"));
		CPPUNIT_ASSERT(log.contains(_dir->path() + "/wrong-api.so refused: API version 999"));
		CPPUNIT_ASSERT(log.contains(_dir->path() + "/ctor-throws.so refused"));
		CPPUNIT_ASSERT(registry.has("echo"));
		CPPUNIT_ASSERT_EQUAL(std::string("still"), ask(*registry.create("echo", {}), "still"));
	}

	void testHalfWrittenFileRetriedWhenComplete()
	{
		test::LogCapture log;
		PluginRegistry registry(log.logger());
		PluginWatcher watcher(registry, _dir->path(), log.logger(), std::chrono::milliseconds(100));
		// Written in place, in two halves with a pause longer than the debounce: the first half is
		// refused, the whole file loads once it is complete.
		std::ifstream in(extra("hot-v1.so"), std::ios::binary);
		const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
		const std::string file = _dir->path() + "/hot.so";
		{
			std::ofstream out(file, std::ios::binary);
			out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
		}
		CPPUNIT_ASSERT_MESSAGE(log.dump(), eventually([&] { return log.contains("refused"); }));
		CPPUNIT_ASSERT(!registry.has("hot"));
		{
			std::ofstream out(file, std::ios::binary | std::ios::app);
			out.write(bytes.data() + bytes.size() / 2, static_cast<std::streamsize>(bytes.size() - bytes.size() / 2));
		}
		CPPUNIT_ASSERT_MESSAGE(log.dump(), eventually([&] { return registry.has("hot"); }));
		CPPUNIT_ASSERT_EQUAL(std::string("v1:ok"), ask(*registry.create("hot", {}), "ok"));
	}

private:
	std::unique_ptr<Poco::TemporaryFile> _dir;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(PluginWatcherTest, "core");
