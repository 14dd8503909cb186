//
// HostServer.cpp
//
#include "parley/host/HostServer.h"
#include "AdminHandlerFactory.h"
#include "ClusterBus.h"
#include "EventLoopPool.h"
#include "Faults.h"
#include "HostContext.h"
#include "TlsContext.h"
#include "parley/PluginRegistry.h"
#include "parley/PluginWatcher.h"
#include "parley/host/PluginCatalog.h"
#include <Poco/Environment.h>
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
#include <sys/socket.h>
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

/// Throws ConfigError naming `key` ("server" or "admin") if `host` is no usable address.
Poco::Net::SocketAddress addressOf(const std::string& key, const std::string& host, std::uint16_t port)
{
	try
	{
		return Poco::Net::SocketAddress(host, port);
	}
	catch (const Poco::Exception& e)
	{
		throw ConfigError(key + ".address: '" + host + "' is not a usable address (" + e.displayText() + ")");
	}
}

/// Binds and listens; throws ConfigError naming `key` ("server" or "admin").
std::unique_ptr<Poco::Net::ServerSocket> listenOn(const std::string& key, const std::string& host, std::uint16_t port,
	int backlog)
{
	const std::string where = "port " + std::to_string(port) + " on " + host;
	const Poco::Net::SocketAddress address = addressOf(key, host, port);
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
	// Before any thread that calls plugins starts.
	installFatalSignalHandler();
	const unsigned loops = _config.engine.threads ? _config.engine.threads : std::min(usableCores(), 256u);
	if (loops > 256) throw ConfigError("engine.threads: " + std::to_string(loops) + " is out of range (0..256)");
	_registry.setSettings(_config.pluginSettings);
	if (_config.tls.enabled) _tls = std::make_unique<TlsContexts>(std::make_unique<TlsContext>(_config.tls));
	_context = std::make_unique<HostContext>(_config, registry, logger);
	_pool = std::make_unique<EventLoopPool>(loops, *_context, _tls.get());
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

/// The keys whose change a reload cannot apply (they need a restart), by name.
std::vector<std::string> restartKeys(const HostConfig& running, const HostConfig& next)
{
	std::vector<std::string> keys;
	auto check = [&keys](bool same, const char* key) {
		if (!same) keys.push_back(key);
	};
	check(next.address == running.address, "server.address");
	check(next.port == running.port, "server.port");
	check(next.maxHeaderBytes == running.maxHeaderBytes, "server.max_header_bytes");
	check(next.tls.enabled == running.tls.enabled, "server.tls");
	check(next.proxy.version == running.proxy.version, "server.proxy_protocol");
	check(next.proxy.trusted == running.proxy.trusted, "server.trusted_proxies");
	check(next.adminAddress == running.adminAddress, "admin.address");
	check(next.adminPort == running.adminPort, "admin.port");
	check(next.adminThreads == running.adminThreads, "admin.threads");
	check(next.pluginDir == running.pluginDir, "plugins.dir");
	check(next.pluginWatch == running.pluginWatch, "plugins.watch");
	check(next.pluginWatchDebounceMs == running.pluginWatchDebounceMs, "plugins.watch_debounce_ms");
	check(next.pluginWorkers == running.pluginWorkers, "plugins.workers");
	check(next.isolatedWorkers == running.isolatedWorkers, "plugins.isolated_workers");
	check(next.engine.threads == running.engine.threads, "engine.threads");
	check(next.engine.sendChunk == running.engine.sendChunk, "engine.send_chunk");
	check(next.engine.deflate == running.engine.deflate, "engine.deflate.*");
	check(next.logRateLimitMs == running.logRateLimitMs, "logging.rate_limit_ms");
	check(next.cluster == running.cluster, "cluster.*");
	return keys;
}

/// Copies the engine.* limits that apply live (see LoopState::applyLimits) from `from`.
void copyLiveLimits(EngineConfig& to, const EngineConfig& from)
{
	const unsigned threads = to.threads;
	const std::size_t sendChunk = to.sendChunk;
	const DeflateConfig deflate = to.deflate;
	to = from;
	to.threads = threads;
	to.sendChunk = sendChunk;
	to.deflate = deflate;
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
		if (options.isolate) extras += (extras.empty() ? "" : "; ") + std::string("isolated");
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

void HostServer::checkPlugins(const HostConfig& config) const
{
	checkRoutes(config);
	// A trial instance of every routed plugin with its settings: refuse what would throw.
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

bool HostServer::reload(const HostConfig& config, std::string* why)
{
	try
	{
		checkPlugins(config);
	}
	catch (const std::exception& e)
	{
		_logger.error("configuration reload refused, the running one stays: %s", std::string(e.what()));
		if (why) *why = e.what();
		return false;
	}
	const auto running = _context->config();
	// TLS: the certificate and key are read again (a renewed certificate usually keeps its file
	// names), with the openSSL.server.* settings; new connections use them, open ones keep theirs.
	std::unique_ptr<TlsContext> tls;
	if (_tls && config.tls.enabled)
	{
		try
		{
			tls = std::make_unique<TlsContext>(config.tls);
		}
		catch (const std::exception& e)
		{
			_logger.error("configuration reload refused, the running one stays: %s", std::string(e.what()));
			if (why) *why = e.what();
			return false;
		}
	}
	const std::vector<std::string> restart = restartKeys(*running, config);
	if (!restart.empty())
	{
		std::string keys;
		for (const std::string& key : restart) keys += (keys.empty() ? "" : ", ") + key;
		_logger.warning("configuration reload: changed keys that need a restart (the running values stay): %s", keys);
	}
	// Routes (with their options), server.origins, plugin settings, the live engine.* limits and
	// the TLS certificate change; the rest stays as the host started.
	HostConfig next = *running;
	next.routes = config.routes;
	next.routeOptions = config.routeOptions;
	next.originsSet = config.originsSet;
	next.origins = config.origins;
	next.pluginSettings = config.pluginSettings;
	copyLiveLimits(next.engine, config.engine);
	if (tls)
	{
		const bool enabled = next.tls.enabled;
		next.tls = config.tls;
		next.tls.enabled = enabled;
	}
	_registry.setSettings(next.pluginSettings);
	if (_pool) _pool->setPeerLimits(next.engine.maxConnectionsPerIp, next.engine.handshakesPerIpPerS);
	_context->setConfig(next);
	if (tls)
	{
		const std::string description = tls->description();
		_tls->replace(std::move(tls));
		_logger.information("TLS reloaded for new connections: %s", description);
	}
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
	if (_config.cluster.enabled())
	{
		// Before the loops start: connection ids carry the node's tag from the first one.
		const std::string node = _config.cluster.node.empty() ? Poco::Environment::nodeName() + ":" + std::to_string(_port)
															   : _config.cluster.node;
		_context->setNodeTag(ClusterBus::tagOf(node));
		_bus = std::make_unique<ClusterBus>(*_context, *_pool, _config.cluster, node, _logger);
		_context->setBus(_bus.get());
		_bus->start();
	}
	_pool->start(_listener->impl()->sockfd());
	_admin = std::make_unique<Poco::Net::HTTPServer>(new AdminHandlerFactory(*_pool, *_context), *_threads, *adminSocket,
		params);
	_admin->start();
	_started = true;
}

void HostServer::checkAddresses() const
{
	addressOf("server", _config.address, _config.port);
	addressOf("admin", _config.adminAddress, _config.adminPort);
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
	if (_bus) _bus->stop();   // after the loops: what they published while draining went out
	if (_context)
	{
		_context->setBus(nullptr);
		_context->setPool(nullptr);
	}
	_listener.reset();
	_admin.reset();
	_threads.reset();
}

HostServer::DrainReport HostServer::drain(const std::function<bool(unsigned ms)>& wait)
{
	DrainReport report;
	if (!_started || _stopped || !_pool) return report;
	using Clock = std::chrono::steady_clock;
	const auto begin = Clock::now();
	auto elapsedMs = [&begin] {
		return static_cast<std::uint64_t>(
			std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begin).count());
	};
	const EngineConfig engine = _context->config()->engine;
	_context->setDraining();
	_pool->stopAccepting();
	// Refuse new clients at once (and those in the listen backlog): a shut-down listening
	// socket leaves the kernel's listening table; it stays open until stop() for the loops' sake.
	if (_listener) ::shutdown(_listener->impl()->sockfd(), SHUT_RDWR);
	_logger.information("draining: not accepting connections, /health answers 503 draining; %z connections open; "
		"1001 to each in %u ms (engine.drain_delay_ms), then up to %u ms for their close (engine.drain_timeout_ms)",
		_pool->open(), engine.drainDelayMs, engine.drainTimeoutMs);
	if (engine.drainDelayMs != 0 && wait(engine.drainDelayMs))
	{
		report.interrupted = true;
		report.leftOpen = _pool->sockets();
		report.elapsedMs = elapsedMs();
		_logger.warning("drain interrupted after %s ms, during engine.drain_delay_ms: stopping at once (%z sockets open)",
			std::to_string(report.elapsedMs), report.leftOpen);
		return report;
	}
	_pool->drain();
	const auto deadline = Clock::now() + std::chrono::milliseconds(engine.drainTimeoutMs);
	constexpr unsigned StepMs = 20;
	bool started = false;
	for (;;)
	{
		std::size_t closing = 0;
		if (_pool->drainStarted(closing)) started = true;
		if (started) report.closed = closing;
		report.leftOpen = _pool->sockets();
		if ((started && report.leftOpen == 0) || Clock::now() >= deadline) break;
		if (wait(StepMs))
		{
			report.interrupted = true;
			break;
		}
	}
	report.elapsedMs = elapsedMs();
	if (report.interrupted)
		_logger.warning("drain interrupted after %s ms: stopping at once (%z sockets still open)",
			std::to_string(report.elapsedMs), report.leftOpen);
	else if (report.leftOpen == 0)
		_logger.information("drained %z connections in %s ms", report.closed, std::to_string(report.elapsedMs));
	else
		_logger.warning("drain timeout: %z of %z connections had not finished their close handshake after %u ms "
			"(engine.drain_timeout_ms); closing them", report.leftOpen, report.closed, engine.drainTimeoutMs);
	return report;
}

std::vector<std::string> HostServer::stuckInPlugins(unsigned graceMs)
{
	return _pool && !_stopped ? _pool->stuckInPlugins(graceMs) : std::vector<std::string>();
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
