//
// HostServer.cpp
//
#include "parley/host/HostServer.h"
#include "EventLoopPool.h"
#include "RequestHandlerFactory.h"
#include "parley/PluginRegistry.h"
#include <Poco/Exception.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>
#include <algorithm>
#include <cerrno>
#include <sched.h>
#include <stdexcept>
#include <thread>

namespace parley {
namespace host {

namespace {

/// The number of CPUs this process may run on (its affinity mask), at least 1.
unsigned usableCores()
{
	cpu_set_t set;
	CPU_ZERO(&set);
	if (::sched_getaffinity(0, sizeof(set), &set) == 0)
	{
		const int n = CPU_COUNT(&set);
		if (n > 0) return static_cast<unsigned>(n);
	}
	const unsigned n = std::thread::hardware_concurrency();
	return n ? n : 1;
}

/// Listen backlog: handshakes arrive in bursts (e.g. 10,000 clients connecting at once).
constexpr int ListenBacklog = 1024;

} // namespace

HostServer::HostServer(const HostConfig& config, PluginRegistry& registry, Poco::Logger& logger):
	_config(config),
	_logger(logger)
{
	if (_config.routes.empty()) throw ConfigError("route.*: no route configured (expected e.g. route./ws = random-suffix)");
	if (_config.routes.size() > 65535) throw ConfigError("route.*: too many routes");
	for (const auto& route : _config.routes)
	{
		const std::string key = "route." + route.first;
		if (route.first.empty() || route.first[0] != '/') throw ConfigError(key + ": a route path must start with '/'");
		if (route.second.empty()) throw ConfigError(key + ": route has no plugins (expected e.g. " + key + " = echo)");
		for (const std::string& plugin : route.second)
		{
			if (!registry.has(plugin))
			{
				std::string loaded;
				for (const auto& description : registry.plugins())
					loaded += (loaded.empty() ? "" : ", ") + description.name;
				throw ConfigError(key + ": unknown plugin '" + plugin + "' (loaded: " + (loaded.empty() ? "none" : loaded) + ")");
			}
		}
		_routePaths.push_back(route.first);
	}
	const unsigned loops = _config.engine.threads ? _config.engine.threads : std::min(usableCores(), 256u);
	if (loops > 256) throw ConfigError("engine.threads: " + std::to_string(loops) + " is out of range (0..256)");
	_pool = std::make_unique<EventLoopPool>(loops, _config, _routePaths, registry, _logger);
}

HostServer::~HostServer()
{
	try
	{
		stop();
	}
	catch (...)
	{
	}
}

void HostServer::start()
{
	if (_started) throw std::logic_error("HostServer::start() called twice");
	const std::string where = "port " + std::to_string(_config.port) + " on " + _config.address;
	Poco::Net::SocketAddress address;
	try
	{
		address = Poco::Net::SocketAddress(_config.address, _config.port);
	}
	catch (const Poco::Exception& e)
	{
		throw ConfigError("server.address: '" + _config.address + "' is not a usable address (" + e.displayText() + ")");
	}
	Poco::Net::ServerSocket socket;
	try
	{
		// No SO_REUSEPORT: a second server on the same port must fail, not share it.
		socket.bind(address, true, false);
		socket.listen(ListenBacklog);
	}
	catch (const Poco::Exception& e)
	{
		if (e.code() == EADDRINUSE || e.displayText().find("in use") != std::string::npos)
			throw ConfigError("server.port: " + where + " is in use");
		if (e.code() == EACCES || e.displayText().find("ermission") != std::string::npos)
			throw ConfigError("server.port: " + where + " needs more privileges (" + e.displayText() + ")");
		throw ConfigError("server.address: cannot listen on " + _config.address + ":" + std::to_string(_config.port) +
			" (" + e.displayText() + ")");
	}
	_port = socket.address().port();

	std::map<std::string, std::uint16_t> routes;
	for (std::size_t i = 0; i < _routePaths.size(); ++i) routes[_routePaths[i]] = static_cast<std::uint16_t>(i);

	const int httpThreads = static_cast<int>(_config.httpThreads ? _config.httpThreads : 1);
	Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
	params->setMaxThreads(httpThreads);
	params->setMaxQueued(4096);
	params->setTimeout(Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(_config.engine.handshakeTimeoutMs) * 1000));
	params->setKeepAlive(true);
	// An idle keep-alive HTTP connection holds one of the few HTTP threads: do not wait long.
	const unsigned keepAliveMs = std::min(_config.engine.handshakeTimeoutMs, 5000u);
	params->setKeepAliveTimeout(Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(keepAliveMs) * 1000));
	params->setServerName(_config.address);
	params->setSoftwareVersion("parley-host");

	_threads = std::make_unique<Poco::ThreadPool>("parley-http", 1, httpThreads + 1);
	_pool->start();
	_http = std::make_unique<Poco::Net::HTTPServer>(new RequestHandlerFactory(*_pool, std::move(routes)), *_threads,
		socket, params);
	_http->start();
	_started = true;
}

void HostServer::stop()
{
	if (_stopped) return;
	_stopped = true;
	if (_http)
	{
		// Stop accepting, abort keep-alive HTTP connections, and wait for handlers in flight
		// (they may still hand sockets to the loops).
		_http->stopAll(true);
		_threads->joinAll();
	}
	if (_pool) _pool->stop();
	_http.reset();
	_threads.reset();
}

std::uint16_t HostServer::port() const
{
	return _port;
}

unsigned HostServer::loopCount() const
{
	return _pool->size();
}

std::size_t HostServer::connectionCount() const
{
	return _pool->open();
}

Metrics HostServer::metrics() const
{
	return _pool->metrics();
}

std::string HostServer::describe() const
{
	std::string routes;
	for (const auto& route : _config.routes)
	{
		if (!routes.empty()) routes += ", ";
		routes += route.first + " -> ";
		for (std::size_t i = 0; i < route.second.size(); ++i) routes += (i ? " + " : "") + route.second[i];
	}
	const unsigned loops = _pool->size();
	return "parley-host listening on ws://" + _config.address + ":" + std::to_string(_port) + " (routes: " + routes +
		"; " + std::to_string(loops) + (loops == 1 ? " loop)" : " loops)");
}

} // namespace host
} // namespace parley
