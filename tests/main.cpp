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
#include <cppunit/TestSuite.h>
#include "parley/host/IsolatedChild.h"
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

namespace {

/// Collects the leaf tests whose full name contains `filter`.
void collect(CppUnit::Test* test, const std::string& filter, std::vector<CppUnit::Test*>& out)
{
	if (test->getChildTestCount() == 0)
	{
		if (test->getName().find(filter) != std::string::npos) out.push_back(test);
		return;
	}
	for (int i = 0; i < test->getChildTestCount(); ++i) collect(test->getChildTestAt(i), filter, out);
}

} // namespace

int main(int argc, char** argv)
{
	// In-process host tests with isolated routes start this binary as their children.
	if (parley::host::isIsolatedChild(argc, argv)) return parley::host::runIsolatedChild(argc, argv);
	std::signal(SIGPIPE, SIG_IGN);
	std::string group = argc > 1 ? argv[1] : "";
	std::string filter = argc > 2 ? argv[2] : "";

	auto* all = new CppUnit::TestSuite("all");
	if (group.empty() || group == "all")
	{
		for (const char* name : {"core", "plugins", "host", "client", "gui"})
			all->addTest(CppUnit::TestFactoryRegistry::getRegistry(name).makeTest());
	}
	else
	{
		all->addTest(CppUnit::TestFactoryRegistry::getRegistry(group).makeTest());
	}
	CppUnit::TestRunner runner;
	if (filter.empty())
	{
		runner.addTest(all);
	}
	else
	{
		// The matching tests move into their own suite; the rest of the tree is left unrun (and
		// not deleted, since the new suite owns the matches now).
		std::vector<CppUnit::Test*> matches;
		collect(all, filter, matches);
		auto* selected = new CppUnit::TestSuite("selected");
		for (auto* test : matches) selected->addTest(test);
		runner.addTest(selected);
	}

	CppUnit::TestResult controller;
	CppUnit::TestResultCollector result;
	controller.addListener(&result);
	CppUnit::BriefTestProgressListener progress;
	controller.addListener(&progress);
	try
	{
		runner.run(controller);
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
