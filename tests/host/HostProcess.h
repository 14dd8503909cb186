//
// HostProcess.h — a real parley-host binary started by a test on free ports (its configuration
// file says server.port = 0 and admin.port = 0; the ports come from its start-up line), with its
// log read line by line and signals sent to it.
//
#ifndef PARLEY_TESTS_HOST_HOSTPROCESS_INCLUDED
#define PARLEY_TESTS_HOST_HOSTPROCESS_INCLUDED

#include "HostTestSupport.h"
#include "ProcessRunner.h"
#include <cppunit/extensions/HelperMacros.h>
#include <csignal>
#include <string>
#include <vector>

namespace parley {
namespace test {

class HostProcess
{
public:
	/// Starts parley-host --config=`configFile` (plus `extraArgs`) and reads its log up to the
	/// start-up line; fails the test if the host does not start. Killed after `limitSeconds`.
	explicit HostProcess(const std::string& configFile, int limitSeconds = 60, const std::vector<std::string>& extraArgs = {})
		: runner(binDir() + "/parley-host", arguments(configFile, extraArgs), limitSeconds)
	{
		std::string line;
		while (port == 0 && runner.readLine(line))
		{
			const std::string marker = "listening on ";
			const std::size_t at = line.find(marker);
			if (at == std::string::npos) continue;
			const std::size_t colon = line.find(':', line.find("127.0.0.1", at));
			port = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
			const std::string admin = "operator endpoints on http://127.0.0.1:";
			adminPort = static_cast<std::uint16_t>(std::stoi(line.substr(line.find(admin) + admin.size())));
		}
		CPPUNIT_ASSERT_MESSAGE(runner.output(), port != 0);
	}

	void signal(int number) { CPPUNIT_ASSERT_EQUAL(0, ::kill(runner.pid(), number)); }

	/// Reads the log until a line contains `text`; fails the test at the end of the log.
	void waitFor(const std::string& text)
	{
		std::string line;
		while (runner.readLine(line))
			if (line.find(text) != std::string::npos) return;
		CPPUNIT_FAIL("no line with '" + text + "' in: " + runner.output());
	}

	ProcessRunner runner;
	std::uint16_t port = 0;
	std::uint16_t adminPort = 0;

private:
	static std::vector<std::string> arguments(const std::string& configFile, std::vector<std::string> extra)
	{
		extra.insert(extra.begin(), "--config=" + configFile);
		return extra;
	}
};

} // namespace test
} // namespace parley

#endif
