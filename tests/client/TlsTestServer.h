//
// TlsTestServer.h — TLS for the client tests with real third-party parts: a certificate made at
// run time with the openssl command, and a TLS WebSocket echo server of python3-websockets
// (tests/client/py/tls_echo_server.py, run with Debian's /usr/bin/python3) on a free port.
//
#ifndef PARLEY_TESTS_TLSTESTSERVER_INCLUDED
#define PARLEY_TESTS_TLSTESTSERVER_INCLUDED

#include "support/TestEnv.h"
#include <Poco/File.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>
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

/// The openssl command (Debian's openssl package).
inline std::string opensslCommand() { return PARLEY_OPENSSL; }

/// A fresh folder under /tmp, removed with everything in it at the end.
class TempDir
{
public:
	TempDir()
	{
		char pattern[] = "/tmp/parley-tls-test-XXXXXX";
		if (!::mkdtemp(pattern))
			throw std::runtime_error("cannot create a temporary folder");
		_path = pattern;
	}
	~TempDir()
	{
		try
		{
			Poco::File(_path).remove(true);
		}
		catch (...)
		{
		}
	}
	TempDir(const TempDir&) = delete;
	TempDir& operator=(const TempDir&) = delete;
	const std::string& path() const { return _path; }

private:
	std::string _path;
};

/// A self-signed EC P-256 certificate and its key, made with `openssl req -x509` for the given
/// subjectAltName, in their own temporary folder.
class TestCertificate
{
public:
	explicit TestCertificate(const std::string& subjectAltName = "IP:127.0.0.1,DNS:localhost") :
		_cert(_dir.path() + "/cert.pem"), _key(_dir.path() + "/key.pem")
	{
		Poco::Pipe output;
		Poco::ProcessHandle handle = Poco::Process::launch(opensslCommand(),
			{"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", _key, "-out",
				_cert, "-days", "2", "-subj", "/CN=parley-test", "-addext", "subjectAltName=" + subjectAltName},
			nullptr, &output, &output);
		std::string text;
		Poco::PipeInputStream in(output);
		Poco::StreamCopier::copyToString(in, text);
		if (handle.wait() != 0)
			throw std::runtime_error("openssl could not make a test certificate: " + text);
	}
	/// The certificate (PEM), also usable as a CA file.
	const std::string& certFile() const { return _cert; }
	const std::string& keyFile() const { return _key; }
	/// The folder holding both.
	const std::string& dir() const { return _dir.path(); }

private:
	TempDir _dir;
	std::string _cert;
	std::string _key;
};

/// The echo server of tests/client/py/tls_echo_server.py: every message on every path comes back
/// as it was sent; ping, pong and close as RFC 6455 says. Stopped (SIGTERM, then SIGKILL) by the
/// destructor.
class TlsEchoServer
{
public:
	/// Starts the server with this certificate; returns once it listens (throws after 20 s).
	explicit TlsEchoServer(const TestCertificate& certificate)
	{
		Poco::ProcessHandle handle = Poco::Process::launch(python(), {script(), "--cert", certificate.certFile(), "--key",
			certificate.keyFile()}, &_input, &_output, &_output);
		_pid = handle.id();
		_reader = std::thread([this] { readOutput(); });
		std::unique_lock<std::mutex> lock(_mutex);
		if (!_changed.wait_for(lock, std::chrono::seconds(20), [this] { return _port != 0 || _ended; }) || _port == 0)
		{
			lock.unlock();
			const std::string text = output();
			stop();
			throw std::runtime_error("the TLS echo server did not start: " + text);
		}
	}

	~TlsEchoServer() { stop(); }
	TlsEchoServer(const TlsEchoServer&) = delete;
	TlsEchoServer& operator=(const TlsEchoServer&) = delete;

	std::uint16_t port() const { return _port; }
	/// Returns "wss://127.0.0.1:PORT" + path.
	std::string url(const std::string& path = "/") const { return "wss://127.0.0.1:" + std::to_string(_port) + path; }
	/// Everything the server printed so far.
	std::string output()
	{
		std::lock_guard<std::mutex> lock(_mutex);
		return _text;
	}
	/// The server script.
	static std::string script() { return sourceDir() + "/tests/client/py/tls_echo_server.py"; }

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
		static const std::string announce = "listening on wss://127.0.0.1:";
		while (std::getline(in, line))
		{
			std::lock_guard<std::mutex> lock(_mutex);
			_text += line + "\n";
			if (_port == 0 && line.compare(0, announce.size(), announce) == 0)
				_port = static_cast<std::uint16_t>(std::atoi(line.c_str() + announce.size()));
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
	std::uint16_t _port = 0;
	bool _ended = false;
};

} // namespace test
} // namespace parley

#endif
