//
// ClientRunner.h — runs the real parley-client binary for the client tests: arguments in, stdin
// fed and closed, exit code, stdout and stderr out.
//
#ifndef PARLEY_TEST_CLIENTRUNNER_INCLUDED
#define PARLEY_TEST_CLIENTRUNNER_INCLUDED

#include "support/TestEnv.h"
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>
#include <string>
#include <thread>
#include <vector>

namespace parley {
namespace test {

struct ClientResult
{
	int exitCode = -1;
	std::string out;
	std::string err;
};

/// Runs parley-client with args; `input` goes to its stdin (then closed).
inline ClientResult runClient(const std::vector<std::string>& args, const std::string& input = {})
{
	Poco::Pipe inPipe, outPipe, errPipe;
	Poco::ProcessHandle handle = Poco::Process::launch(binDir() + "/parley-client", args, &inPipe, &outPipe, &errPipe);
	{
		Poco::PipeOutputStream in(inPipe);
		in << input;
		in.close();
	}
	ClientResult r;
	std::thread errReader([&] {
		Poco::PipeInputStream es(errPipe);
		Poco::StreamCopier::copyToString(es, r.err);
	});
	Poco::PipeInputStream os(outPipe);
	Poco::StreamCopier::copyToString(os, r.out);
	errReader.join();
	r.exitCode = handle.wait();
	return r;
}

/// The number of lines (newlines) in s.
inline std::size_t lines(const std::string& s)
{
	std::size_t n = 0;
	for (char c : s) n += c == '\n';
	return n;
}

} // namespace test
} // namespace parley

#endif
