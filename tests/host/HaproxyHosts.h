//
// HaproxyHosts.h — three real parley-host processes started from etc/haproxy/host.properties on
// free ports, for the tests that put Debian's haproxy (Haproxy.h) in front of them
// (HostHaproxyTest, HostClusterTest): the hosts as HAProxy's backends, the test's faster health
// checks, their connection counts from /health, and which clients have bytes to read.
//
#ifndef PARLEY_TESTS_HOST_HAPROXYHOSTS_INCLUDED
#define PARLEY_TESTS_HOST_HAPROXYHOSTS_INCLUDED

#include "Haproxy.h"
#include "HostFiles.h"
#include "HostProcess.h"
#include "support/TestCertificates.h"
#include <cppunit/extensions/HelperMacros.h>
#include <algorithm>
#include <csignal>
#include <memory>
#include <poll.h>
#include <string>
#include <vector>

namespace parley {
namespace test {

/// Three hosts behind HAProxy; the destructor kills (SIGKILL) those still running and removes
/// the temporary folder.
class HaproxyHosts
{
public:
	/// `name`: the temporary folder's name part (HostFiles).
	explicit HaproxyHosts(const std::string& name) : _files(name) {}

	~HaproxyHosts()
	{
		for (auto& host : hosts)
		{
			if (!host) continue;
			::kill(host->runner.pid(), SIGKILL);
			host->runner.wait();
		}
	}

	HaproxyHosts(const HaproxyHosts&) = delete;
	HaproxyHosts& operator=(const HaproxyHosts&) = delete;

	/// Starts three hosts from etc/haproxy/host.properties (host-tls.properties if `tls`) on free
	/// ports, with the real plugins, a drain delay of `drainDelayMs` (2 s: above the checks'
	/// 300 ms with a margin for a loaded machine), the test certificates, and `extra` appended to
	/// the configuration (e.g. "cluster.redis = ...").
	void start(bool tls, const std::string& extra = std::string(), int drainDelayMs = 2000)
	{
		const TestCertificates& certificates = TestCertificates::get();
		std::vector<Edit> edits = {{"engine.drain_delay_ms = 4000", "engine.drain_delay_ms = " + std::to_string(drainDelayMs)}};
		if (tls)
		{
			edits.push_back({"tls/cert.pem", certificates.certFile()});
			edits.push_back({"tls/key.pem", certificates.keyFile()});
		}
		const std::string text = exampleText(tls ? "etc/haproxy/host-tls.properties" : "etc/haproxy/host.properties", edits) +
			"\n# the test's\nserver.port = 0\nadmin.port = 0\nplugins.watch = false\nplugins.dir = " + pluginDir() + "\n" + extra;
		const std::string config = _files.write(text);
		for (int i = 0; i < 3; ++i) hosts.push_back(std::make_unique<HostProcess>(config, 300));
	}

	/// The hosts' ports, for Haproxy.
	std::vector<Haproxy::Backend> backends() const
	{
		std::vector<Haproxy::Backend> result;
		for (const auto& host : hosts) result.push_back({host->port, host->adminPort});
		return result;
	}

	/// The test's changes to the examples of etc/haproxy/: health checks every 200 ms (100 ms when
	/// a host is going down), so that a draining host is out within about 300 ms.
	static std::vector<Edit> checkEdits()
	{
		return {{"default-server check inter 2s fastinter 500ms downinter 2s fall 2 rise 2",
			"default-server check inter 200ms fastinter 100ms downinter 200ms fall 2 rise 2"}};
	}

	/// Waits until HAProxy has the three servers host1..host3 of `backend` UP.
	static void waitAllUp(const Haproxy& haproxy, const std::string& backend)
	{
		for (int i = 1; i <= 3; ++i) haproxy.waitForStatus(backend + "/host" + std::to_string(i), "UP");
	}

	/// The open connections of host `i` as its /health counts them.
	int connections(std::size_t i) const
	{
		const HttpAnswer health = httpGet(hosts[i]->adminPort, "/health");
		const std::string key = "\"connections\":";
		const std::size_t at = health.body.find(key);
		CPPUNIT_ASSERT_MESSAGE(health.body, at != std::string::npos);
		return std::stoi(health.body.substr(at + key.size()));
	}

	/// The folder of the configuration files (and of HAProxy's).
	const std::string& dir() const { return _files.dir(); }

	/// The hosts, in the order of HAProxy's host1..host3; a test may reset one it has stopped.
	std::vector<std::unique_ptr<HostProcess>> hosts;

private:
	HostFiles _files;
};

/// The indexes of the clients, but those in `except`, with bytes to read within `ms` milliseconds.
inline std::vector<std::size_t> readable(const std::vector<std::unique_ptr<WsClient>>& clients,
	const std::vector<std::size_t>& except, int ms)
{
	std::vector<pollfd> fds;
	for (std::size_t i = 0; i < clients.size(); ++i)
	{
		const bool skip = std::find(except.begin(), except.end(), i) != except.end();
		fds.push_back({skip ? -1 : clients[i]->fd(), POLLIN, 0});
	}
	std::vector<std::size_t> result;
	if (::poll(fds.data(), fds.size(), ms) <= 0) return result;
	for (std::size_t i = 0; i < fds.size(); ++i)
		if (fds[i].revents != 0) result.push_back(i);
	return result;
}

} // namespace test
} // namespace parley

#endif
