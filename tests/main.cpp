//
// main.cpp — the one CppUnit runner. `parley-tests GROUP [TEST-NAME-SUBSTRING]` runs one named
// registry (core, plugins, host, client, gui); with no argument it runs all of them.
//
#include <cppunit/BriefTestProgressListener.h>
#include <cppunit/CompilerOutputter.h>
#include <cppunit/TestResult.h>
#include <cppunit/TestResultCollector.h>
#include <cppunit/TestRunner.h>
#include <cppunit/extensions/TestFactoryRegistry.h>
#include <csignal>
#include <iostream>
#include <string>

int main(int argc, char** argv)
{
	std::signal(SIGPIPE, SIG_IGN);
	std::string group = argc > 1 ? argv[1] : "";
	std::string filter = argc > 2 ? argv[2] : "";

	CppUnit::TestRunner runner;
	if (group.empty() || group == "all")
	{
		for (const char* name : {"core", "plugins", "host", "client", "gui"})
			runner.addTest(CppUnit::TestFactoryRegistry::getRegistry(name).makeTest());
	}
	else
	{
		runner.addTest(CppUnit::TestFactoryRegistry::getRegistry(group).makeTest());
	}

	CppUnit::TestResult controller;
	CppUnit::TestResultCollector result;
	controller.addListener(&result);
	CppUnit::BriefTestProgressListener progress;
	controller.addListener(&progress);
	try
	{
		runner.run(controller, filter);
	}
	catch (const std::exception& e)
	{
		std::cerr << "no test matches '" << filter << "' in group '" << group << "': " << e.what() << "\n";
		return 2;
	}
	CppUnit::CompilerOutputter outputter(&result, std::cerr);
	outputter.write();
	if (result.runTests() == 0)
	{
		std::cerr << "no tests ran in group '" << group << "'\n";
		return 2;
	}
	return result.wasSuccessful() ? 0 : 1;
}
