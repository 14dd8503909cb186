//
// ProcessRunner.h — runs a child process with its stdout and stderr in one pipe, with a watchdog
// that kills it if it outlives a time limit (so a hanging child fails a test instead of hanging it).
//
#ifndef PARLEY_TESTS_HOST_PROCESSRUNNER_INCLUDED
#define PARLEY_TESTS_HOST_PROCESSRUNNER_INCLUDED

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <chrono>
#include <csignal>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace parley {
namespace test {

class ProcessRunner
{
public:
	/// Starts `command` with `args`; kills it after `limitSeconds`.
	ProcessRunner(const std::string& command, const std::vector<std::string>& args, int limitSeconds)
		: _handle(Poco::Process::launch(command, args, nullptr, &_pipe, &_pipe)), _output(_pipe)
	{
		_pipe.close(Poco::Pipe::CLOSE_WRITE);
		_watchdog = std::thread([this, limitSeconds] {
			std::unique_lock<std::mutex> lock(_mutex);
			if (!_done.wait_for(lock, std::chrono::seconds(limitSeconds), [this] { return _finished; }))
			{
				_killed = true;
				try
				{
					Poco::Process::kill(_handle);
				}
				catch (...)
				{
				}
			}
		});
	}

	~ProcessRunner()
	{
		try
		{
			if (!_waited) wait();
		}
		catch (...)
		{
		}
		finish();
	}

	/// Reads one line of output (without the newline); returns false at EOF.
	bool readLine(std::string& line)
	{
		if (!std::getline(_output, line)) return false;
		_all += line + "\n";
		return true;
	}

	/// Reads the rest of the output, waits for the exit and returns the exit code.
	int wait()
	{
		std::string line;
		while (readLine(line))
		{
		}
		_waited = true;
		const int code = _handle.wait();
		finish();
		return code;
	}

	/// Asks the process to stop (SIGINT).
	void requestTermination() { Poco::Process::requestTermination(_handle.id()); }

	/// The process id (for signals such as SIGHUP).
	int pid() const { return static_cast<int>(_handle.id()); }

	/// Everything read so far.
	const std::string& output() const { return _all; }

	bool killed() const { return _killed; }

private:
	void finish()
	{
		{
			std::lock_guard<std::mutex> lock(_mutex);
			_finished = true;
		}
		_done.notify_all();
		if (_watchdog.joinable()) _watchdog.join();
	}

	Poco::Pipe _pipe;
	Poco::ProcessHandle _handle;
	Poco::PipeInputStream _output;
	std::string _all;
	std::thread _watchdog;
	std::mutex _mutex;
	std::condition_variable _done;
	bool _finished = false;
	bool _killed = false;
	bool _waited = false;
};

/// A server a test runs in the background (haproxy, redis-server): its output gathered by a
/// thread of its own, SIGTERM to stop it.
class LoggedProcess
{
public:
	/// Starts `command` with `args` (killed after `limitSeconds`).
	LoggedProcess(const std::string& command, const std::vector<std::string>& args, int limitSeconds)
		: _runner(command, args, limitSeconds)
	{
		_reader = std::thread([this] {
			std::string line;
			while (_runner.readLine(line))
			{
				std::lock_guard<std::mutex> lock(_mutex);
				_log += line + "\n";
			}
			std::lock_guard<std::mutex> lock(_mutex);
			_ended = true;
		});
	}

	/// SIGTERM, then waits for it to end.
	~LoggedProcess()
	{
		::kill(_runner.pid(), SIGTERM);
		if (_reader.joinable()) _reader.join();
		_runner.wait();
	}

	LoggedProcess(const LoggedProcess&) = delete;
	LoggedProcess& operator=(const LoggedProcess&) = delete;

	/// Everything it printed so far.
	std::string log() const
	{
		std::lock_guard<std::mutex> lock(_mutex);
		return _log;
	}

	int pid() const { return _runner.pid(); }

	/// True once its output has ended (it exited).
	bool ended() const
	{
		std::lock_guard<std::mutex> lock(_mutex);
		return _ended;
	}

private:
	ProcessRunner _runner;
	std::thread _reader;
	mutable std::mutex _mutex;
	std::string _log;
	bool _ended = false;
};

} // namespace test
} // namespace parley

#endif
