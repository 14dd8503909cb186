//
// ClientAppDeflateTest.cpp — parley-client --deflate and its sub-options (and their client.* keys),
// run as a process against a real third-party server with permessage-deflate (python3-websockets,
// tests/client/py/deflate_server.py): the summary says whether deflate was negotiated and shows
// payload and wire bytes both ways; the offer follows the options; bad values are usage errors;
// an invalid answer fails the run with one line.
//
#include "client/ClientTestHost.h"
#include "client/DeflateServer.h"
#include "client/RawFrameServer.h"
#include "support/TestEnv.h"
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>
#include <Poco/TemporaryFile.h>
#include "client/ClientRunner.h"
#include <cppunit/extensions/HelperMacros.h>
#include <fstream>
#include <thread>

using namespace parley;
using parley::test::DeflateServer;
using parley::test::RawFrameServer;

namespace {

using Result = test::ClientResult;
using test::lines;
using test::runClient;

/// Returns the value of "key=" in a summary line, up to the next space.
std::string field(const std::string& line, const std::string& key)
{
	const std::size_t at = line.find(" " + key + "=");
	if (at == std::string::npos)
		return {};
	const std::size_t from = at + key.size() + 2;
	return line.substr(from, line.find_first_of(" \n", from) - from);
}

} // namespace

class ClientAppDeflateTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ClientAppDeflateTest);
	CPPUNIT_TEST(testDeflateNegotiated);
	CPPUNIT_TEST(testDeflateAgainstParleyHost);
	CPPUNIT_TEST(testDeflateDeclined);
	CPPUNIT_TEST(testSubOptionsShapeTheOffer);
	CPPUNIT_TEST(testConfigKeys);
	CPPUNIT_TEST(testBadValues);
	CPPUNIT_TEST(testInvalidAnswer);
	CPPUNIT_TEST(testHelp);
	CPPUNIT_TEST(testInteractiveGreeting);
	CPPUNIT_TEST_SUITE_END();

public:
	void testDeflateNegotiated()
	{
		DeflateServer server;
		Result r = runClient({"--url=" + server.url("/echo"), "--deflate", "--expect=echo", "--size=200", "--count=10000"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, std::size_t(1), lines(r.out));
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("parley-client: sent=10000 received=10000 verified=10000 mismatched=0 missing=0 ") == 0);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, std::string("on"), field(r.out, "deflate"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, std::string("2000000B"), field(r.out, "payload-out"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, std::string("2000000B"), field(r.out, "payload-in"));
		const std::string wireOut = field(r.out, "wire-out");
		const std::string wireIn = field(r.out, "wire-in");
		CPPUNIT_ASSERT_MESSAGE(r.out, !wireOut.empty() && std::stoull(wireOut) < 2000000 / 4);
		CPPUNIT_ASSERT_MESSAGE(r.out, !wireIn.empty() && std::stoull(wireIn) < 2000000 / 4);
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.empty());
		const auto stats = server.waitStats(1);
		CPPUNIT_ASSERT(stats.size() == 1 && stats[0].messages == 10000 && stats[0].compressed == 10000);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(std::stoull(wireOut)), stats[0].wireBytes);
	}

	void testDeflateAgainstParleyHost()
	{
		// The same 10,000 verified messages against parley-host's /zecho (deflate on), then /echo
		// (off): the host's counters agree with the client's wire bytes.
		test::ClientTestHost host;
		Result r = runClient({"--url=" + host.url("/zecho"), "--deflate", "--expect=echo", "--size=200", "--count=10000",
			"--conns=4"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("parley-client: sent=10000 received=10000 verified=10000 mismatched=0 missing=0 ") == 0);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, std::string("on"), field(r.out, "deflate"));
		const std::string wireOut = field(r.out, "wire-out");
		const std::string wireIn = field(r.out, "wire-in");
		CPPUNIT_ASSERT_MESSAGE(r.out, !wireOut.empty() && std::stoull(wireOut) < 2000000 / 4);
		CPPUNIT_ASSERT_MESSAGE(r.out, !wireIn.empty() && std::stoull(wireIn) < 2000000 / 4);
		const host::Metrics m = host.metrics();
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10000), m.inflateMessagesIn);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10000), m.deflateMessagesOut);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(std::stoull(wireOut)), m.inflateWireBytesIn);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(std::stoull(wireIn)), m.deflateWireBytesOut);
		r = runClient({"--url=" + host.url("/echo"), "--deflate", "--expect=echo", "--size=200", "--count=1000"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, std::string("declined"), field(r.out, "deflate"));
	}

	void testDeflateDeclined()
	{
		DeflateServer server({"--compression", "none"});
		Result r = runClient({"--url=" + server.url(), "--deflate", "--expect=echo", "--count=2000", "--size=10"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, std::string("declined"), field(r.out, "deflate"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, field(r.out, "payload-out"), field(r.out, "wire-out"));
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("wire-out=20000B (100.0%)") != std::string::npos);
		// Without --deflate the summary says nothing about it.
		r = runClient({"--url=" + server.url(), "--expect=echo", "--count=100"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("deflate") == std::string::npos);
	}

	void testSubOptionsShapeTheOffer()
	{
		// Each sub-option implies --deflate.
		DeflateServer server;
		Result r = runClient({"--url=" + server.url(), "--deflate-level=9", "--deflate-window-bits=10",
			"--deflate-no-context-takeover", "--deflate-min-size=100", "--expect=echo", "--count=1000", "--size=150"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, std::string("on"), field(r.out, "deflate"));
		const std::string request = server.requests().at(0);
		CPPUNIT_ASSERT_MESSAGE(request, request.find("[\"Sec-WebSocket-Extensions\", \"permessage-deflate; server_no_context_takeover; "
			"client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=10\"]") != std::string::npos);
		const auto stats = server.waitStats(1);
		CPPUNIT_ASSERT(stats.size() == 1 && stats[0].compressed == 1000);
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
										 "server_max_window_bits=10; client_max_window_bits=10"),
			stats[0].extensions);
		// Below --deflate-min-size: sent as they are.
		r = runClient({"--url=" + server.url(), "--deflate-min-size=1000", "--expect=echo", "--count=500", "--size=150"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, field(r.out, "payload-out"), field(r.out, "wire-out"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, std::string("on"), field(r.out, "deflate"));
	}

	void testConfigKeys()
	{
		DeflateServer server;
		Poco::TemporaryFile file;
		{
			std::ofstream out(file.path());
			out << "client.url = " << server.url() << "\nclient.count = 700\nclient.expect = echo\nclient.size = 64\n"
				<< "client.deflate = true\nclient.deflate_level = 5\nclient.deflate_window_bits = 11\n"
				<< "client.deflate_no_context_takeover = false\nclient.deflate_min_size = 0\n";
		}
		Result r = runClient({"--config=" + file.path()});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("verified=700 ") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, std::string("on"), field(r.out, "deflate"));
		CPPUNIT_ASSERT(server.requests().at(0).find("\"permessage-deflate; server_max_window_bits=11; client_max_window_bits=11\"")
			!= std::string::npos);
		// In a file, the deflate_* keys alone do not turn it on.
		{
			std::ofstream out(file.path());
			out << "client.url = " << server.url() << "\nclient.count = 10\nclient.expect = echo\nclient.deflate_level = 5\n";
		}
		r = runClient({"--config=" + file.path()});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("deflate") == std::string::npos);
		// The shipped file lists the keys with their defaults (deflate off).
		r = runClient({"--config=" + test::sourceDir() + "/etc/parley-client.properties", "--url=" + server.url(), "--count=10",
			"--expect=echo"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("deflate") == std::string::npos);
	}

	void testBadValues()
	{
		struct Case
		{
			std::vector<std::string> args;
			std::string error;
		};
		const std::vector<Case> cases = {
			{{"--deflate-level=10"}, "parley-client: bad value '10' for --deflate-level: expected an integer in [0, 9]\n"},
			{{"--deflate-level=fast"}, "parley-client: bad value 'fast' for --deflate-level: expected an integer in [0, 9]\n"},
			{{"--deflate-window-bits=8"}, "parley-client: bad value '8' for --deflate-window-bits: expected an integer in [9, 15]\n"},
			{{"--deflate-window-bits=16"}, "parley-client: bad value '16' for --deflate-window-bits: expected an integer in [9, 15]\n"},
			{{"--deflate-min-size=-1"}, "parley-client: bad value '-1' for --deflate-min-size: expected an integer in [0, 1073741824]\n"},
		};
		for (const Case& c : cases)
		{
			Result r = runClient(c.args);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(c.args[0], 2, r.exitCode);
			CPPUNIT_ASSERT_EQUAL(c.error, r.err);
			CPPUNIT_ASSERT(r.out.empty());
		}
		Poco::TemporaryFile file;
		{
			std::ofstream out(file.path());
			out << "client.deflate = maybe\n";
		}
		Result r = runClient({"--config=" + file.path()});
		CPPUNIT_ASSERT_EQUAL(2, r.exitCode);
		CPPUNIT_ASSERT_EQUAL("parley-client: bad value 'maybe' for client.deflate in " + file.path() + ": expected true or false\n", r.err);
		// --deflate takes no value.
		r = runClient({"--deflate=yes"});
		CPPUNIT_ASSERT_EQUAL(2, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, std::size_t(1), lines(r.err));
	}

	void testInvalidAnswer()
	{
		RawFrameServer::Options o;
		o.extensions = {"permessage-deflate; client_max_window_bits=15; x=1"};
		RawFrameServer server(o);
		Result r = runClient({"--url=" + server.url(), "--deflate", "--count=10"});
		CPPUNIT_ASSERT_EQUAL(1, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, std::size_t(1), lines(r.err));
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("parley-client: handshake failed: bad Sec-WebSocket-Extensions "
			"'permessage-deflate; client_max_window_bits=15; x=1' in the 101 (offered 'permessage-deflate; client_max_window_bits'): ") == 0);
		CPPUNIT_ASSERT(server.frames().empty());
	}

	void testHelp()
	{
		Result r = runClient({"--help"});
		CPPUNIT_ASSERT_EQUAL(0, r.exitCode);
		for (const char* text : {"--deflate ", "--deflate-level", "--deflate-window-bits", "--deflate-no-context-takeover",
				 "--deflate-min-size", "permessage-deflate", "deflate_level"})
			CPPUNIT_ASSERT_MESSAGE(text, r.out.find(text) != std::string::npos);
	}

	void testInteractiveGreeting()
	{
		DeflateServer server;
		Result r = runClient({"--interactive", "--deflate", "--url=" + server.url()}, "");
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("parley-client: connected, permessage-deflate (permessage-deflate; "
			"server_max_window_bits=12; client_max_window_bits=12)") == 0);
		DeflateServer declining({"--compression", "none"});
		r = runClient({"--interactive", "--deflate", "--url=" + declining.url()}, "");
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("parley-client: connected, permessage-deflate declined by the server") == 0);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ClientAppDeflateTest, "client");
