//
// HostServer.cpp
//
#include "parley/host/HostServer.h"
#include "AdminHandlerFactory.h"
#include "EventLoopPool.h"
#include "HostContext.h"
#include "TlsContext.h"
#include "parley/PluginRegistry.h"
#include "parley/PluginWatcher.h"
#include "parley/host/PluginCatalog.h"
#include <Poco/Exception.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>
#include <algorithm>
#include <chrono>
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

/// Listen backlog: handshakes arrive in bursts (e.g. 10,000 clients connecting at once), and
/// clients wait there while the host is out of descriptors.
constexpr int ListenBacklog = 1024;

/// Binds and listens; throws ConfigError naming `key` ("server" or "admin").
std::unique_ptr<Poco::Net::ServerSocket> listenOn(const std::string& key, const std::string& host, std::uint16_t port,
	int backlog)
{
	const std::string where = "port " + std::to_string(port) + " on " + host;
	Poco::Net::SocketAddress address;
	try
	{
		address = Poco::Net::SocketAddress(host, port);
	}
	catch (const Poco::Exception& e)
	{
		throw ConfigError(key + ".address: '" + host + "' is not a usable address (" + e.displayText() + ")");
	}
	auto socket = std::make_unique<Poco::Net::ServerSocket>();
	try
	{
		// No SO_REUSEPORT: a second server on the same port must fail, not share it.
		socket->bind(address, true, false);
		socket->listen(backlog);
	}
	catch (const Poco::Exception& e)
	{
		if (e.code() == EADDRINUSE || e.displayText().find("in use") != std::string::npos)
			throw ConfigError(key + ".port: " + where + " is in use");
		if (e.code() == EACCES || e.displayText().find("ermission") != std::string::npos)
			throw ConfigError(key + ".port: " + where + " needs more privileges (" + e.displayText() + ")");
		throw ConfigError(key + ".address: cannot listen on " + host + ":" + std::to_string(port) + " (" +
			e.displayText() + ")");
	}
	return socket;
}

} // namespace

HostServer::HostServer(const HostConfig& config, PluginRegistry& registry, Poco::Logger& logger):
	_config(config),
	_registry(registry),
	_logger(logger)
{
	checkRoutes(_config);
	const unsigned loops = _config.engine.threads ? _config.engine.threads : std::min(usableCores(), 256u);
	if (loops > 256) throw ConfigError("engine.threads: " + std::to_string(loops) + " is out of range (0..256)");
	_registry.setSettings(_config.pluginSettings);
	if (_config.tls.enabled) _tls = std::make_unique<TlsContext>(_config.tls);
	_context = std::make_unique<HostContext>(_config, registry, logger);
	_pool = std::make_unique<EventLoopPool>(loops, *_context, _tls ? _tls->get() : nullptr);
	_context->setPool(_pool.get());
}

void HostServer::checkRoutes(const HostConfig& config) const
{
	if (config.routes.empty()) throw ConfigError("route.*: no route configured (expected e.g. route./ws = random-suffix)");
	if (config.routes.size() > 65535) throw ConfigError("route.*: too many routes");
	for (const auto& route : config.routes)
	{
		const std::string key = "route." + route.first;
		if (route.first.empty() || route.first[0] != '/') throw ConfigError(key + ": a route path must start with '/'");
		if (route.second.empty()) throw ConfigError(key + ": route has no plugins (expected e.g. " + key + " = echo)");
		for (const std::string& plugin : route.second)
		{
			if (!_registry.has(plugin))
			{
				std::string loaded;
				for (const auto& description : _registry.plugins())
					loaded += (loaded.empty() ? "" : ", ") + description.name;
				throw ConfigError(key + ": unknown plugin '" + plugin + "' (loaded: " + (loaded.empty() ? "none" : loaded) + ")");
			}
			if (_registry.kindOf(plugin) != "responder")
				throw ConfigError(key + ": '" + plugin + "' is a gate: name it in " + key + ".gates");
		}
		for (const std::string& gate : config.optionsFor(route.first).gates)
		{
			const std::string kind = _registry.kindOf(gate);
			if (kind.empty()) throw ConfigError(key + ".gates: unknown gate '" + gate + "'");
			if (kind != "gate") throw ConfigError(key + ".gates: '" + gate + "' is a responder, not a gate");
		}
	}
}

namespace {

bool sameEngine(const EngineConfig& a, const EngineConfig& b)
{
	return a.threads == b.threads && a.maxMessageSize == b.maxMessageSize && a.backpressureHigh == b.backpressureHigh &&
		a.backpressureLow == b.backpressureLow && a.backpressureLimit == b.backpressureLimit && a.sendChunk == b.sendChunk &&
		a.maxConnections == b.maxConnections && a.handshakeTimeoutMs == b.handshakeTimeoutMs &&
		a.idleTimeoutMs == b.idleTimeoutMs && a.pingIntervalMs == b.pingIntervalMs &&
		a.maxConnectionsPerIp == b.maxConnectionsPerIp && a.handshakesPerIpPerS == b.handshakesPerIpPerS &&
		a.deflate == b.deflate;
}

std::string describeRoutes(const HostConfig& config)
{
	std::string out;
	for (const auto& route : config.routes)
	{
		if (!out.empty()) out += ", ";
		out += route.first + " -> ";
		for (std::size_t i = 0; i < route.second.size(); ++i) out += (i ? " + " : "") + route.second[i];
		const RouteOptions& options = config.optionsFor(route.first);
		std::string extras;
		auto add = [&extras](const std::string& name, const std::vector<std::string>& items) {
			if (items.empty()) return;
			extras += (extras.empty() ? "" : "; ") + name + " ";
			for (std::size_t i = 0; i < items.size(); ++i) extras += (i ? ", " : "") + items[i];
		};
		add("gates", options.gates);
		add("subprotocols", options.subprotocols);
		if (options.hasOrigins) extras += (extras.empty() ? "" : "; ") + std::string("origins ") + options.origins.describe();
		if (options.deflate) extras += (extras.empty() ? "" : "; ") + std::string("deflate");
		if (!extras.empty()) out += " [" + extras + "]";
	}
	return out;
}

/// The engine.deflate settings, if a route uses them ("" if none does).
std::string describeDeflate(const HostConfig& config)
{
	bool used = false;
	for (const auto& route : config.routes) used = used || config.optionsFor(route.first).deflate;
	if (!used) return std::string();
	const DeflateConfig& d = config.engine.deflate;
	const codec::DeflateServerConfig& n = d.negotiation;
	return "; permessage-deflate: level " + std::to_string(n.level) + ", window " + std::to_string(n.serverMaxWindowBits) +
		" bits, " + (n.serverNoContextTakeover ? "no context kept" : "context kept per connection") + ", client window " +
		std::to_string(n.clientMaxWindowBits) + " bits" + (n.requestClientNoContextTakeover ? ", client_no_context_takeover" : "") +
		", messages from " + std::to_string(d.minSize) + " bytes";
}

} // namespace

bool HostServer::reload(const HostConfig& config, std::string* why)
{
	try
	{
		checkRoutes(config);
		// A trial instance of every routed plugin with its new settings: refuse what would throw.
		for (const auto& route : config.routes)
		{
			for (const std::string& name : route.second)
			{
				try
				{
					_registry.create(name, config.settingsFor(name));
				}
				catch (const std::exception& e)
				{
					throw ConfigError("route." + route.first + ": " + e.what());
				}
			}
			for (const std::string& name : config.optionsFor(route.first).gates)
			{
				try
				{
					_registry.createGate(name, config.settingsFor(name));
				}
				catch (const std::exception& e)
				{
					throw ConfigError("route." + route.first + ".gates: " + e.what());
				}
			}
		}
	}
	catch (const std::exception& e)
	{
		_logger.error("configuration reload refused, the running one stays: %s", std::string(e.what()));
		if (why) *why = e.what();
		return false;
	}
	const auto running = _context->config();
	const TlsConfig& tls = config.tls;
	const TlsConfig& runningTls = running->tls;
	const bool sameTls = tls.enabled == runningTls.enabled && tls.certificateFile == runningTls.certificateFile &&
		tls.privateKeyFile == runningTls.privateKeyFile && tls.cipherList == runningTls.cipherList &&
		tls.requireTLSv1_2 == runningTls.requireTLSv1_2 && tls.sessionTickets == runningTls.sessionTickets;
	if (config.address != running->address || config.port != running->port || config.maxHeaderBytes != running->maxHeaderBytes ||
		!sameTls || config.adminAddress != running->adminAddress || config.adminPort != running->adminPort ||
		config.adminThreads != running->adminThreads || config.pluginDir != running->pluginDir || config.pluginWatch != running->pluginWatch ||
		config.pluginWatchDebounceMs != running->pluginWatchDebounceMs || config.pluginWorkers != running->pluginWorkers ||
		!sameEngine(config.engine, running->engine))
	{
		_logger.warning("configuration reload: server.*, admin.*, openSSL.*, plugins.dir/watch/workers and engine.* "
			"changes need a restart; the running values stay");
	}
	// Only routes (with their options), server.origins and plugin settings change; the rest stays
	// as the host started.
	HostConfig next = *running;
	next.routes = config.routes;
	next.routeOptions = config.routeOptions;
	next.originsSet = config.originsSet;
	next.origins = config.origins;
	next.pluginSettings = config.pluginSettings;
	_registry.setSettings(next.pluginSettings);
	_context->setConfig(next);
	if (_pool) _pool->poke();
	_logger.information("configuration reloaded: routes: %s", describeRoutes(next));
	return true;
}

std::string HostServer::pluginsJson() const
{
	return PluginCatalog::toJson(_registry.plugins(), *_context->config());
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
	_listener = listenOn("server", _config.address, _config.port, ListenBacklog);
	_listener->setBlocking(false);
	_port = _listener->address().port();
	auto adminSocket = listenOn("admin", _config.adminAddress, _config.adminPort, 64);
	_adminPort = adminSocket->address().port();

	Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
	params->setMaxThreads(static_cast<int>(_config.adminThreads));
	params->setMaxQueued(64);
	params->setTimeout(Poco::Timespan(5, 0));
	params->setKeepAlive(true);
	params->setKeepAliveTimeout(Poco::Timespan(5, 0));
	params->setServerName(_config.adminAddress);
	params->setSoftwareVersion("parley-host");
	_threads = std::make_unique<Poco::ThreadPool>("parley-admin", 1, static_cast<int>(_config.adminThreads) + 1);
	if (_config.pluginWatch && !_config.pluginDir.empty())
	{
		try
		{
			_watcher = std::make_unique<PluginWatcher>(_registry, _config.pluginDir, _logger,
				std::chrono::milliseconds(_config.pluginWatchDebounceMs));
		}
		catch (const Poco::Exception& e)
		{
			throw ConfigError("plugins.watch: cannot watch " + _config.pluginDir + " (" + e.displayText() + ")");
		}
	}
	_pool->start(_listener->impl()->sockfd());
	_admin = std::make_unique<Poco::Net::HTTPServer>(new AdminHandlerFactory(*_pool, *_context), *_threads, *adminSocket,
		params);
	_admin->start();
	_started = true;
}

void HostServer::stop()
{
	if (_stopped) return;
	_stopped = true;
	_watcher.reset();
	if (_admin)
	{
		_admin->stopAll(true);
		_threads->joinAll();
	}
	if (_pool) _pool->stop();
	if (_context) _context->setPool(nullptr);
	_listener.reset();
	_admin.reset();
	_threads.reset();
}

std::uint16_t HostServer::port() const
{
	return _port;
}

unsigned HostServer::loopCount() const
{
	return _pool ? _pool->size() : 0;
}

std::size_t HostServer::connectionCount() const
{
	return _pool ? _pool->open() : 0;
}

Metrics HostServer::metrics() const
{
	return _pool ? _pool->metrics() : Metrics();
}

std::string HostServer::tlsDescription() const
{
	return _tls ? _tls->description() : std::string();
}

std::string HostServer::describe() const
{
	const std::string routes = describeRoutes(_config);
	const unsigned loops = loopCount();
	return "parley-host listening on " + std::string(_tls ? "wss://" : "ws://") + _config.address + ":" +
		std::to_string(_port) + " (routes: " + routes + "; " + std::to_string(loops) + (loops == 1 ? " loop" : " loops") +
		describeDeflate(_config) + ")" +
		"; operator endpoints on http://" + _config.adminAddress + ":" + std::to_string(_adminPort);
}

} // namespace host
} // namespace parley
