//
// HostConfig.h — the host's configuration model, read from a .properties file with Poco::Util.
//
#ifndef PARLEY_CONFIG_HOSTCONFIG_INCLUDED
#define PARLEY_CONFIG_HOSTCONFIG_INCLUDED

#include "parley/Responder.h"
#include "parley/codec/DeflateNegotiation.h"
#include "parley/config/AddressPrefix.h"
#include "parley/config/Origins.h"
#include <Poco/Util/AbstractConfiguration.h>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace parley {

/// A configuration problem; what() is one line naming the key or file.
class ConfigError : public std::runtime_error
{
public:
	using std::runtime_error::runtime_error;
};

/// engine.deflate.* keys: permessage-deflate (RFC 7692) on the routes that turn it on
/// (route.<path>.deflate = on).
struct DeflateConfig
{
	/// What the host negotiates and compresses with: engine.deflate.level (0..9),
	/// .server_max_window_bits (9..15), .server_no_context_takeover, .client_max_window_bits
	/// (9..15, the client window the host asks for when a client offers the parameter),
	/// .client_no_context_takeover (ask every client to reset its window after each message).
	codec::DeflateServerConfig negotiation;
	int memLevel = 8;                              ///< engine.deflate.mem_level (1..9): zlib's hash memory, 1 << (n + 9) bytes per compressor
	std::size_t minSize = 64;                      ///< engine.deflate.min_size: smaller messages go out uncompressed (RSV1 clear)

	bool operator==(const DeflateConfig& o) const;
	bool operator!=(const DeflateConfig& o) const { return !(*this == o); }
};

/// engine.* keys: the event-loop transport's limits and timers.
struct EngineConfig
{
	unsigned threads = 0;                          ///< engine.threads; 0 = one loop per core
	std::uint64_t maxMessageSize = 16u << 20;      ///< engine.max_message_size (bytes)
	std::size_t backpressureHigh = 4u << 20;       ///< engine.backpressure_high: stop reading above (bytes)
	std::size_t backpressureLow = 1u << 20;        ///< engine.backpressure_low: resume reading below
	std::size_t backpressureLimit = 64u << 20;     ///< engine.backpressure_limit: close 1008 above
	unsigned sendTimeoutMs = 30000;                ///< engine.send_timeout_ms: unsent output the client took nothing of for this long closes 1008; 0 = never
	std::uint64_t maxOutputMemory = 0;             ///< engine.max_output_memory: unsent output of the whole host (bytes); 0 = a quarter of the memory (cgroup limit or physical)
	std::size_t sendChunk = 16u << 10;             ///< engine.send_chunk: the first this-many bytes of a read's replies leave at once; 0 = one send per read
	unsigned maxConnections = 100000;              ///< engine.max_connections: open sockets, handshakes included (503 beyond)
	unsigned handshakeTimeoutMs = 5000;            ///< engine.handshake_timeout_ms: TLS handshake + request head, in all
	unsigned idleTimeoutMs = 0;                    ///< engine.idle_timeout_ms; 0 = never (close 1001)
	unsigned pingIntervalMs = 0;                   ///< engine.ping_interval_ms; 0 = off
	unsigned maxConnectionsPerIp = 1000;           ///< engine.max_connections_per_ip (IPv6: per /64); 0 = no limit (429 beyond)
	unsigned handshakesPerIpPerS = 200;            ///< engine.handshakes_per_ip_per_s (IPv6: per /64); 0 = no limit (429 beyond)
	unsigned drainDelayMs = 0;                     ///< engine.drain_delay_ms: on SIGTERM, serve this long (health says draining) before the 1001s
	unsigned drainTimeoutMs = 10000;               ///< engine.drain_timeout_ms: then wait at most this long for the close handshakes
	unsigned stallTimeoutMs = 5000;                ///< engine.stall_timeout_ms: a plugin call longer than this is a stall (in an isolated route's child: the child is killed, 1011); 0 = no watchdog
	bool stallAbort = false;                       ///< engine.stall_action: log (false) or abort (true: log, then abort())
	DeflateConfig deflate;                         ///< engine.deflate.*
};

/// route.<path>.<option> keys: what a route admits besides its chain.
struct RouteOptions
{
	std::vector<std::string> subprotocols;         ///< .subprotocols: in order of preference (none: offers get 400)
	bool hasOrigins = false;                       ///< .origins is set (it overrides server.origins)
	OriginList origins;                            ///< .origins
	std::vector<std::string> gates;                ///< .gates: gate plugins, run in order before the 101
	bool deflate = false;                          ///< .deflate: negotiate permessage-deflate (engine.deflate.* say how)
	bool isolate = false;                          ///< .isolate = process: run the chain in the isolated child processes

	bool operator==(const RouteOptions& o) const;
	bool operator!=(const RouteOptions& o) const { return !(*this == o); }
};

/// server.tls and Poco NetSSL's openSSL.server.* keys: TLS (wss://) on the public port.
struct TlsConfig
{
	/// Mozilla's "intermediate" TLS 1.2 suites (TLS 1.3 suites are OpenSSL's defaults).
	static constexpr const char* DefaultCipherList =
		"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
		"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
		"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";

	bool enabled = false;                          ///< server.tls
	std::string certificateFile;                   ///< openSSL.server.certificateFile (PEM, chain allowed)
	std::string privateKeyFile;                    ///< openSSL.server.privateKeyFile (PEM; "" = in certificateFile)
	std::string cipherList = DefaultCipherList;    ///< openSSL.server.cipherList (TLS 1.2 and below)
	bool requireTLSv1_2 = true;                    ///< openSSL.server.requireTLSv1_2: refuse TLS 1.0/1.1
	bool sessionTickets = false;                   ///< openSSL.server.sessionTickets: issue tickets (resumption)
};

/// server.proxy_protocol and server.trusted_proxies: the PROXY protocol (HAProxy's, v1 text or v2
/// binary) on the public port, so that the host sees the client's address instead of the proxy's.
struct ProxyConfig
{
	unsigned version = 0;                          ///< server.proxy_protocol: 0 = off, 1 = v1, 2 = v2
	std::vector<AddressPrefix> trusted;            ///< server.trusted_proxies: who may send the header (required when on)

	bool operator==(const ProxyConfig& o) const { return version == o.version && trusted == o.trusted; }
	bool operator!=(const ProxyConfig& o) const { return !(*this == o); }
};

/// cluster.*: several hosts sharing their rooms through Redis pub/sub (off while redis is unset).
struct ClusterConfig
{
	std::string redis;                             ///< cluster.redis = host:port ("" = no cluster)
	std::string redisHost;                         ///< its host part
	std::uint16_t redisPort = 0;                   ///< its port part
	std::string redisPassword;                     ///< cluster.redis_password ("" = no AUTH)
	std::string node;                              ///< cluster.node: this host's name ("" = host name + ":" + server port)
	std::string name = "parley";                   ///< cluster.name: the prefix of every channel and key in Redis

	bool enabled() const { return !redis.empty(); }
	bool operator==(const ClusterConfig& o) const
	{
		return redis == o.redis && redisPassword == o.redisPassword && node == o.node && name == o.name;
	}
};

/// The whole host configuration.
struct HostConfig
{
	std::string address = "127.0.0.1";            ///< server.address
	std::uint16_t port = 8080;                     ///< server.port (0 = any free port)
	std::size_t maxHeaderBytes = 8192;             ///< server.max_header_bytes: largest request head (431 beyond)
	TlsConfig tls;                                 ///< server.tls, openSSL.server.*
	ProxyConfig proxy;                             ///< server.proxy_protocol, server.trusted_proxies
	std::string adminAddress = "127.0.0.1";       ///< admin.address: the operator endpoints
	std::uint16_t adminPort = 8081;                ///< admin.port (0 = any free port)
	unsigned adminThreads = 2;                     ///< admin.threads: HTTP threads of the operator port
	std::string pluginDir;                         ///< plugins.dir ("" = the folder beside the binary)
	bool pluginWatch = true;                       ///< plugins.watch: hot drop-in of the plugin folder
	unsigned pluginWatchDebounceMs = 300;          ///< plugins.watch_debounce_ms: a file must rest this long
	unsigned pluginWorkers = 4;                    ///< plugins.workers: threads for blocking() plugins
	unsigned isolatedWorkers = 2;                  ///< plugins.isolated_workers: child processes of isolated routes
	std::map<std::string, std::vector<std::string>> routes;  ///< route.<path> = a, b
	std::map<std::string, RouteOptions> routeOptions;         ///< route.<path>.subprotocols|origins|gates|deflate|isolate (every route has an entry)
	bool originsSet = false;                       ///< server.origins is set
	OriginList origins;                            ///< server.origins: browser origins allowed (unset: none)
	std::map<std::string, Settings> pluginSettings;           ///< plugin.<name>.<key> = value
	EngineConfig engine;
	unsigned logRateLimitMs = 10000;               ///< logging.rate_limit_ms: one line per kind of refusal or fault per this long; 0 = every one
	ClusterConfig cluster;                         ///< cluster.*

	/// Reads and checks a configuration. Throws ConfigError naming the key on a bad value,
	/// a route without plugins, a route path not starting with '/', no route at all, or
	/// server.tls without openSSL.server.certificateFile. (Files are checked when the host starts.)
	static HostConfig from(const Poco::Util::AbstractConfiguration& config);

	/// Loads a .properties file. Throws ConfigError naming the file if it is missing or unreadable.
	static HostConfig fromFile(const std::string& path);

	/// The options of a route path of `routes`.
	const RouteOptions& optionsFor(const std::string& path) const;

	/// The origins a route allows: its own list if set, else server.origins; null if neither is
	/// set (then every request with an Origin, i.e. from a browser, is refused).
	const OriginList* originsFor(const std::string& path) const;

	/// The names that end a route key as an option (route.<path>.<option>).
	static bool isRouteOption(std::string_view name);

	/// The settings of a plugin (empty if none configured).
	const Settings& settingsFor(const std::string& plugin) const;

	/// The default configuration file: <executableDir>/../etc/parley/parley-host.properties (an
	/// installed host; /etc/parley/ for one installed in /usr/bin), else the source tree's etc/,
	/// else <sysconfdir>/parley. "" if none exists.
	static std::string defaultFile(const std::string& executableDir);
};

} // namespace parley

#endif
