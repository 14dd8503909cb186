//
// RedisServer.h — Debian's redis-server started by a test on a free loopback port, without
// persistence (no RDB, no AOF), in the foreground; stopped (SIGTERM) by the destructor. A test
// can stop it and start it again on the same port (Redis down and back, mid-run), and send it
// commands (redis-cli is not needed: one RESP command over a socket).
//
#ifndef PARLEY_TESTS_HOST_REDISSERVER_INCLUDED
#define PARLEY_TESTS_HOST_REDISSERVER_INCLUDED

#include "Haproxy.h" // debianToolOrSkip
#include "ProcessRunner.h"
#include "support/Ports.h"
#include <Poco/File.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <cppunit/extensions/HelperMacros.h>
#include <chrono>
#include <csignal>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace parley {
namespace test {

class RedisServer
{
public:
	/// Starts redis-server on a free port (`password`: requirepass, "" = none) and waits up to
	/// 10 s until it answers PING. Fails the test if it does not.
	explicit RedisServer(std::string password = std::string()) : _password(std::move(password))
	{
		_port = closedPort();
		start();
	}

	~RedisServer()
	{
		if (_process) ::kill(_process->pid(), SIGCONT);
		stop();
	}

	RedisServer(const RedisServer&) = delete;
	RedisServer& operator=(const RedisServer&) = delete;

	std::uint16_t port() const { return _port; }
	/// "127.0.0.1:<port>", the value of cluster.redis.
	std::string address() const { return "127.0.0.1:" + std::to_string(_port); }

	/// Starts it (again) on the same port; waits until it answers.
	void start()
	{
		if (_process) return;
		const std::string binary = Poco::File("/usr/bin/redis-server").exists() ? "/usr/bin/redis-server" : "redis-server";
		std::vector<std::string> args{"--port", std::to_string(_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--daemonize", "no", "--dir", "/tmp", "--loglevel", "warning"};
		if (!_password.empty())
		{
			args.push_back("--requirepass");
			args.push_back(_password);
		}
		_process = std::make_unique<LoggedProcess>(binary, args, 600);
		const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
		for (;;)
		{
			try
			{
				const std::string reply = command({"PING"});
				if (reply == "+PONG\r\n" || reply.rfind("-NOAUTH", 0) == 0) break;
			}
			catch (const std::exception&)
			{
			}
			if (std::chrono::steady_clock::now() > deadline)
			{
				const std::string text = log();
				stop();
				CPPUNIT_FAIL("redis-server did not start on port " + std::to_string(_port) + ": " + text);
			}
			::usleep(20000);
		}
	}

	/// Stops it (SIGTERM, no save) and waits; idempotent.
	void stop()
	{
		_process.reset();
	}

	bool running() const { return _process != nullptr; }

	/// SIGSTOP / SIGCONT: a Redis that keeps its connections and port but answers nothing.
	void pause() { CPPUNIT_ASSERT(_process && ::kill(_process->pid(), SIGSTOP) == 0); }
	void resume() { CPPUNIT_ASSERT(_process && ::kill(_process->pid(), SIGCONT) == 0); }

	/// Sends one command (AUTH first when there is a password) and returns the raw RESP reply
	/// of the command (as much as came within 2 s). Throws if Redis cannot be reached.
	std::string command(const std::vector<std::string>& words) const
	{
		Poco::Net::StreamSocket socket;
		socket.connect(Poco::Net::SocketAddress("127.0.0.1", _port), Poco::Timespan(2, 0));
		socket.setReceiveTimeout(Poco::Timespan(2, 0));
		std::string out;
		if (!_password.empty()) out += encode({"AUTH", _password});
		out += encode(words);
		socket.sendBytes(out.data(), static_cast<int>(out.size()));
		std::string reply;
		char buffer[4096];
		const std::size_t skip = _password.empty() ? 0 : 5; // "+OK\r\n" of AUTH
		while (reply.size() <= skip || !complete(reply.substr(skip)))
		{
			const int n = socket.receiveBytes(buffer, sizeof buffer);
			if (n <= 0) break;
			reply.append(buffer, static_cast<std::size_t>(n));
		}
		return reply.substr(std::min(skip, reply.size()));
	}

	std::string log() const { return _process ? _process->log() : std::string(); }

private:
	static std::string encode(const std::vector<std::string>& words)
	{
		std::string out = "*" + std::to_string(words.size()) + "\r\n";
		for (const auto& w : words) out += "$" + std::to_string(w.size()) + "\r\n" + w + "\r\n";
		return out;
	}

	/// Whether `reply` holds one whole RESP value (simple, error, integer, bulk, or an array of those).
	static bool complete(const std::string& reply)
	{
		std::size_t at = 0;
		return parse(reply, at);
	}
	static bool parse(const std::string& r, std::size_t& at)
	{
		const std::size_t end = r.find("\r\n", at);
		if (end == std::string::npos) return false;
		const char type = r[at];
		const std::string head = r.substr(at + 1, end - at - 1);
		at = end + 2;
		if (type == '$')
		{
			const long n = std::stol(head);
			if (n < 0) return true;
			if (r.size() < at + static_cast<std::size_t>(n) + 2) return false;
			at += static_cast<std::size_t>(n) + 2;
			return true;
		}
		if (type == '*')
		{
			const long n = std::stol(head);
			for (long i = 0; i < n; ++i)
				if (!parse(r, at)) return false;
		}
		return true;
	}

	std::string _password;
	std::uint16_t _port = 0;
	std::unique_ptr<LoggedProcess> _process;
};

} // namespace test
} // namespace parley

#endif
