//
// Haproxy.h — Debian's haproxy started by a test (-db, in the foreground) with one of the example
// configurations of etc/haproxy/, its ports, paths and check intervals replaced, on free loopback
// ports; its log collected by a thread of its own; its statistics (the CSV of the stats page) read
// to know each server's state and sessions. Also: the check that a Debian tool a test needs is
// there, and the example files read with their required replacements.
//
#ifndef PARLEY_TESTS_HOST_HAPROXY_INCLUDED
#define PARLEY_TESTS_HOST_HAPROXY_INCLUDED

#include "HostTestSupport.h"
#include "ProcessRunner.h"
#include "support/Ports.h"
#include "support/TestCertificates.h"
#include "support/TestEnv.h"
#include <Poco/File.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <cppunit/extensions/HelperMacros.h>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace parley {
namespace test {

/// Whether the Debian tool `program` (from package `package`) can be used. When it is missing and
/// apt knows the package (so scripts/setup.sh would install it), the test fails with one line that
/// says so; only where the package cannot be installed does it print one line "[SKIPPED: ...]" and
/// return false, so that the calling test ends as passed-but-skipped, visibly.
inline bool debianToolOrSkip(const std::string& program, const std::string& package)
{
	if (onPath(program) || Poco::File("/usr/sbin/" + program).exists()) return true;
	const bool installable =
		std::system(("apt-cache show " + package + " >/dev/null 2>&1").c_str()) == 0;
	CPPUNIT_ASSERT_MESSAGE(program + " is not installed but Debian's package " + package +
			" is available: run scripts/setup.sh (it installs " + package + ")",
		!installable);
	std::cout << " [SKIPPED: " << program << " is not installed and package " << package
			  << " cannot be installed here] " << std::flush;
	return false;
}

/// One text replacement in an example file: `from` must occur in it (each occurrence is replaced).
using Edit = std::pair<std::string, std::string>;

/// The text of sourceDir()/`relativePath` with `edits` applied in order; fails the test if a `from`
/// is not in the text (so the example cannot drift away from what its test replaces).
inline std::string exampleText(const std::string& relativePath, const std::vector<Edit>& edits)
{
	std::ifstream in(sourceDir() + "/" + relativePath);
	CPPUNIT_ASSERT_MESSAGE("cannot read " + relativePath, in.good());
	std::stringstream buffer;
	buffer << in.rdbuf();
	std::string text = buffer.str();
	for (const auto& edit : edits)
	{
		std::size_t at = text.find(edit.first);
		CPPUNIT_ASSERT_MESSAGE(relativePath + " no longer contains '" + edit.first + "'", at != std::string::npos);
		while (at != std::string::npos)
		{
			text.replace(at, edit.first.size(), edit.second);
			at = text.find(edit.first, at + edit.second.size());
		}
	}
	return text;
}

/// A haproxy process running an example of etc/haproxy/ against the hosts of a test.
class Haproxy
{
public:
	/// The public and operator ports of one parley-host.
	struct Backend
	{
		std::uint16_t port = 0;
		std::uint16_t adminPort = 0;
	};

	/// One server's line of the statistics.
	struct ServerStats
	{
		std::string status;   ///< "UP", "DOWN", "UP 1/2" (going down), "DOWN 1/2" (going up), ...
		int sessions = 0;     ///< current sessions (scur)
		int total = 0;        ///< sessions since start (stot)
	};

	/// Writes etc/haproxy/`example` into `dir` as haproxy.cfg with: the demo hosts
	/// 127.0.0.1:9001..9003 (operator ports 9101..9103) replaced by `hosts` (three), the frontend
	/// ports 8000 / 8443 and the stats port 8404 by free ones, then `edits`; starts haproxy -db on
	/// it and waits (up to 10 s) until its stats page answers. parley.cfg gets the test certificate
	/// (TestCertificates, CN localhost, IP 127.0.0.1) as its tls/haproxy.pem. Fails the test if it does not start.
	Haproxy(const std::string& example, const std::vector<Backend>& hosts, const std::vector<Edit>& edits,
		const std::string& dir)
	{
		_plain = closedPort();
		do _tls = closedPort();
		while (_tls == _plain);
		do _stats = closedPort();
		while (_stats == _plain || _stats == _tls);
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), hosts.size());
		std::vector<Edit> all;
		for (std::size_t i = 0; i < hosts.size(); ++i)
		{
			all.push_back({"127.0.0.1:900" + std::to_string(i + 1), "127.0.0.1:" + std::to_string(hosts[i].port)});
			all.push_back({"check port 910" + std::to_string(i + 1), "check port " + std::to_string(hosts[i].adminPort)});
		}
		const bool http = example == "parley.cfg";
		if (http) all.push_back({"127.0.0.1:8000", "127.0.0.1:" + std::to_string(_plain)});
		all.push_back({"127.0.0.1:8443", "127.0.0.1:" + std::to_string(_tls)});
		all.push_back({"127.0.0.1:8404", "127.0.0.1:" + std::to_string(_stats)});
		if (http)
		{
			// HAProxy's certificate: the test certificate and its key in one PEM file.
			const TestCertificates& certificates = TestCertificates::get();
			const std::string pem = dir + "haproxy.pem";
			std::ofstream out(pem);
			out << std::ifstream(certificates.certFile()).rdbuf() << std::ifstream(certificates.keyFile()).rdbuf();
			all.push_back({"crt tls/haproxy.pem", "crt " + pem});
		}
		all.insert(all.end(), edits.begin(), edits.end());
		_config = dir + "haproxy.cfg";
		{
			std::ofstream out(_config);
			out << exampleText("etc/haproxy/" + example, all);
		}
		const std::string binary = Poco::File("/usr/sbin/haproxy").exists() ? "/usr/sbin/haproxy" : "haproxy";
		_process = std::make_unique<LoggedProcess>(binary, std::vector<std::string>{"-db", "-f", _config}, 300);
		const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
		for (;;)
		{
			try
			{
				stats();
				break;
			}
			catch (const std::exception&)
			{
			}
			if (ended() || std::chrono::steady_clock::now() > deadline)
			{
				const std::string text = log();
				stop();
				CPPUNIT_FAIL("haproxy did not start (" + _config + "): " + text);
			}
			::usleep(20000);
		}
	}

	~Haproxy() { stop(); }

	Haproxy(const Haproxy&) = delete;
	Haproxy& operator=(const Haproxy&) = delete;

	std::uint16_t plainPort() const { return _plain; } ///< the ws:// frontend (parley.cfg)
	std::uint16_t tlsPort() const { return _tls; }     ///< the TLS frontend (HAProxy's or passthrough)

	/// Stops haproxy (SIGTERM) and waits for it; idempotent.
	void stop()
	{
		_process.reset();
	}

	/// Everything haproxy printed so far (alerts, warnings, one log line per connection).
	std::string log() const { return _process ? _process->log() : std::string(); }

	/// Each server of each backend ("backend/server") with its state and sessions, from the CSV
	/// of the stats page. Throws if the page cannot be read.
	std::map<std::string, ServerStats> stats() const
	{
		Poco::Net::HTTPClientSession session("127.0.0.1", _stats);
		session.setTimeout(Poco::Timespan(5, 0));
		Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/stats;csv", Poco::Net::HTTPMessage::HTTP_1_1);
		session.sendRequest(request);
		Poco::Net::HTTPResponse response;
		std::istream& body = session.receiveResponse(response);
		std::string csv;
		Poco::StreamCopier::copyToString(body, csv);
		if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) throw std::runtime_error("stats: " + csv);
		std::istringstream lines(csv);
		std::string line;
		std::getline(lines, line);
		if (line.compare(0, 2, "# ") != 0) throw std::runtime_error("stats: no CSV header: " + line);
		const std::vector<std::string> header = split(line.substr(2));
		auto column = [&header](const std::string& name) {
			for (std::size_t i = 0; i < header.size(); ++i)
				if (header[i] == name) return i;
			throw std::runtime_error("stats: no column " + name);
		};
		const std::size_t proxy = column("pxname"), server = column("svname"), status = column("status"),
						  current = column("scur"), total = column("stot");
		std::map<std::string, ServerStats> result;
		while (std::getline(lines, line))
		{
			const std::vector<std::string> fields = split(line);
			if (fields.size() < header.size() || fields[server] == "FRONTEND" || fields[server] == "BACKEND") continue;
			ServerStats s;
			s.status = fields[status];
			s.sessions = std::stoi(fields[current]);
			s.total = std::stoi(fields[total]);
			result[fields[proxy] + "/" + fields[server]] = s;
		}
		return result;
	}

	/// The state of server `name` ("backend/server"), as stats() says.
	ServerStats server(const std::string& name) const
	{
		const auto all = stats();
		const auto it = all.find(name);
		if (it == all.end()) throw std::runtime_error("stats: no server " + name);
		return it->second;
	}

	/// Polls the stats every 20 ms until server `name` has exactly the status `status` ("UP" or
	/// "DOWN"); fails the test after `seconds`. Returns the stats of that moment.
	ServerStats waitForStatus(const std::string& name, const std::string& status, int seconds = 10) const
	{
		const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
		ServerStats last;
		for (;;)
		{
			last = server(name);
			if (last.status == status) return last;
			if (std::chrono::steady_clock::now() > deadline)
				CPPUNIT_FAIL(name + " is still " + last.status + ", not " + status + ", after " + std::to_string(seconds) +
					" s; haproxy's log: " + log());
			::usleep(20000);
		}
	}

private:
	static std::vector<std::string> split(const std::string& line)
	{
		std::vector<std::string> fields;
		std::size_t start = 0;
		for (;;)
		{
			const std::size_t comma = line.find(',', start);
			fields.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
			if (comma == std::string::npos) return fields;
			start = comma + 1;
		}
	}

	bool ended() const { return !_process || _process->ended(); }

	std::uint16_t _plain = 0, _tls = 0, _stats = 0;
	std::string _config;
	std::unique_ptr<LoggedProcess> _process;
};

} // namespace test
} // namespace parley

#endif
