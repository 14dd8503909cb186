//
// HostLogTest.cpp — the host's logs: logging.* keys of the configuration file (a FileChannel, bad
// keys refused with exit 78), rate-limited lines for refusals and faults (a flood of 10,000
// protocol errors gives a bounded number of lines whose counts add up), and the access log.
//
#include "HostFiles.h"
#include "HostTestSupport.h"
#include "ProcessRunner.h"
#include "parley/host/LoggingSetup.h"
#include <Poco/Util/MapConfiguration.h>
#include "support/LogCapture.h"
#include "support/TestCertificates.h"
#include <Poco/File.h>
#include <chrono>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

using namespace parley;
using namespace parley::test;

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> linesOf(const std::string& text)
{
	std::vector<std::string> lines;
	std::istringstream in(text);
	std::string line;
	while (std::getline(in, line)) lines.push_back(line);
	return lines;
}

std::string readFile(const std::string& path)
{
	std::ifstream in(path);
	return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// The value of `key` in a key=value line ("" if absent); quoted values lose their quotes.
std::string field(const std::string& line, const std::string& key)
{
	const std::string marker = " " + key + "=";
	std::size_t at = line.find(marker);
	if (at == std::string::npos) return "";
	at += marker.size();
	if (line[at] == '"')
	{
		std::string value;
		for (std::size_t i = at + 1; i < line.size() && line[i] != '"'; ++i)
		{
			if (line[i] == '\\') ++i;
			value += line[i];
		}
		return value;
	}
	return line.substr(at, line.find(' ', at) - at);
}

std::uint16_t localPort(int fd)
{
	sockaddr_in addr{};
	socklen_t size = sizeof(addr);
	::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
	return ntohs(addr.sin_port);
}

/// Connects, sends `data`, reads until the host ends the stream, closes.
void sendAndReadToEnd(std::uint16_t port, const std::string& data)
{
	const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) throw std::runtime_error("socket() failed");
	timeval timeout{15, 0};
	::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	sockaddr_in addr{};
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
	{
		::close(fd);
		throw std::runtime_error(std::string("connect() failed: ") + std::strerror(errno));
	}
	::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
	char buffer[4096];
	while (::recv(fd, buffer, sizeof(buffer), 0) > 0)
	{
	}
	::close(fd);
}

/// An in-process host like TestHost whose access log (<logger>.access) is captured too.
class AccessHost
{
public:
	explicit AccessHost(const std::function<void(HostConfig&)>& tweak)
		: _registry(_log.logger()), _access(Poco::Logger::get(_log.logger().name() + ".access"))
	{
		_accessChannel = new CaptureChannel;
		_access.setChannel(_accessChannel);
		_access.setLevel(Poco::Message::PRIO_INFORMATION);
		_registry.loadDirectory(pluginDir());
		const std::string gate = testPluginDir() + "/header-gate.so";
		if (Poco::File(gate).exists()) _registry.loadLibrary(gate);
		HostConfig config = baseConfig();
		config.routes.erase("/throw");
		config.routes.erase("/closer");
		tweak(config);
		_server = std::make_unique<host::HostServer>(config, _registry, _log.logger());
		_server->start();
	}

	~AccessHost()
	{
		_server.reset();
		_access.setChannel(nullptr);
	}

	std::uint16_t port() const { return _server->port(); }
	std::vector<std::string> accessLines() const { return _accessChannel->lines(); }
	std::vector<std::string> hostLines() const { return _log.lines(); }
	bool hasGate() const { return _registry.has("header-gate"); }

private:
	LogCapture _log;
	PluginRegistry _registry;
	Poco::Logger& _access;
	Poco::AutoPtr<CaptureChannel> _accessChannel;
	std::unique_ptr<host::HostServer> _server;
};

} // namespace

class HostLogTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostLogTest);
	CPPUNIT_TEST(testFloodOfProtocolErrorsIsRateLimited);
	CPPUNIT_TEST(testLoggingKeysTakeEffect);
	CPPUNIT_TEST(testBadLoggingKeysExit78);
	CPPUNIT_TEST(testCheckLoggingAppliesNothing);
	CPPUNIT_TEST(testAccessLogFields);
	CPPUNIT_TEST(testAccessLogOffByDefault);
	CPPUNIT_TEST(testRefusalsAndFaultsHaveALine);
	CPPUNIT_TEST(testIoErrorLineAndAccess);
	CPPUNIT_TEST(testTlsFailureAndDeadlineLines);
	CPPUNIT_TEST(testPingTimeoutAndIdleLines);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_files = std::make_unique<HostFiles>("log");
	}

	void tearDown() override
	{
		_files.reset();
	}

	/// 10,000 connections each send an unmasked frame (1002). With logging.rate_limit_ms = 300
	/// the host writes at most one line per 300 ms (plus the last count at the stop), and the
	/// counts in the lines add up to the 10,000.
	void testFloodOfProtocolErrorsIsRateLimited()
	{
		const unsigned IntervalMs = 300;
		const unsigned Connections = 10000;
		const std::string file = writeConfig("route./echo = echo\nengine.threads = 2\nengine.max_connections_per_ip = 0\n"
			"engine.handshakes_per_ip_per_s = 0\nlogging.rate_limit_ms = " + std::to_string(IntervalMs) + "\n");
		const Clock::time_point start = Clock::now();
		ProcessRunner host(binary(), {"--config=" + file}, 120);
		const std::uint16_t port = waitForPort(host);
		// Read the host's output as it comes (a host that logged every line would otherwise
		// block on a full pipe instead of failing the count below).
		std::thread reader([&host] {
			std::string line;
			while (host.readLine(line))
			{
			}
		});
		const std::string request = upgradeRequest("/echo") + frame(OpText, "no mask", true, false);
		std::vector<std::thread> clients;
		std::atomic<unsigned> failures{0};
		for (unsigned t = 0; t < 4; ++t)
		{
			clients.emplace_back([&] {
				for (unsigned i = 0; i < Connections / 4; ++i)
				{
					try
					{
						sendAndReadToEnd(port, request);
					}
					catch (...)
					{
						++failures;
					}
				}
			});
		}
		for (auto& t : clients) t.join();
		host.requestTermination();
		reader.join();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.output(), 0, host.wait());
		CPPUNIT_ASSERT_EQUAL(0u, failures.load());
		const double elapsedMs = std::chrono::duration<double, std::milli>(Clock::now() - start).count();

		const std::regex held(R"(\((\d+) more in the last \d+ s\)$)");
		const std::regex flushed(R"(connections closed with 1002: (\d+) more in the last \d+ s$)");
		std::uint64_t printed = 0, flushLines = 0, counted = 0;
		for (const auto& line : linesOf(host.output()))
		{
			std::smatch m;
			if (line.find("closing the connection from 127.0.0.1:") != std::string::npos && line.find(" with 1002: ") != std::string::npos)
			{
				++printed;
				CPPUNIT_ASSERT_MESSAGE(line, line.find("route /echo") != std::string::npos);
				CPPUNIT_ASSERT_MESSAGE(line, line.find("[Notice]") != std::string::npos);
				if (std::regex_search(line, m, held)) counted += std::stoull(m[1]);
			}
			else if (std::regex_search(line, m, flushed))
			{
				++flushLines;
				counted += std::stoull(m[1]);
			}
		}
		const std::string summary = std::to_string(printed) + " lines, " + std::to_string(flushLines) + " count lines, " +
			std::to_string(counted) + " counted, " + std::to_string(elapsedMs) + " ms";
		CPPUNIT_ASSERT_MESSAGE(summary, printed >= 1);
		// One line per interval at most (the first at once), and one count at the stop.
		CPPUNIT_ASSERT_MESSAGE(summary + "\n" + host.output(), printed + flushLines <= elapsedMs / IntervalMs + 2);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(summary, std::uint64_t(Connections), printed + counted);
		// The access log is off by default.
		CPPUNIT_ASSERT_EQUAL(std::string::npos, host.output().find("closed_by="));
	}

	/// A FileChannel from logging.* keys gets the host's lines and the access log (its own file).
	void testLoggingKeysTakeEffect()
	{
		const std::string log = _files->dir() + "host.log";
		const std::string access = _files->dir() + "access.log";
		const std::string file = writeConfig("route./echo = echo\nengine.threads = 1\n"
			"logging.formatters.f.class = PatternFormatter\nlogging.formatters.f.pattern = FILE [%p] %t\n"
			"logging.channels.file.class = FileChannel\nlogging.channels.file.path = " + log + "\n"
			"logging.channels.file.rotation = 10 M\nlogging.channels.file.archive = timestamp\nlogging.channels.file.purgeCount = 3\n"
			"logging.channels.file.formatter = f\n"
			"logging.channels.access.class = FileChannel\nlogging.channels.access.path = " + access + "\n"
			"logging.channels.access.pattern = %t\n"
			"logging.loggers.root.name =\nlogging.loggers.root.channel = file\nlogging.loggers.root.level = information\n"
			"logging.loggers.access.name = parley-host.access\nlogging.loggers.access.channel = access\n"
			"logging.loggers.access.level = information\n");
		ProcessRunner host(binary(), {"--config=" + file}, 60);
		// Nothing on the console: the lines go to the file (read it until the host listens).
		std::uint16_t port = 0;
		for (int i = 0; i < 500 && port == 0; ++i)
		{
			const std::string text = readFile(log);
			const std::string marker = "listening on ws://127.0.0.1:";
			const std::size_t at = text.find(marker);
			if (at != std::string::npos) port = static_cast<std::uint16_t>(std::stoi(text.substr(at + marker.size())));
			else std::this_thread::sleep_for(std::chrono::milliseconds(20));
		}
		CPPUNIT_ASSERT_MESSAGE(readFile(log), port != 0);
		std::uint16_t clientPort = 0;
		{
			WsClient client(port, "/echo");
			clientPort = localPort(client.fd());
			for (const char* m : {"one", "two", "three!"})
			{
				client.sendText(m);
				CPPUNIT_ASSERT_EQUAL(std::string(m), client.readFrame().payload);
			}
			client.send(closeFrame(1000, "bye"));
			CPPUNIT_ASSERT_EQUAL(std::uint16_t(1000), client.readClose().closeCode());
			CPPUNIT_ASSERT(client.readEof());
		}
		sendAndReadToEnd(port, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
		host.requestTermination();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.output(), 0, host.wait());
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.output(), std::string(), host.output());
		const std::string text = readFile(log);
		CPPUNIT_ASSERT_MESSAGE(text, text.find("FILE [Information] parley-host stopping") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(text, text.find("FILE [Notice] handshake from 127.0.0.1:") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(text, text.find("refused with 404: not found: /nope") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(text, text.find("closed_by=") == std::string::npos);
		const std::vector<std::string> lines = linesOf(readFile(access));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(readFile(access), std::size_t(1), lines.size());
		const std::string& line = lines[0];
		CPPUNIT_ASSERT_EQUAL_MESSAGE(line, std::string("remote=127.0.0.1:" + std::to_string(clientPort)),
			line.substr(0, line.find(' ')));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(line, std::string("/echo"), field(line, "route"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(line, std::string("-"), field(line, "identity"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(line, std::string("3"), field(line, "msgs_in"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(line, std::string("12"), field(line, "bytes_in"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(line, std::string("3"), field(line, "msgs_out"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(line, std::string("12"), field(line, "bytes_out"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(line, std::string("1000"), field(line, "close"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(line, std::string("client"), field(line, "closed_by"));
		CPPUNIT_ASSERT_MESSAGE(line, !field(line, "duration_ms").empty());
	}

	/// Each bad logging.* key: exit 78 (EXIT_CONFIG) and one line naming it.
	void testBadLoggingKeysExit78()
	{
		const std::string console = "logging.channels.c.class = ConsoleChannel\n";
		expectConfigError("logging.channels.c.class = NoSuchChannel\n", "logging.channels.c.class: 'NoSuchChannel' is not a channel class");
		expectConfigError("logging.channels.f.class = FileChannel\nlogging.channels.f.path = " + _files->dir() + "x.log\n"
			"logging.channels.f.rotation = every fortnight\n", "logging.channels.f.rotation: ");
		expectConfigError("logging.channels.f.class = FileChannel\nlogging.channels.f.path = " + _files->dir() + "x.log\n"
			"logging.channels.f.colour = blue\n", "logging.channels.f.colour: FileChannel has no property 'colour'");
		expectConfigError("logging.channels.f.class = FileChannel\nlogging.channels.f.path = " + _files->dir() + "no/such/dir/x.log\n"
			"logging.loggers.root.name =\nlogging.loggers.root.channel = f\n", "logging.channels.f: cannot open: ");
		expectConfigError("logging.channels.c.pattern = %t\n", "logging.channels.c.class: missing");
		expectConfigError(console + "logging.channels.c.formatter = nope\n", "logging.channels.c.formatter: no formatter 'nope'");
		expectConfigError(console + "logging.loggers.l.name = parley-host\nlogging.loggers.l.channel = file\n",
			"logging.loggers.l.channel: no channel 'file'");
		expectConfigError(console + "logging.loggers.l.name = parley-host\nlogging.loggers.l.level = loud\n",
			"logging.loggers.l.level: 'loud' is not a level");
		expectConfigError("logging.loggers.l.name = parley-host\nlogging.loggers.l.colour = red\n",
			"logging.loggers.l.colour: unknown key");
		expectConfigError("logging.loggres.l.name = x\n", "logging.loggres: unknown key");
		expectConfigError("logging.rate_limit_ms = soon\n", "logging.rate_limit_ms: 'soon' is not a whole number");
	}

	/// checkLogging (for a configuration check) names a bad key like the host does, and applies
	/// nothing: no logger changes, no file is created.
	void testCheckLoggingAppliesNothing()
	{
		Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
		config->setString("logging.channels.f.class", "FileChannel");
		config->setString("logging.channels.f.path", _files->dir() + "checked.log");
		config->setString("logging.loggers.l.name", "parley-check");
		config->setString("logging.loggers.l.channel", "f");
		config->setString("logging.loggers.l.level", "error");
		const int before = Poco::Logger::get("parley-check").getLevel();
		host::checkLogging(*config);
		CPPUNIT_ASSERT_EQUAL(before, Poco::Logger::get("parley-check").getLevel());
		CPPUNIT_ASSERT(!Poco::File(_files->dir() + "checked.log").exists());
		config->setString("logging.channels.f.purgeCount", "many");
		try
		{
			host::checkLogging(*config);
			CPPUNIT_FAIL("a bad purgeCount passed the check");
		}
		catch (const ConfigError& e)
		{
			const std::string expected = "logging.channels.f.purgeCount: ";
			CPPUNIT_ASSERT_EQUAL_MESSAGE(e.what(), expected, std::string(e.what()).substr(0, expected.size()));
		}
	}

	/// The access line of connections closed each way: by the client (close frame), by the host
	/// (a protocol error), by the client's end of stream without a close; with a gate's identity.
	void testAccessLogFields()
	{
		AccessHost host([](HostConfig& c) {
			c.routes["/gated"] = {"echo"};
			c.routeOptions["/gated"].gates = {"header-gate"};
		});
		CPPUNIT_ASSERT(host.hasGate());
		std::uint16_t ports[3] = {};
		{
			RawSocket s(host.port());
			ports[0] = localPort(s.fd());
			s.send(upgradeRequest("/gated", "X-Token: secret\r\nX-User: alice smith\r\n"));
			CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 101"), s.readHead().substr(0, 12));
			s.send(frame(OpBinary, std::string(1000, 'b')));
			CPPUNIT_ASSERT_EQUAL(std::size_t(1000), s.readFrame().payload.size());
			s.send(closeFrame(4001, "done"));
			CPPUNIT_ASSERT_EQUAL(std::uint16_t(4001), s.readFrame().closeCode());
		}
		{
			WsClient s(host.port(), "/echo");
			ports[1] = localPort(s.fd());
			s.sendText("fine");
			CPPUNIT_ASSERT_EQUAL(std::string("fine"), s.readFrame().payload);
			s.send(frame(OpText, "no mask", true, false));
			CPPUNIT_ASSERT_EQUAL(std::uint16_t(1002), s.readClose().closeCode());
		}
		{
			WsClient s(host.port(), "/ws");
			ports[2] = localPort(s.fd());
			s.sendText("12345");
			s.readFrame();
			::shutdown(s.fd(), SHUT_WR);
			CPPUNIT_ASSERT(s.readEof());
		}
		CPPUNIT_ASSERT(eventually([&] { return host.accessLines().size() == 3; }));
		const std::vector<std::string> lines = host.accessLines();
		auto lineOf = [&](std::uint16_t port) {
			for (const auto& l : lines)
				if (l.rfind("remote=127.0.0.1:" + std::to_string(port) + " ", 0) == 0) return l;
			return std::string("no line for port " + std::to_string(port));
		};
		std::string l = lineOf(ports[0]);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("/gated"), field(l, "route"));
		CPPUNIT_ASSERT_MESSAGE(l, l.find(" identity=\"alice smith\" ") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("1"), field(l, "msgs_in"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("1000"), field(l, "bytes_in"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("1"), field(l, "msgs_out"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("1000"), field(l, "bytes_out"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("4001"), field(l, "close"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("client"), field(l, "closed_by"));
		l = lineOf(ports[1]);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("/echo"), field(l, "route"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("-"), field(l, "identity"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("1"), field(l, "msgs_in"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("4"), field(l, "bytes_in"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("1"), field(l, "msgs_out"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("1002"), field(l, "close"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("host"), field(l, "closed_by"));
		l = lineOf(ports[2]);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("/ws"), field(l, "route"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("1"), field(l, "msgs_in"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("5"), field(l, "bytes_in"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("1"), field(l, "msgs_out"));
		CPPUNIT_ASSERT_MESSAGE(l, std::stoul(field(l, "bytes_out")) > 6);   // the message, a space, a number
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("1006"), field(l, "close"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("client"), field(l, "closed_by"));
	}

	/// Without a logger named <logger>.access nothing is written per connection.
	void testAccessLogOffByDefault()
	{
		TestHost host;
		{
			WsClient s(host.port(), "/echo");
			s.sendText("x");
			s.readFrame();
			s.send(closeFrame(1000));
			s.readClose();
		}
		CPPUNIT_ASSERT(eventually([&] { return host.server().metrics().connections == 0; }));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(host.logDump(), std::size_t(0), host.logCount({"closed_by="}));
	}

	/// Refusals and faults each have a line with the status or code, the reason and the peer
	/// (logging.rate_limit_ms = 0: none held back).
	void testRefusalsAndFaultsHaveALine()
	{
		TestHost host([](HostConfig& c) {
			c.engine.maxMessageSize = 100;
			c.engine.handshakeTimeoutMs = 300;
			c.logRateLimitMs = 0;   // every line (two of these are 400s)
			c.routes["/sub"] = {"echo"};
			c.routeOptions["/sub"].subprotocols = {"chat.v1"};
		});
		const std::uint16_t port = host.port();
		sendAndReadToEnd(port, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
		sendAndReadToEnd(port, upgradeRequest("/echo", "Origin: https://evil.example\r\n"));
		sendAndReadToEnd(port, upgradeRequest("/sub", "Sec-WebSocket-Protocol: other\r\n"));
		sendAndReadToEnd(port, "\x16\x03\x01 not http");
		sendAndReadToEnd(port, "GET /echo HTTP/1.1\r\n");   // never finished: the head deadline
		sendAndReadToEnd(port, upgradeRequest("/echo") + frame(OpText, std::string(200, 'x')));
		sendAndReadToEnd(port, upgradeRequest("/echo") + frame(OpText, "\xff\xfe"));
		const std::vector<std::vector<std::string>> expected = {
			{"handshake from 127.0.0.1:", "refused with 404: not found: /nope"},
			{"handshake from 127.0.0.1:", "refused with 403: forbidden: origin https://evil.example"},
			{"handshake from 127.0.0.1:", "refused with 400: /sub speaks chat.v1; offered: other"},
			{"handshake from 127.0.0.1:", "refused with 400: a TLS handshake on a plain ws:// port"},
			{"handshake from 127.0.0.1:", "dropped: request head (20 bytes so far) not done within engine.handshake_timeout_ms (300 ms)"},
			{"route /echo: closing the connection from 127.0.0.1:", "with 1009: "},
			{"route /echo: closing the connection from 127.0.0.1:", "with 1007: "},
		};
		for (const auto& parts : expected)
		{
			std::string what;
			for (const auto& p : parts) what += p + " ... ";
			CPPUNIT_ASSERT_MESSAGE(what + "\n" + host.logDump(), eventually([&] { return host.logCount(parts) == 1; }));
		}
	}

	/// A client that resets its connection: a line with errno's text, closed_by=io.
	void testIoErrorLineAndAccess()
	{
		AccessHost host([](HostConfig&) {});
		std::uint16_t port = 0;
		{
			WsClient s(host.port(), "/echo");
			port = localPort(s.fd());
			s.sendText("abc");
			CPPUNIT_ASSERT_EQUAL(std::string("abc"), s.readFrame().payload);
			linger reset{1, 0};
			::setsockopt(s.fd(), SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		}
		CPPUNIT_ASSERT(eventually([&] { return host.accessLines().size() == 1; }));
		const std::string l = host.accessLines()[0];
		CPPUNIT_ASSERT_MESSAGE(l, l.rfind("remote=127.0.0.1:" + std::to_string(port) + " ", 0) == 0);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("1006"), field(l, "close"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(l, std::string("io"), field(l, "closed_by"));
		std::size_t lines = 0;
		std::string all;
		for (const auto& line : host.hostLines())
		{
			all += line + "\n";
			if (line.find("route /echo: connection from 127.0.0.1:" + std::to_string(port) + " dropped: ") == 0 &&
				line.find("Connection reset by peer") != std::string::npos)
				++lines;
		}
		CPPUNIT_ASSERT_EQUAL_MESSAGE(all, std::size_t(1), lines);
	}

	/// A failed TLS handshake and one past the deadline each have a line.
	void testTlsFailureAndDeadlineLines()
	{
		TestHost host([](HostConfig& c) {
			const TestCertificates& certificates = TestCertificates::get();
			c.tls.enabled = true;
			c.tls.certificateFile = certificates.certFile();
			c.tls.privateKeyFile = certificates.keyFile();
			c.engine.handshakeTimeoutMs = 400;
		});
		sendAndReadToEnd(host.port(), upgradeRequest("/echo"));   // plain HTTP to the TLS port
		sendAndReadToEnd(host.port(), std::string("\x16\x03\x01", 3));   // a ClientHello that never ends
		CPPUNIT_ASSERT_MESSAGE(host.logDump(), eventually([&] { return host.logCount({"TLS handshake with 127.0.0.1:", " failed: "}) == 1; }));
		CPPUNIT_ASSERT_MESSAGE(host.logDump(), eventually([&] {
			return host.logCount({"handshake from 127.0.0.1:", "dropped: TLS handshake not done within engine.handshake_timeout_ms (400 ms)"}) == 1;
		}));
	}

	/// A client that answers no ping and one that stays idle: both closed with 1001, each with a line.
	void testPingTimeoutAndIdleLines()
	{
		TestHost pinging([](HostConfig& c) { c.engine.pingIntervalMs = 200; });
		WsClient deaf(pinging.port(), "/echo");
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), deaf.readClose().closeCode());
		CPPUNIT_ASSERT_MESSAGE(pinging.logDump(), eventually([&] {
			return pinging.logCount({"route /echo: closing the connection from 127.0.0.1:", "with 1001: no pong within engine.ping_interval_ms (200 ms)"}) == 1;
		}));
		TestHost idle([](HostConfig& c) { c.engine.idleTimeoutMs = 200; });
		WsClient quiet(idle.port(), "/echo");
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), quiet.readClose().closeCode());
		CPPUNIT_ASSERT_MESSAGE(idle.logDump(), eventually([&] {
			return idle.logCount({"route /echo: closing the connection from 127.0.0.1:", "with 1001: idle for engine.idle_timeout_ms (200 ms)"}) == 1;
		}));
	}

private:
	static std::string binary() { return binDir() + "/parley-host"; }

	std::string writeConfig(const std::string& body)
	{
		// No plugins.watch = false here: these hosts keep the default.
		return _files->write("server.address = 127.0.0.1\nserver.port = 0\nadmin.port = 0\nplugins.dir = " + pluginDir() + "\n" + body);
	}

	/// Reads the host's output until it says where it listens; returns the port.
	static std::uint16_t waitForPort(ProcessRunner& host)
	{
		std::string line;
		while (host.readLine(line))
		{
			const std::string marker = "listening on ws://127.0.0.1:";
			const std::size_t at = line.find(marker);
			if (at != std::string::npos) return static_cast<std::uint16_t>(std::stoi(line.substr(at + marker.size())));
		}
		CPPUNIT_FAIL("the host did not start: " + host.output());
		return 0;
	}

	/// A configuration with a route and `logging`: exit 78 and one line "parley-host: <file>: <expected>...".
	void expectConfigError(const std::string& logging, const std::string& expected)
	{
		const std::string file = writeConfig("route./echo = echo\n" + logging);
		ProcessRunner host(binary(), {"--config=" + file}, 60);
		const int code = host.wait();
		const std::string& out = host.output();
		CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 78, code);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(out, "parley-host: " + file + ": " + expected, out.substr(0, 15 + file.size() + expected.size()));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(out, out.size() - 1, out.find('\n'));
	}

	std::unique_ptr<HostFiles> _files;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostLogTest, "host");
