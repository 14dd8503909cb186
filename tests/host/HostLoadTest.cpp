//
// HostLoadTest.cpp — many connections and many messages, all verified; Debian's Python clients.
//
#include "HostTestSupport.h"
#include "ProcessRunner.h"
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <fcntl.h>
#include <memory>
#include <string>

using namespace parley::test;

namespace {

/// One pipelined client connection of the load test: keeps `window` messages in flight.
struct LoadConnection
{
	std::unique_ptr<WsClient> client;
	std::size_t id = 0;
	std::size_t sent = 0;
	std::size_t received = 0;
	std::size_t verified = 0;
	bool finished = false;
	std::string out;
	std::size_t outPos = 0;
	std::string in;
	std::size_t inPos = 0;

	std::string message(std::size_t seq) const { return "c" + std::to_string(id) + "-m" + std::to_string(seq); }

	/// Parses every whole frame in `in`; returns false on a frame that is not a text reply.
	bool parse(std::string& firstError)
	{
		for (;;)
		{
			const std::size_t avail = in.size() - inPos;
			if (avail < 2) break;
			const auto* p = reinterpret_cast<const unsigned char*>(in.data() + inPos);
			std::size_t header = 2;
			std::uint64_t length = p[1] & 0x7F;
			if (length == 126)
			{
				if (avail < 4) break;
				length = (std::uint64_t(p[2]) << 8) | p[3];
				header = 4;
			}
			else if (length == 127)
			{
				if (avail < 10) break;
				length = 0;
				for (int i = 2; i < 10; ++i) length = (length << 8) | p[i];
				header = 10;
			}
			if (avail < header + length) break;
			const std::string_view payload(in.data() + inPos + header, static_cast<std::size_t>(length));
			if (p[0] != 0x81 || (p[1] & 0x80))
			{
				if (firstError.empty()) firstError = "unexpected frame 0x" + std::to_string(p[0]);
				return false;
			}
			if (isRandomSuffixReply(payload, message(received)))
				++verified;
			else if (firstError.empty())
				firstError = "expected a reply to " + message(received) + ", got " + std::string(payload);
			++received;
			inPos += header + static_cast<std::size_t>(length);
		}
		if (inPos == in.size())
		{
			in.clear();
			inPos = 0;
		}
		else if (inPos > 65536)
		{
			in.erase(0, inPos);
			inPos = 0;
		}
		return true;
	}
};

} // namespace

class HostLoadTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostLoadTest);
	CPPUNIT_TEST(test100ConnectionsTimes10000Messages);
	CPPUNIT_TEST(testPythonWebsocketClient1000Messages);
	CPPUNIT_TEST(testPythonWebsocketsStrictClient);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override { _host = std::make_unique<TestHost>(); }
	void tearDown() override { _host.reset(); }

	void test100ConnectionsTimes10000Messages()
	{
		const std::size_t connections = 100;
		const std::size_t messages = 10000;
		const std::size_t window = 64;
		std::vector<LoadConnection> conns(connections);
		for (std::size_t i = 0; i < connections; ++i)
		{
			conns[i].id = i;
			conns[i].client = std::make_unique<WsClient>(_host->port(), "/ws");
			const int fd = conns[i].client->fd();
			::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
		}
		std::vector<pollfd> fds(connections);
		std::string firstError;
		std::size_t done = 0;
		int quietPolls = 0;
		char buffer[65536];
		while (done < connections && quietPolls < 30 && firstError.empty())
		{
			for (std::size_t i = 0; i < connections; ++i)
			{
				LoadConnection& c = conns[i];
				while (c.sent < messages && c.sent - c.received < window) c.out += frame(OpText, c.message(c.sent++));
				fds[i] = pollfd{c.client->fd(), static_cast<short>(POLLIN | (c.outPos < c.out.size() ? POLLOUT : 0)), 0};
			}
			const int ready = ::poll(fds.data(), fds.size(), 1000);
			quietPolls = ready == 0 ? quietPolls + 1 : 0;
			for (std::size_t i = 0; i < connections && ready > 0; ++i)
			{
				LoadConnection& c = conns[i];
				if (fds[i].revents & POLLOUT)
				{
					const ssize_t n = ::send(fds[i].fd, c.out.data() + c.outPos, c.out.size() - c.outPos, MSG_NOSIGNAL);
					if (n > 0) c.outPos += static_cast<std::size_t>(n);
					if (c.outPos == c.out.size())
					{
						c.out.clear();
						c.outPos = 0;
					}
				}
				if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
				{
					const ssize_t n = ::recv(fds[i].fd, buffer, sizeof(buffer), 0);
					if (n <= 0 && !(n < 0 && errno == EAGAIN))
					{
						firstError = "connection " + std::to_string(i) + " ended after " + std::to_string(c.received) + " replies";
						break;
					}
					if (n > 0)
					{
						c.in.append(buffer, static_cast<std::size_t>(n));
						c.parse(firstError);
						if (c.received == messages && !c.finished)
						{
							c.finished = true;
							++done;
						}
					}
				}
			}
		}
		std::size_t verified = 0;
		for (const auto& c : conns) verified += c.verified;
		CPPUNIT_ASSERT_MESSAGE(firstError, firstError.empty());
		CPPUNIT_ASSERT_EQUAL(connections * messages, verified);
		CPPUNIT_ASSERT(_host->server().metrics().messagesOut >= connections * messages);
	}

	void testPythonWebsocketClient1000Messages()
	{
		ProcessRunner python(python3(), {script("websocket_client_1000.py"), std::to_string(_host->port()), "1000"}, 120);
		const int code = python.wait();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(python.output(), 0, code);
		CPPUNIT_ASSERT_MESSAGE(python.output(), python.output().find("sent 1000, verified 1000") != std::string::npos);
	}

	void testPythonWebsocketsStrictClient()
	{
		ProcessRunner python(python3(), {script("websockets_strict.py"), std::to_string(_host->port())}, 120);
		const int code = python.wait();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(python.output(), 0, code);
		CPPUNIT_ASSERT_MESSAGE(python.output(), python.output().find("all checks passed") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(python.output(), python.output().find("ok   invalid UTF-8 closes 1007") != std::string::npos);
	}

private:
	static std::string python3() { return parley::test::python(); }
	static std::string script(const std::string& name) { return parley::test::sourceDir() + "/tests/host/py/" + name; }

	std::unique_ptr<TestHost> _host;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostLoadTest, "host");
