//
// AdmissionServer.h — a real third-party WebSocket server for the client's handshake tests:
// tests/client/py/admission_server.py (python3-websockets, run with Debian's /usr/bin/python3)
// on a free loopback port. It selects subprotocols, checks a bearer token or an Origin, refuses
// with a status, a body and WWW-Authenticate, or answers a subprotocol nobody offered; it records
// every upgrade request's headers, as received, on its output.
//
#ifndef PARLEY_TESTS_ADMISSIONSERVER_INCLUDED
#define PARLEY_TESTS_ADMISSIONSERVER_INCLUDED

#include "support/TestEnv.h"
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace parley {
namespace test {

class AdmissionServer
{
public:
	/// Starts the server with these arguments (see the script: --protocols, --answer-protocol,
	/// --token, --origin, --refuse, --body, --authenticate); returns once it listens (throws
	/// after 20 s). Another script that announces itself the same way may be given (DeflateServer).
	explicit AdmissionServer(const std::vector<std::string>& args = {}, const std::string& scriptPath = script())
	{
		std::vector<std::string> all{scriptPath};
		all.insert(all.end(), args.begin(), args.end());
		Poco::ProcessHandle handle = Poco::Process::launch(python(), all, &_input, &_output, &_output);
		_pid = handle.id();
		_reader = std::thread([this] { readOutput(); });
		std::unique_lock<std::mutex> lock(_mutex);
		if (!_changed.wait_for(lock, std::chrono::seconds(20), [this] { return _port != 0 || _ended; }) || _port == 0)
		{
			lock.unlock();
			const std::string text = output();
			stop();
			throw std::runtime_error("the admission server did not start: " + text);
		}
	}

	~AdmissionServer() { stop(); }
	AdmissionServer(const AdmissionServer&) = delete;
	AdmissionServer& operator=(const AdmissionServer&) = delete;

	std::uint16_t port() const { return _port; }
	/// Returns "ws://127.0.0.1:PORT" + path.
	std::string url(const std::string& path = "/") const { return "ws://127.0.0.1:" + std::to_string(_port) + path; }

	/// Everything the server printed so far.
	std::string output()
	{
		std::lock_guard<std::mutex> lock(_mutex);
		return _text;
	}
	/// The recorded upgrade requests so far: one JSON text each,
	/// {"path": "/x", "headers": [["Host", "127.0.0.1:PORT"], ...]}.
	std::vector<std::string> requests()
	{
		std::lock_guard<std::mutex> lock(_mutex);
		return _requests;
	}
	/// Waits up to 10 s for at least n recorded requests; returns them.
	std::vector<std::string> waitRequests(std::size_t n)
	{
		std::unique_lock<std::mutex> lock(_mutex);
		_changed.wait_for(lock, std::chrono::seconds(10), [&] { return _requests.size() >= n || _ended; });
		return _requests;
	}
	/// Waits up to 10 s for at least n output lines that start with `prefix`; returns them all,
	/// without the prefix.
	std::vector<std::string> waitLines(const std::string& prefix, std::size_t n)
	{
		std::unique_lock<std::mutex> lock(_mutex);
		std::vector<std::string> found;
		_changed.wait_for(lock, std::chrono::seconds(10), [&] {
			found.clear();
			for (std::size_t at = 0; at < _text.size();)
			{
				std::size_t end = _text.find('\n', at);
				if (end == std::string::npos)
					end = _text.size();
				if (_text.compare(at, prefix.size(), prefix) == 0)
					found.push_back(_text.substr(at + prefix.size(), end - at - prefix.size()));
				at = end + 1;
			}
			return found.size() >= n || _ended;
		});
		return found;
	}
	/// Returns the JSON text a header reaches the server as: ["Name", "value"].
	static std::string header(const std::string& name, const std::string& value)
	{
		return "[\"" + name + "\", \"" + value + "\"]";
	}
	/// Returns how often `needle` occurs in `text`.
	static std::size_t count(const std::string& text, const std::string& needle)
	{
		std::size_t n = 0;
		for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
			++n;
		return n;
	}

	static std::string script() { return sourceDir() + "/tests/client/py/admission_server.py"; }

	/// Stops the server and waits for it (idempotent).
	void stop()
	{
		if (_pid > 0)
		{
			_input.close(Poco::Pipe::CLOSE_WRITE);
			::kill(static_cast<pid_t>(_pid), SIGTERM);
			int status = 0;
			const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
			while (::waitpid(static_cast<pid_t>(_pid), &status, WNOHANG) == 0)
			{
				if (std::chrono::steady_clock::now() > deadline)
				{
					::kill(static_cast<pid_t>(_pid), SIGKILL);
					::waitpid(static_cast<pid_t>(_pid), &status, 0);
					break;
				}
				std::this_thread::sleep_for(std::chrono::milliseconds(10));
			}
			_pid = 0;
		}
		if (_reader.joinable())
			_reader.join();
	}

private:
	void readOutput()
	{
		Poco::PipeInputStream in(_output);
		std::string line;
		static const std::string announce = "listening on ws://127.0.0.1:";
		static const std::string request = "request ";
		while (std::getline(in, line))
		{
			std::lock_guard<std::mutex> lock(_mutex);
			_text += line + "\n";
			if (_port == 0 && line.compare(0, announce.size(), announce) == 0)
				_port = static_cast<std::uint16_t>(std::atoi(line.c_str() + announce.size()));
			else if (line.compare(0, request.size(), request) == 0)
				_requests.push_back(line.substr(request.size()));
			_changed.notify_all();
		}
		std::lock_guard<std::mutex> lock(_mutex);
		_ended = true;
		_changed.notify_all();
	}

	Poco::Pipe _input;
	Poco::Pipe _output;
	long _pid = 0;
	std::thread _reader;
	std::mutex _mutex;
	std::condition_variable _changed;
	std::string _text;
	std::vector<std::string> _requests;
	std::uint16_t _port = 0;
	bool _ended = false;
};

} // namespace test
} // namespace parley

#endif
