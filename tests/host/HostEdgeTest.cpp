//
// HostEdgeTest.cpp — the public port against hostile and unlucky clients: request heads
// trickled a byte at a time (they must hold no thread and be cut at the handshake deadline),
// and a host that runs out of file descriptors.
//
#include "HostTestSupport.h"
#include "ProcessRunner.h"
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>
#include <atomic>
#include <chrono>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <poll.h>
#include <sstream>
#include <sys/resource.h>
#include <thread>

using namespace parley::test;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start)
{
	return std::chrono::duration<double>(Clock::now() - start).count();
}

/// A non-blocking client socket connected to 127.0.0.1:port (throws if connect fails at once).
int connectNonBlocking(std::uint16_t port)
{
	const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) throw std::runtime_error(std::string("socket() failed: ") + std::strerror(errno));
	sockaddr_in addr{};
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 && errno != EINPROGRESS)
	{
		::close(fd);
		throw std::runtime_error(std::string("connect() failed: ") + std::strerror(errno));
	}
	return fd;
}

/// CPU seconds (user + system) the process has used, from /proc/<pid>/stat.
double cpuSeconds(int pid)
{
	std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
	std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	std::istringstream fields(stat.substr(stat.rfind(')') + 2));
	std::string skip;
	for (int i = 0; i < 11; ++i) fields >> skip; // state .. cmajflt (fields 3-13)
	unsigned long long utime = 0, stime = 0;
	fields >> utime >> stime;
	return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

} // namespace

class HostEdgeTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostEdgeTest);
	CPPUNIT_TEST(testTricklingHeadsHoldNothingAndAreCutAtTheDeadline);
	CPPUNIT_TEST(testOutOfDescriptors);
	CPPUNIT_TEST_SUITE_END();

public:
	void testTricklingHeadsHoldNothingAndAreCutAtTheDeadline()
	{
		// The attack that froze the thread-per-handshake host: 64 connections send their upgrade
		// request one byte every 2 s. The default handshake deadline (5 s) is for the whole head.
		TestHost host;
		const unsigned deadlineMs = host.server().config().engine.handshakeTimeoutMs;
		CPPUNIT_ASSERT_EQUAL(5000u, deadlineMs);
		constexpr int Tricklers = 64;
		const std::string request = upgradeRequest("/ws");
		std::vector<int> fds;
		for (int i = 0; i < Tricklers; ++i) fds.push_back(connectNonBlocking(host.port()));
		const Clock::time_point start = Clock::now();
		std::vector<double> closedAt(Tricklers, -1);
		std::atomic<bool> stop{false};
		std::thread trickler([&] {
			std::size_t sent = 0;
			while (!stop.load())
			{
				for (int i = 0; i < Tricklers; ++i)
				{
					if (closedAt[i] >= 0) continue;
					char c;
					const ssize_t n = ::recv(fds[i], &c, 1, MSG_DONTWAIT);
					if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
						::send(fds[i], &request[sent % request.size()], 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
						closedAt[i] = secondsSince(start);
				}
				++sent;
				for (int t = 0; t < 40 && !stop.load(); ++t) // a byte every 2 s, EOF seen within 50 ms
				{
					std::this_thread::sleep_for(std::chrono::milliseconds(50));
					for (int i = 0; i < Tricklers; ++i)
					{
						char c;
						if (closedAt[i] < 0 && ::recv(fds[i], &c, 1, MSG_DONTWAIT) == 0) closedAt[i] = secondsSince(start);
					}
				}
			}
		});
		// Meanwhile normal clients come and go, each connecting and exchanging a message.
		double slowest = 0;
		int exchanges = 0;
		std::string failure;
		while (secondsSince(start) < 4.5)
		{
			const Clock::time_point t = Clock::now();
			try
			{
				WsClient c(host.port(), "/ws");
				c.sendText("through the crowd");
				if (!isRandomSuffixReply(c.readFrame().payload, "through the crowd")) failure = "wrong reply";
			}
			catch (const std::exception& e)
			{
				failure = e.what();
			}
			slowest = std::max(slowest, secondsSince(t));
			++exchanges;
			std::this_thread::sleep_for(std::chrono::milliseconds(200));
		}
		// The tricklers are cut at the deadline (checked every 250 ms), not before.
		const bool allClosed = eventually([&] {
			for (double at : closedAt)
				if (at < 0) return false;
			return true;
		});
		stop = true;
		trickler.join();
		for (int fd : fds) ::close(fd);
		std::cout << " [" << exchanges << " exchanges beside " << Tricklers << " trickling heads, slowest " << slowest * 1000
				  << " ms; tricklers closed at " << *std::min_element(closedAt.begin(), closedAt.end()) << "-"
				  << *std::max_element(closedAt.begin(), closedAt.end()) << " s] ";
		CPPUNIT_ASSERT_MESSAGE(failure, failure.empty());
		CPPUNIT_ASSERT(exchanges >= 10);
		CPPUNIT_ASSERT_MESSAGE(std::to_string(slowest), slowest < 1.0);
		CPPUNIT_ASSERT(allClosed);
		CPPUNIT_ASSERT(*std::min_element(closedAt.begin(), closedAt.end()) >= deadlineMs / 1000.0 - 0.3);
		CPPUNIT_ASSERT(*std::max_element(closedAt.begin(), closedAt.end()) <= deadlineMs / 1000.0 + 2.0);
		CPPUNIT_ASSERT(eventually([&] { return host.server().metrics().handshakeTimeouts == Tricklers; }));
	}

	void testOutOfDescriptors()
	{
		// The host binary under `ulimit -n 256` and 400 clients: it serves what it can, the rest
		// wait in the listen backlog (no busy loop, no 101 followed by EOF), one log line per
		// loop, and full service as soon as descriptors are free again.
		rlimit limit{};
		::getrlimit(RLIMIT_NOFILE, &limit);
		if (limit.rlim_cur < 2048 && limit.rlim_max >= 2048)
		{
			limit.rlim_cur = 2048;
			::setrlimit(RLIMIT_NOFILE, &limit);
		}
		Poco::TemporaryFile config;
		{
			std::ofstream out(config.path());
			out << "server.address = 127.0.0.1\nserver.port = 0\nadmin.port = 0\nplugins.dir = " << pluginDir()
				<< "\nplugins.watch = false\nengine.threads = 2\nroute./echo = echo\n"
				<< "engine.max_connections_per_ip = 0\nengine.handshakes_per_ip_per_s = 0\n";
		}
		const std::string command = "ulimit -n 256 && exec " + binDir() + "/parley-host --config=" + config.path();
		ProcessRunner process("/bin/sh", {"-c", command}, 120);
		std::uint16_t port = 0;
		std::uint16_t adminPort = 0;
		std::string line;
		while (port == 0 && process.readLine(line))
		{
			const std::string marker = "listening on ws://127.0.0.1:";
			const std::string adminMarker = "operator endpoints on http://127.0.0.1:";
			const std::size_t at = line.find(marker);
			if (at != std::string::npos)
			{
				port = static_cast<std::uint16_t>(std::stoi(line.substr(at + marker.size())));
				adminPort = static_cast<std::uint16_t>(std::stoi(line.substr(line.find(adminMarker) + adminMarker.size())));
			}
		}
		CPPUNIT_ASSERT_MESSAGE(process.output(), port != 0);
		// Keep reading the host's output (its log lines) on a thread.
		std::mutex logMutex;
		std::string log;
		std::thread reader([&] {
			std::string l;
			while (process.readLine(l))
			{
				std::lock_guard<std::mutex> lock(logMutex);
				log += l + "\n";
			}
		});
		// On a failed assertion: stop the host so that the reader thread ends, then join it.
		struct Join
		{
			ProcessRunner& process;
			std::thread& thread;
			~Join()
			{
				if (!thread.joinable()) return;
				process.requestTermination();
				thread.join();
			}
		} join{process, reader};
		auto logCount = [&](const std::string& text) {
			std::lock_guard<std::mutex> lock(logMutex);
			std::size_t n = 0;
			for (std::size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
			return n;
		};

		constexpr int Clients = 400;
		struct Client
		{
			int fd = -1;
			std::string in;
			bool upgraded = false;
			bool eof = false;
		};
		std::vector<Client> clients(Clients);
		struct CloseAll
		{
			std::vector<Client>& clients;
			~CloseAll()
			{
				for (auto& c : clients)
					if (c.fd >= 0) ::close(c.fd);
			}
		} closeAll{clients};
		const std::string request = upgradeRequest("/echo");
		for (auto& c : clients)
		{
			c.fd = connectNonBlocking(port);
			pollfd p{c.fd, POLLOUT, 0};
			::poll(&p, 1, 2000);
			CPPUNIT_ASSERT(::send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
		}
		// Reads what arrived on every client for `seconds`, or until `done()` holds.
		auto pump = [&](double seconds, const std::function<bool()>& done = {}) {
			const Clock::time_point start = Clock::now();
			while (secondsSince(start) < seconds && !(done && done()))
			{
				std::vector<pollfd> polls;
				for (auto& c : clients)
					if (c.fd >= 0 && !c.eof) polls.push_back(pollfd{c.fd, POLLIN, 0});
				::poll(polls.data(), polls.size(), 50);
				for (auto& c : clients)
				{
					if (c.fd < 0 || c.eof) continue;
					char buffer[4096];
					const ssize_t n = ::recv(c.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
					if (n > 0) c.in.append(buffer, static_cast<std::size_t>(n));
					if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) c.eof = true;
					if (!c.upgraded && c.in.find("\r\n\r\n") != std::string::npos)
					{
						CPPUNIT_ASSERT_MESSAGE(c.in, c.in.compare(0, 12, "HTTP/1.1 101") == 0);
						c.upgraded = true;
						c.in.erase(0, c.in.find("\r\n\r\n") + 4);
					}
				}
			}
		};
		auto count = [&](bool upgraded) {
			int n = 0;
			for (const auto& c : clients) n += c.fd >= 0 && c.upgraded == upgraded;
			return n;
		};
		pump(2.0);
		const int served = count(true);
		// Out of descriptors: some served, the rest waiting — none refused or dropped.
		CPPUNIT_ASSERT_MESSAGE(std::to_string(served), served > 150 && served < Clients);
		for (const auto& c : clients) CPPUNIT_ASSERT(!c.eof);
		// No busy loop while the clients wait.
		const double cpuBefore = cpuSeconds(process.pid());
		pump(1.0);
		const double cpu = cpuSeconds(process.pid()) - cpuBefore;
		CPPUNIT_ASSERT_MESSAGE(std::to_string(cpu) + " s of CPU in 1 s", cpu < 0.25);
		const std::size_t lines = logCount("cannot accept connections");
		CPPUNIT_ASSERT_MESSAGE(log, lines >= 1 && lines <= 2); // one per loop at most in 10 s
		CPPUNIT_ASSERT_MESSAGE(log, logCount("Too many open files") == lines);
		// Every served client has a working WebSocket (not a 101 and then EOF).
		// (Waits end as soon as every answer is in; the deadlines are for slow sanitizer builds on
		// a busy machine.)
		auto answered = [&](std::size_t size) {
			return [&clients, size] {
				for (const auto& c : clients)
					if (c.fd >= 0 && c.upgraded && !c.eof && c.in.size() < size) return false;
				return true;
			};
		};
		auto shortOnes = [&](const std::string& expected) {
			std::string text;
			for (std::size_t i = 0; i < clients.size(); ++i)
				if (clients[i].fd >= 0 && clients[i].upgraded && clients[i].in.substr(2) != expected)
					text += " client " + std::to_string(i) + (clients[i].eof ? " (eof)" : "") + " has " +
						std::to_string(clients[i].in.size()) + " bytes;";
			return text;
		};
		for (auto& c : clients)
			if (c.upgraded) CPPUNIT_ASSERT(::send(c.fd, frame(OpText, "served").data(), 12, MSG_NOSIGNAL) == 12);
		pump(10.0, answered(8));
		for (const auto& c : clients)
		{
			if (!c.upgraded) continue;
			CPPUNIT_ASSERT(!c.eof);
			CPPUNIT_ASSERT_MESSAGE(shortOnes("served"), c.in.size() == 8 && c.in.substr(2) == "served");
		}
		// Half of the served clients leave: the waiting ones are served at once.
		int left = 0;
		for (auto& c : clients)
		{
			if (c.upgraded && left < 200)
			{
				::close(c.fd);
				c.fd = -1;
				++left;
			}
			c.in.clear();
		}
		const int waiting = Clients - served;
		pump(10.0, [&] { return count(true) == Clients - left; });
		{
			int eofs = 0;
			for (const auto& c : clients) eofs += c.fd >= 0 && c.eof;
			std::lock_guard<std::mutex> lock(logMutex);
			CPPUNIT_ASSERT_EQUAL_MESSAGE("served " + std::to_string(served) + ", eof " + std::to_string(eofs) + ", log:\n" + log,
				Clients - left, count(true));
		}
		for (auto& c : clients)
		{
			if (c.fd < 0) continue;
			CPPUNIT_ASSERT(!c.eof);
			CPPUNIT_ASSERT(::send(c.fd, frame(OpText, "later").data(), 11, MSG_NOSIGNAL) == 11);
		}
		pump(10.0, answered(7));
		for (const auto& c : clients)
			if (c.fd >= 0) CPPUNIT_ASSERT_MESSAGE(shortOnes("later"), c.in.size() == 7 && c.in.substr(2) == "later");
		// A newcomer and the operator port work too, and the refusals were counted.
		{
			WsClient fresh(port, "/echo");
			fresh.sendText("fresh");
			CPPUNIT_ASSERT_EQUAL(std::string("fresh"), fresh.readFrame().payload);
		}
		const HttpAnswer metrics = httpGet(adminPort, "/metrics");
		const std::string counter = "\nparley_accept_out_of_descriptors_total ";
		const std::size_t at = metrics.body.find(counter);
		CPPUNIT_ASSERT_MESSAGE(metrics.body, at != std::string::npos && std::stoul(metrics.body.substr(at + counter.size())) >= 1);
		std::cout << " [" << served << " served at once, " << waiting << " waited, host CPU " << cpu
				  << " s in 1 s while out of descriptors, " << lines << " log line(s)] ";
		process.requestTermination();
		reader.join();
		CPPUNIT_ASSERT_EQUAL(0, process.wait());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostEdgeTest, "host");
