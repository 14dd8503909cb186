//
// ClientTestHost.h — the real Parley host, in-process on an ephemeral port with the real plugins
// from the build (/ws → random-suffix, /echo → echo), for the client tests.
//
#ifndef PARLEY_TESTS_CLIENTTESTHOST_INCLUDED
#define PARLEY_TESTS_CLIENTTESTHOST_INCLUDED

#include "parley/PluginRegistry.h"
#include "parley/config/HostConfig.h"
#include "parley/host/HostServer.h"
#include "support/TestEnv.h"
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <memory>
#include <string>

namespace parley {
namespace test {

class ClientTestHost
{
public:
	/// Starts the host; maxMessageSize is engine.max_message_size, pingIntervalMs engine.ping_interval_ms.
	explicit ClientTestHost(std::uint64_t maxMessageSize = 16u << 20, unsigned pingIntervalMs = 0) :
		_logger(Poco::Logger::get("client-test-host"))
	{
		_logger.setLevel(Poco::Message::PRIO_WARNING);
		_registry = std::make_unique<PluginRegistry>(_logger);
		_registry->loadDirectory(pluginDir());
		HostConfig config;
		config.address = "127.0.0.1";
		config.port = 0;
		config.adminPort = 0;
		config.pluginDir = pluginDir();
		config.routes["/ws"] = {"random-suffix"};
		config.routes["/echo"] = {"echo"};
		// /zecho: echo with permessage-deflate (the host's defaults: it keeps no window).
		config.routes["/zecho"] = {"echo"};
		config.routeOptions["/zecho"].deflate = true;
		config.engine.maxMessageSize = maxMessageSize;
		config.engine.pingIntervalMs = pingIntervalMs;
		config.engine.maxConnectionsPerIp = 0;     // load runs open many connections from 127.0.0.1
		config.engine.handshakesPerIpPerS = 0;
		_server = std::make_unique<host::HostServer>(config, *_registry, _logger);
		_server->start();
	}

	~ClientTestHost()
	{
		_server.reset();
		_registry.reset();
	}

	std::uint16_t port() const { return _server->port(); }
	host::Metrics metrics() const { return _server->metrics(); }
	/// "ws://127.0.0.1:PORT" + path.
	std::string url(const std::string& path) const { return "ws://127.0.0.1:" + std::to_string(port()) + path; }

private:
	Poco::Logger& _logger;
	std::unique_ptr<PluginRegistry> _registry;
	std::unique_ptr<host::HostServer> _server;
};

} // namespace test
} // namespace parley

#endif
