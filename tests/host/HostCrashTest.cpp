//
// HostCrashTest.cpp — a fatal signal inside plugin code in the real parley-host binary: the
// process dies by the same signal as it would have, and its stderr has exactly one line naming
// the plugin, its version and file, the route and the loop (or worker).
//
#include "HostFiles.h"
#include "HostProcess.h"
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <csignal>
#include <memory>
#include <string>

using namespace parley::test;

class HostCrashTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostCrashTest);
	CPPUNIT_TEST(testSegfaultInResponder);
	CPPUNIT_TEST(testAbortInResponder);
	CPPUNIT_TEST(testStackOverflowInResponder);
	CPPUNIT_TEST(testSegfaultOnWorker);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_files = std::make_unique<HostFiles>("crash");
		_files->copyPlugins(testPluginDir(), {"faulty.so"});
	}

	void tearDown() override
	{
		_files.reset();
	}

	void testSegfaultInResponder() { crash("crash", SIGSEGV, "SIGSEGV", "event loop 0", ""); }

	void testAbortInResponder() { crash("abort", SIGABRT, "SIGABRT", "event loop 0", ""); }

	/// The handler runs on its own stack: a stack overflow is named too.
	void testStackOverflowInResponder() { crash("overflow", SIGSEGV, "SIGSEGV", "event loop 0", ""); }

	void testSegfaultOnWorker()
	{
		crash("crash", SIGSEGV, "SIGSEGV", "worker 0", "plugin.faulty.blocking = true\nplugins.workers = 1\n");
	}

private:
	/// Sends `message` to /faulty: the host dies by `signal` after one line naming the plugin.
	void crash(const std::string& message, int signal, const std::string& name, const std::string& thread,
		const std::string& extra)
	{
		HostProcess host(writeConfig("engine.threads = 1\n" + extra), 30);
		WsClient client(host.port, "/faulty");
		client.sendText("hello");
		CPPUNIT_ASSERT_EQUAL(std::string("hello"), client.readFrame().payload);
		client.sendText(message);
		const int code = host.runner.wait();
		const std::string& out = host.runner.output();
		CPPUNIT_ASSERT_MESSAGE(out, !host.runner.killed());
		// Poco::ProcessHandle::wait() returns 256 + the signal for a process a signal ended.
		CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 256 + signal, code);
		const std::string line = "parley-host: " + name + " in plugin 'faulty' 1.2.3 (file " + _files->plugins() + "faulty.so) "
			"on route /faulty, " + thread + "; the host dies with the signal\n";
		CPPUNIT_ASSERT_MESSAGE(out, out.find(line) != std::string::npos);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(out, out.find(name), out.rfind(name));   // one line, nothing else about it
	}

	/// A configuration on free ports whose plugin folder holds the test plugin faulty.
	std::string writeConfig(const std::string& body) { return _files->writeConfig("route./faulty = faulty\n" + body); }

	std::unique_ptr<HostFiles> _files;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostCrashTest, "host");
