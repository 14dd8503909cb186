//
// ClientAppTest.cpp — the parley-client binary run as a process against the real host.
//
#include "client/ClientTestHost.h"
#include "support/TestEnv.h"
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>
#include <Poco/TemporaryFile.h>
#include "support/Ports.h"
#include <cppunit/extensions/HelperMacros.h>
#include <arpa/inet.h>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace parley;

namespace {

struct Result
{
	int exitCode = -1;
	std::string out;
	std::string err;
};

Result runClient(const std::vector<std::string>& args)
{
	Poco::Pipe outPipe, errPipe;
	Poco::ProcessHandle handle = Poco::Process::launch(test::binDir() + "/parley-client", args, nullptr, &outPipe, &errPipe);
	Result r;
	// Read stderr on a second thread so that neither pipe can fill up and block the client.
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

std::size_t lines(const std::string& s)
{
	std::size_t n = 0;
	for (char c : s)
		n += c == '\n';
	return n;
}

using parley::test::closedPort;

} // namespace

class ClientAppTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ClientAppTest);
	CPPUNIT_TEST(testDefaultExchange);
	CPPUNIT_TEST(testConnsAndWindow);
	CPPUNIT_TEST(testMismatchExitsNonZero);
	CPPUNIT_TEST(testConfigFile);
	CPPUNIT_TEST(testBadConfigValue);
	CPPUNIT_TEST(testBadUrl);
	CPPUNIT_TEST(testRefusedPort);
	CPPUNIT_TEST(testHttpRefusal);
	CPPUNIT_TEST(testUnknownOption);
	CPPUNIT_TEST(testHelp);
	CPPUNIT_TEST(testInteractive);
	CPPUNIT_TEST_SUITE_END();

public:
	void testDefaultExchange()
	{
		test::ClientTestHost host;
		Result r = runClient({"--url", host.url("/ws"), "--expect", "random-suffix"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, std::size_t(1), lines(r.out));
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("parley-client: sent=10000 received=10000 verified=10000 mismatched=0 missing=0 ") == 0);
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.empty());  // stderr is not a terminal: no progress bar
	}

	void testConnsAndWindow()
	{
		test::ClientTestHost host;
		Result r = runClient({"--url=" + host.url("/ws"), "--count=20000", "--window=256", "--conns=4", "--expect=random-suffix", "--size=40"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("verified=20000 mismatched=0 missing=0") != std::string::npos);
	}

	void testMismatchExitsNonZero()
	{
		test::ClientTestHost host;
		Result r = runClient({"--url", host.url("/echo"), "--count", "100", "--expect", "random-suffix"});
		CPPUNIT_ASSERT_EQUAL(1, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("verified=0 mismatched=100") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("parley-client: first mismatch: connection 0 message 0") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, std::size_t(1), lines(r.err));
	}

	void testConfigFile()
	{
		test::ClientTestHost host;
		Poco::TemporaryFile file;
		{
			std::ofstream out(file.path());
			out << "# test\nclient.url = " << host.url("/ws") << "\nclient.count = 777\nclient.window = 7\n"
				<< "client.expect = random-suffix\nclient.separator = \" \"\nclient.min = 0\nclient.max = 999999\n"
				<< "client.conns = 2\nclient.size = 0\nclient.timeout_ms = 5000\n";
		}
		Result r = runClient({"--config=" + file.path()});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("verified=777 ") != std::string::npos);
		// The command line wins over the file.
		r = runClient({"--config=" + file.path(), "--count=55"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("verified=55 ") != std::string::npos);
		// The lead's shipped file is readable and complete (its URL points at 8080: override it).
		r = runClient({"--config=" + test::sourceDir() + "/etc/parley-client.properties", "--url=" + host.url("/ws"), "--count=100"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
	}

	void testBadConfigValue()
	{
		Poco::TemporaryFile file;
		{
			std::ofstream out(file.path());
			out << "client.window = lots\n";
		}
		Result r = runClient({"--config=" + file.path()});
		CPPUNIT_ASSERT_EQUAL(2, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, std::size_t(1), lines(r.err));
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("client.window in " + file.path()) != std::string::npos);
		r = runClient({"--config=/nonexistent/parley-client.properties"});
		CPPUNIT_ASSERT_EQUAL(2, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("'/nonexistent/parley-client.properties' does not exist") != std::string::npos);
	}

	void testBadUrl()
	{
		Result r = runClient({"--url", "http://127.0.0.1:8080/ws"});
		CPPUNIT_ASSERT(r.exitCode != 0);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, std::size_t(1), lines(r.err));
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("parley-client: bad URL 'http://127.0.0.1:8080/ws'") == 0);
		CPPUNIT_ASSERT(r.out.empty());
	}

	void testRefusedPort()
	{
		const std::string url = "ws://127.0.0.1:" + std::to_string(closedPort()) + "/ws";
		Result r = runClient({"--url", url});
		CPPUNIT_ASSERT(r.exitCode != 0);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, std::size_t(1), lines(r.err));
		CPPUNIT_ASSERT_EQUAL("parley-client: cannot connect to " + url + ": Connection refused\n", r.err);
		CPPUNIT_ASSERT(r.out.empty());
	}

	void testHttpRefusal()
	{
		test::ClientTestHost host;
		Result r = runClient({"--url", host.url("/nope")});
		CPPUNIT_ASSERT(r.exitCode != 0);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, std::size_t(1), lines(r.err));
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("parley-client: handshake refused: HTTP 404") == 0);
	}

	void testUnknownOption()
	{
		Result r = runClient({"--frobnicate"});
		CPPUNIT_ASSERT_EQUAL(2, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, std::size_t(1), lines(r.err));
		CPPUNIT_ASSERT(r.err.find("frobnicate") != std::string::npos);
	}

	void testHelp()
	{
		Result r = runClient({"--help"});
		CPPUNIT_ASSERT_EQUAL(0, r.exitCode);
		for (const char* option : {"--url", "--count", "--window", "--conns", "--size", "--binary", "--expect", "--separator",
				 "--min", "--max", "--timeout-ms", "--config", "--quiet", "--interactive"})
			CPPUNIT_ASSERT_MESSAGE(option, r.out.find(option) != std::string::npos);
	}

	void testInteractive()
	{
		test::ClientTestHost host;
		Poco::Pipe inPipe, outPipe, errPipe;
		Poco::ProcessHandle handle = Poco::Process::launch(test::binDir() + "/parley-client",
			{"--interactive", "--url", host.url("/echo")}, &inPipe, &outPipe, &errPipe);
		{
			Poco::PipeOutputStream in(inPipe);
			in << "hello there\n//slash\n/binary 00ff\n/close 4001 bye\n";
			in.close();
		}
		std::string out, err;
		std::thread errReader([&] {
			Poco::PipeInputStream es(errPipe);
			Poco::StreamCopier::copyToString(es, err);
		});
		Poco::PipeInputStream os(outPipe);
		Poco::StreamCopier::copyToString(os, out);
		errReader.join();
		int code = handle.wait();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(err, 0, code);
		CPPUNIT_ASSERT_MESSAGE(out, out.find("< hello there\n") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(out, out.find("< /slash\n") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(out, out.find("< [binary 2 bytes] 00ff\n") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(out, out.find("< [close 4001]") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(err, err.find("closed 4001") != std::string::npos);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ClientAppTest, "client");
