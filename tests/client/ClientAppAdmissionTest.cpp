//
// ClientAppAdmissionTest.cpp — parley-client's --subprotocol, --origin, --header and --token (and
// their client.* keys), run as a process against a real third-party server (python3-websockets,
// tests/client/py/admission_server.py): what reaches the server, the selected subprotocol in the
// summary, refusals with their status, reason and body line, and bad values as usage errors.
//
#include "client/AdmissionServer.h"
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
using parley::test::AdmissionServer;

namespace {

using Result = test::ClientResult;
using test::lines;
using test::runClient;

std::size_t has(const std::string& request, const std::string& name, const std::string& value)
{
	return AdmissionServer::count(request, AdmissionServer::header(name, value));
}

} // namespace

class ClientAppAdmissionTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ClientAppAdmissionTest);
	CPPUNIT_TEST(testFlagsReachTheServer);
	CPPUNIT_TEST(testCommaListOnEveryConnection);
	CPPUNIT_TEST(testRefusal403);
	CPPUNIT_TEST(testRefusal401);
	CPPUNIT_TEST(testSubprotocolNotOffered);
	CPPUNIT_TEST(testBadValuesAreUsageErrors);
	CPPUNIT_TEST(testConfigKeys);
	CPPUNIT_TEST(testInteractive);
	CPPUNIT_TEST(testInteractiveRefused);
	CPPUNIT_TEST_SUITE_END();

public:
	void testFlagsReachTheServer()
	{
		AdmissionServer server({"--protocols", "chat.v1", "--token", "t0k.en", "--origin", "https://app.example"});
		Result r = runClient({"--url=" + server.url("/x?y=1"), "--count=100", "--expect=echo", "--subprotocol=chat.v2",
			"--subprotocol", "chat.v1", "--origin=https://app.example", "--token=t0k.en", "--header=X-A: 1",
			"-H", "X-B:  two words ", "--header=X-Empty:"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.out, std::size_t(1), lines(r.out));
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("parley-client: sent=100 received=100 verified=100 ") == 0);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find(" subprotocol=chat.v1\n") != std::string::npos);
		const std::string request = server.waitRequests(1).at(0);
		CPPUNIT_ASSERT_MESSAGE(request, request.find("{\"path\": \"/x?y=1\"") == 0);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "Sec-WebSocket-Protocol", "chat.v2, chat.v1"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "Origin", "https://app.example"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "Authorization", "Bearer t0k.en"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "X-A", "1"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "X-B", "two words"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "X-Empty", ""));
	}

	void testCommaListOnEveryConnection()
	{
		AdmissionServer server({"--protocols", "b,a"});
		Result r = runClient({"--url=" + server.url("/"), "--count=300", "--conns=3", "--expect=echo", "--subprotocol=a,b"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find(" subprotocol=b\n") != std::string::npos);
		const std::vector<std::string> requests = server.waitRequests(3);
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), requests.size());
		for (const std::string& request : requests)
			CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "Sec-WebSocket-Protocol", "a, b"));
	}

	void testRefusal403()
	{
		AdmissionServer server({"--origin", "https://app.example"});
		const std::string url = server.url("/x");
		Result r = runClient({"--url=" + url, "--origin=https://evil.example"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 1, r.exitCode);
		CPPUNIT_ASSERT_EQUAL("parley-client: handshake refused: HTTP 403 Forbidden: origin https://evil.example not allowed (" + url + ")\n", r.err);
		CPPUNIT_ASSERT(r.out.empty());
	}

	void testRefusal401()
	{
		AdmissionServer server({"--refuse", "401", "--body", "token expired", "--authenticate", "Bearer error=\"invalid_token\""});
		const std::string url = server.url("/x");
		Result r = runClient({"--url=" + url, "--token=old"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 1, r.exitCode);
		CPPUNIT_ASSERT_EQUAL("parley-client: handshake refused: HTTP 401 Unauthorized: token expired "
							 "(WWW-Authenticate: Bearer error=\"invalid_token\") (" + url + ")\n", r.err);
	}

	void testSubprotocolNotOffered()
	{
		AdmissionServer server({"--answer-protocol", "evil.v9"});
		const std::string url = server.url("/x");
		Result r = runClient({"--url=" + url, "--subprotocol=chat.v1"});
		CPPUNIT_ASSERT_EQUAL(1, r.exitCode);
		CPPUNIT_ASSERT_EQUAL("parley-client: handshake failed: the server selected subprotocol 'evil.v9' that was not offered "
							 "(offered: chat.v1) (" + url + ")\n", r.err);
		r = runClient({"--url=" + url});
		CPPUNIT_ASSERT_EQUAL(1, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("parley-client: handshake failed: the server selected subprotocol 'evil.v9' but none was offered") == 0);
	}

	void testBadValuesAreUsageErrors()
	{
		// Nothing listens there: a usage error stops before connecting.
		const std::string url = "ws://127.0.0.1:9/ws";
		const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
			{{"--header=no colon"}, "parley-client: bad value 'no colon' for --header: expected 'Name: value' (there is no colon)\n"},
			{{"--header=: v"}, "parley-client: bad value ': v' for --header: expected 'Name: value' (the name is empty)\n"},
			{{"--header=X-A: 1\r\nX-Injected: 2"}, "parley-client: bad value for --header: a header may not contain CR or LF\n"},
			{{"--header=X-A\n: 1"}, "parley-client: bad value for --header: a header may not contain CR or LF\n"},
			{{"--header=Bad Name: 1"}, "parley-client: bad value 'Bad Name: 1' for --header: bad header name 'Bad Name'\n"},
			{{"--header=Host: x"}, "parley-client: bad value 'Host: x' for --header: header 'Host' is set by the client itself\n"},
			{{"--subprotocol=chat v1,"}, ""},  // a space separates names too: two fine names
			{{"--subprotocol=a", "--subprotocol=a"}, "parley-client: bad value 'a' for --subprotocol: expected subprotocols offered once each ('a' is there already)\n"},
			{{"--subprotocol=a\"b"}, "parley-client: bad value 'a\"b' for --subprotocol: bad subprotocol 'a\"b': a name of letters, digits and !#$%&'*+-.^_`|~ only (no spaces, commas or quotes)\n"},
			{{"--subprotocol=,"}, "parley-client: bad value ',' for --subprotocol: expected a subprotocol name (or a comma-separated list)\n"},
			{{"--origin=https://a.example\r\nX: y"}, "parley-client: bad value 'https://a.example??X: y' for --origin: bad origin 'https://a.example??X: y': contains a control character (CR, LF, ...)\n"},
			{{"--token=a b"}, "parley-client: bad value '...' for --token: bad token: contains a space or a control character\n"},
			{{"--origin=https://a.example", "--header=Origin: https://b.example"}, "parley-client: header 'Origin' given next to the origin option: give one of them\n"},
			{{"--token=t", "--header=Authorization: Basic eDp5"}, "parley-client: header 'Authorization' given next to the token option: give one of them\n"},
		};
		for (const auto& c : cases)
		{
			std::vector<std::string> args = c.first;
			args.push_back("--url=" + url);
			Result r = runClient(args);
			if (c.second.empty())
			{
				CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 1, r.exitCode);  // accepted; then nobody answers
				continue;
			}
			CPPUNIT_ASSERT_EQUAL_MESSAGE(c.first.front() + ": " + r.err, 2, r.exitCode);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(c.first.front(), c.second, r.err);
			CPPUNIT_ASSERT(r.out.empty());
		}
	}

	void testConfigKeys()
	{
		AdmissionServer server({"--protocols", "chat.v1", "--token", "f1le", "--origin", "http://localhost:8000"});
		Poco::TemporaryFile file;
		{
			std::ofstream out(file.path());
			out << "client.url = " << server.url("/conf") << "\nclient.count = 50\nclient.expect = echo\n"
				<< "client.subprotocol = chat.v2, chat.v1\nclient.origin = http://localhost:8000\nclient.token = f1le\n"
				<< "client.header.X-From-File = yes\nclient.header.X-Other = 2\n";
		}
		Result r = runClient({"--config=" + file.path()});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find(" subprotocol=chat.v1\n") != std::string::npos);
		std::string request = server.waitRequests(1).at(0);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "Sec-WebSocket-Protocol", "chat.v2, chat.v1"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "Origin", "http://localhost:8000"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "Authorization", "Bearer f1le"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "X-From-File", "yes"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "X-Other", "2"));

		// The command line's lists replace the file's; its other values win over the file's.
		r = runClient({"--config=" + file.path(), "--subprotocol=chat.v1", "--header=X-Cli: 1", "--token=wrong"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 1, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("parley-client: handshake refused: HTTP 401 Unauthorized") == 0);
		request = server.waitRequests(2).at(1);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "Sec-WebSocket-Protocol", "chat.v1"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "X-Cli", "1"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(0), AdmissionServer::count(request, "X-From-File"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "Authorization", "Bearer wrong"));

		// A bad header in the file names its key; a header key without a name is refused.
		{
			std::ofstream out(file.path());
			out << "client.header.X-Bad = a\\r\\nb\n";
		}
		r = runClient({"--config=" + file.path()});
		CPPUNIT_ASSERT_EQUAL(2, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, std::size_t(1), lines(r.err));
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("client.header.X-Bad in " + file.path()) != std::string::npos);
		{
			std::ofstream out(file.path());
			out << "client.header = X-A: 1\n";
		}
		r = runClient({"--config=" + file.path()});
		CPPUNIT_ASSERT_EQUAL(2, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("client.header.<Name> = value") != std::string::npos);

		// The shipped file lists the new keys and still reads.
		r = runClient({"--config=" + test::sourceDir() + "/etc/parley-client.properties", "--url=" + server.url("/conf"),
			"--count=10", "--expect=echo", "--subprotocol=chat.v1", "--origin=http://localhost:8000", "--token=f1le"});
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
	}

	void testInteractive()
	{
		AdmissionServer server({"--protocols", "chat.v1", "--token", "t"});
		Result r = runClient({"--interactive", "--url=" + server.url("/i"), "--subprotocol=x.v0,chat.v1", "--token=t",
			"--header=X-I: yes"}, "hello\n");
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.exitCode);
		CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("parley-client: connected, subprotocol chat.v1 (Ctrl-D or /close to end)\n") == 0);
		// (Whether "hello" comes back is up to the server: websockets answers the close that
		// follows it at once.)
		CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("< [close 1000]") != std::string::npos);
		const std::string request = server.waitRequests(1).at(0);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "Sec-WebSocket-Protocol", "x.v0, chat.v1"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "X-I", "yes"));
	}

	void testInteractiveRefused()
	{
		AdmissionServer server({"--refuse", "403", "--body", "not on this route"});
		Result r = runClient({"--interactive", "--url=" + server.url("/i")}, "hello\n");
		CPPUNIT_ASSERT_EQUAL(1, r.exitCode);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, std::string("parley-client: handshake refused: HTTP 403 Forbidden: not on this route\n"), r.err);
		CPPUNIT_ASSERT(r.out.empty());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ClientAppAdmissionTest, "client");
