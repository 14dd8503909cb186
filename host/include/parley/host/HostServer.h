//
// HostServer.h — the Parley host: epoll event loops own every public connection from accept to
// close (TLS, request head, WebSocket); Poco's HTTPServer serves the operator port.
//
#ifndef PARLEY_HOST_HOSTSERVER_INCLUDED
#define PARLEY_HOST_HOSTSERVER_INCLUDED

#include "parley/config/HostConfig.h"
#include "parley/host/Metrics.h"
#include <Poco/Logger.h>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace Poco {
class ThreadPool;
namespace Net {
class HTTPServer;
class ServerSocket;
} // namespace Net
} // namespace Poco

namespace parley {

class PluginRegistry;
class PluginWatcher;

namespace host {

class ClusterBus;
class EventLoopPool;
class HostContext;
class TlsContexts;

/// One host instance. Several may run in one process (each has its own threads and sockets).
///
/// The public port (server.address:server.port, TLS with server.tls) belongs to engine.threads
/// event loops: a connection is accepted by one of them and stays with it; the loop reads its
/// request head without blocking (server.max_header_bytes, engine.handshake_timeout_ms for TLS
/// and head together) and answers it: 101 on a route, else a short HTTP refusal. The operator
/// endpoints GET /health, /metrics and /plugins are on admin.address:admin.port (Poco's
/// HTTPServer). Destroy the HostServer before the PluginRegistry.
///
/// With plugins.watch and a non-empty plugins.dir it watches that folder (hot drop-in); the
/// loops pick up every change of the registry. reload() swaps routes and plugin settings.
class HostServer
{
public:
	/// Checks the routes against the registry, loads the TLS certificate and key (server.tls)
	/// and creates one pipeline per route and loop. Throws ConfigError naming the route and
	/// plugin for a route without plugins or with a plugin the registry does not have, naming
	/// the plugin setting a responder refused, or naming the openSSL.server.* key that is wrong.
	HostServer(const HostConfig& config, PluginRegistry& registry, Poco::Logger& logger);

	/// Stops the server if it is still running.
	~HostServer();

	HostServer(const HostServer&) = delete;
	HostServer& operator=(const HostServer&) = delete;

	/// Binds server.address:server.port and admin.address:admin.port (port 0 = any free port),
	/// starts the event loops and the operator HTTP server. Throws ConfigError ("server.port:
	/// port 8080 on 127.0.0.1 is in use", the same for admin.port, or naming the address) if it
	/// cannot listen. Calling it twice throws std::logic_error.
	void start();

	/// Checks `config`'s routes against the registry and builds a trial instance of every routed
	/// responder and gate with its settings; throws ConfigError naming the route and the reason.
	void checkPlugins(const HostConfig& config) const;

	/// Throws ConfigError naming server.address or admin.address if it is not a usable address
	/// (what start() would find, without binding: --check-config).
	void checkAddresses() const;

	/// Stops accepting, closes every WebSocket connection with 1001 (going away) and joins all
	/// threads. Safe to call more than once, and before start().
	void stop();

	/// What a graceful stop did.
	struct DrainReport
	{
		std::size_t closed = 0;      ///< WebSockets that got their 1001 "going away"
		std::size_t leftOpen = 0;    ///< sockets still open at engine.drain_timeout_ms (stop() drops them)
		std::uint64_t elapsedMs = 0; ///< from the start of the drain to its end
		bool interrupted = false;    ///< `wait` said to stop at once
	};

	/// Graceful stop (SIGTERM): stops accepting at once (the listening socket is shut down, new
	/// clients are refused) and /health answers 503 {"status":"draining"}; serves the open
	/// connections for engine.drain_delay_ms; then closes every WebSocket with 1001 after the
	/// replies to every message it read (worker jobs included) and waits up to
	/// engine.drain_timeout_ms for the close handshakes to end. `wait(ms)` is called to wait:
	/// it returns true to end the drain at once (a second SIGTERM). Logs its steps; call stop()
	/// afterwards.
	DrainReport drain(const std::function<bool(unsigned ms)>& wait);

	/// Before stop(): the event loops and workers still inside a plugin call after `graceMs`
	/// (those the stall watchdog already found stalled are not waited for), one line each. stop()
	/// would wait for them to return: the caller logs them and exits without it.
	std::vector<std::string> stuckInPlugins(unsigned graceMs);

	/// Returns the bound public port (valid after start()).
	std::uint16_t port() const;

	/// Returns the bound operator port (valid after start()).
	std::uint16_t adminPort() const { return _adminPort; }

	/// Returns the number of event loops.
	unsigned loopCount() const;

	/// Returns the number of WebSocket connections open now.
	std::size_t connectionCount() const;

	/// Returns a snapshot of the counters (thread-safe; each loop publishes its counters at the
	/// end of every loop turn, so a client may see a reply before its count).
	Metrics metrics() const;

	/// Returns the one-line description logged at start-up: "parley-host listening on
	/// ws://ADDR:PORT (routes: /ws -> random-suffix; N loops); operator endpoints on
	/// http://ADDR:PORT" (wss:// with server.tls).
	std::string describe() const;

	/// Returns the configuration the server was started with (reload() does not change it).
	const HostConfig& config() const { return _config; }

	/// Checks `config` (routes name loaded plugins; every routed plugin accepts its new settings)
	/// and makes its routes and plugin settings the ones in force: open connections move to the
	/// new chains, removed routes answer 404 to new requests. server.*, admin.*, openSSL.*,
	/// engine.* and plugins.* keys need a restart: if they differ one warning says so. Returns false and puts one line
	/// in *why (if given) if the configuration is refused; the running one then stays. Never throws.
	bool reload(const HostConfig& config, std::string* why = nullptr);

	/// Returns the JSON served at GET /plugins.
	std::string pluginsJson() const;

	/// Returns the TLS description for the start-up log ("" without server.tls).
	std::string tlsDescription() const;

private:
	/// Throws ConfigError if a route is not usable with the registry's plugins.
	void checkRoutes(const HostConfig& config) const;

	HostConfig _config;
	PluginRegistry& _registry;
	Poco::Logger& _logger;
	std::unique_ptr<HostContext> _context;   // before _pool: the loops and outboxes use it
	std::unique_ptr<TlsContexts> _tls;       // before _pool: the loops' connections use it
	std::unique_ptr<Poco::Net::ServerSocket> _listener;
	std::unique_ptr<EventLoopPool> _pool;
	std::unique_ptr<ClusterBus> _bus;        // after _pool: it hands messages to the loops
	std::unique_ptr<PluginWatcher> _watcher;
	std::unique_ptr<Poco::ThreadPool> _threads;
	std::unique_ptr<Poco::Net::HTTPServer> _admin;
	std::uint16_t _port = 0;
	std::uint16_t _adminPort = 0;
	bool _started = false;
	bool _stopped = false;
};

} // namespace host
} // namespace parley

#endif
