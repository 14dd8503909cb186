//
// ClientAppTest.cpp — the parley-client binary run as a process against the real host.
//
#include "client/ClientTestHost.h"
#include "client/TlsTestServer.h"
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
#include <condition_variable>
#include <fstream>
#include <mutex>
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
	CPPUNIT_TEST(testWssWithCaFile);
	CPPUNIT_TEST(testWssInsecure);
	CPPUNIT_TEST(testWssUntrusted);
	CPPUNIT_TEST(testBadCaOption);
	CPPUNIT_TEST(testTlsConfigKeys);
	CPPUNIT_TEST(testInteractiveWss);
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
				 "--min", "--max", "--timeout-ms", "--config", "--quiet", "--interactive", "--insecure", "--ca", "wss://"})
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

	void testWssWithCaFile()
	{
		test::TestCertificate cert;
		test::TlsEchoServer server(cert);
		Result r = runClient({"--url=" + server.url(), "--ca=" + cert.certFile(), "--count=10000", "--expect=echo"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, std::size_t(1), lines(r.out));
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("parley-client: sent=10000 received=10000 verified=10000 mismatched=0 missing=0 ") == 0);
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.empty());
	}

	void testWssInsecure()
	{
		test::TestCertificate cert("DNS:example.com");
		test::TlsEchoServer server(cert);
		Result r = runClient({"--url=" + server.url("/echo"), "--insecure", "--count=2000", "--conns=2", "--expect=echo"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("verified=2000 mismatched=0 missing=0") != std::string::npos);
	}

	void testWssUntrusted()
	{
		test::TestCertificate cert;
		test::TlsEchoServer server(cert);
		Result r = runClient({"--url=" + server.url(), "--count=100"});
		CPPUNIT_ASSERT_EQUAL(1, r.exitCode);
		CPPUNIT_ASSERT_EQUAL("parley-client: TLS handshake with " + server.url()
				+ " failed: certificate verify failed (self-signed certificate)\n",
			r.err);
		CPPUNIT_ASSERT(r.out.empty());
	}

	void testBadCaOption()
	{
		// A path that is not there: a usage error, before connecting.
		Result r = runClient({"--url=wss://127.0.0.1:9/", "--ca=/nonexistent/ca.pem"});
		CPPUNIT_ASSERT_EQUAL(2, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, std::size_t(1), lines(r.err));
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("parley-client: bad value '/nonexistent/ca.pem' for --ca: ") == 0);
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("No such file or directory") != std::string::npos);
		CPPUNIT_ASSERT(r.out.empty());
		// A file without a certificate in it: the run fails with one line.
		test::TestCertificate cert;
		r = runClient({"--url=wss://127.0.0.1:9/", "--ca=" + cert.keyFile()});
		CPPUNIT_ASSERT_EQUAL(1, r.exitCode);
		CPPUNIT_ASSERT_EQUAL("parley-client: cannot load CA file '" + cert.keyFile() + "': no certificate or crl found\n", r.err);
	}

	void testTlsConfigKeys()
	{
		test::TestCertificate cert;
		test::TlsEchoServer server(cert);
		Poco::TemporaryFile file;
		{
			std::ofstream out(file.path());
			out << "client.url = " << server.url("/ws") << "\nclient.count = 300\nclient.expect = echo\nclient.insecure = false\n"
				<< "client.ca = " << cert.certFile() << "\n";
		}
		Result r = runClient({"--config=" + file.path()});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("verified=300 ") != std::string::npos);
		{
			std::ofstream out(file.path());
			out << "client.url = " << server.url("/ws") << "\nclient.count = 300\nclient.expect = echo\nclient.insecure = true\n"
				<< "client.ca =\n";
		}
		r = runClient({"--config=" + file.path()});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		{
			std::ofstream out(file.path());
			out << "client.insecure = sometimes\n";
		}
		r = runClient({"--config=" + file.path()});
		CPPUNIT_ASSERT_EQUAL(2, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, std::size_t(1), lines(r.err));
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("client.insecure in " + file.path()) != std::string::npos);
	}

	void testInteractiveWss()
	{
		test::TestCertificate cert;
		test::TlsEchoServer server(cert);
		Poco::Pipe inPipe, outPipe, errPipe;
		Poco::ProcessHandle handle = Poco::Process::launch(test::binDir() + "/parley-client",
			{"--interactive", "--url", server.url("/echo"), "--ca", cert.certFile()}, &inPipe, &outPipe, &errPipe);
		// A watchdog: the client waits for stdin, so a missing reply must not hang the test.
		std::mutex mutex;
		std::condition_variable finished;
		bool done = false;
		std::thread watchdog([&] {
			std::unique_lock<std::mutex> lock(mutex);
			if (!finished.wait_for(lock, std::chrono::seconds(20), [&] { return done; }))
				Poco::Process::kill(handle);
		});
		std::string err;
		std::thread errReader([&] {
			Poco::PipeInputStream es(errPipe);
			Poco::StreamCopier::copyToString(es, err);
		});
		Poco::PipeOutputStream in(inPipe);
		in << "hello over tls" << std::endl;
		// The echo server drops replies to messages that arrive after a close: end the input
		// (which closes with 1000) only once the reply is there.
		Poco::PipeInputStream os(outPipe);
		std::string out, line;
		while (std::getline(os, line))
		{
			out += line + "\n";
			if (line == "< hello over tls")
				in.close();
		}
		const int code = handle.wait();
		{
			std::lock_guard<std::mutex> lock(mutex);
			done = true;
		}
		finished.notify_all();
		watchdog.join();
		errReader.join();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(err, 0, code);
		CPPUNIT_ASSERT_MESSAGE(out, out.find("< hello over tls\n") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(err, err.find("closed 1000") != std::string::npos);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ClientAppTest, "client");
