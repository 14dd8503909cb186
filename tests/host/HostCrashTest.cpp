//
// HostCrashTest.cpp — a fatal signal inside plugin code in the real parley-host binary: the
// process dies by the same signal as it would have, and its stderr has exactly one line naming
// the plugin, its version and file, the route and the loop (or worker).
//
#include "HostProcess.h"
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/Process.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <csignal>
#include <fstream>
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
		_dir = Poco::Path::temp() + "parley-crash-test-" + std::to_string(Poco::Process::id()) + "/";
		Poco::File(_dir).createDirectories();
	}

	void tearDown() override
	{
		try
		{
			Poco::File(_dir).remove(true);
		}
		catch (...)
		{
		}
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
		const std::string line = "parley-host: " + name + " in plugin 'faulty' 1.2.3 (file " + _dir + "plugins/faulty.so) "
			"on route /faulty, " + thread + "; the host dies with the signal\n";
		CPPUNIT_ASSERT_MESSAGE(out, out.find(line) != std::string::npos);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(out, out.find(name), out.rfind(name));   // one line, nothing else about it
	}

	/// A configuration on free ports whose plugin folder holds the test plugin faulty.
	std::string writeConfig(const std::string& body)
	{
		const std::string plugins = _dir + "plugins/";
		if (!Poco::File(plugins).exists())
		{
			Poco::File(plugins).createDirectories();
			Poco::File(testPluginDir() + "/faulty.so").copyTo(plugins);
		}
		static int counter = 0;
		const std::string path = _dir + "host-" + std::to_string(counter++) + ".properties";
		std::ofstream out(path);
		out << "server.address = 127.0.0.1\nserver.port = 0\nadmin.port = 0\nplugins.watch = false\nplugins.dir = " << plugins
			<< "\nroute./faulty = faulty\n" << body;
		return path;
	}

	std::string _dir;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostCrashTest, "host");
