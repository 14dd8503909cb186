//
// HostConfig.h — the host's configuration model, read from a .properties file with Poco::Util.
//
#ifndef PARLEY_CONFIG_HOSTCONFIG_INCLUDED
#define PARLEY_CONFIG_HOSTCONFIG_INCLUDED

#include "parley/Responder.h"
#include <Poco/Util/AbstractConfiguration.h>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace parley {

/// A configuration problem; what() is one line naming the key or file.
class ConfigError : public std::runtime_error
{
public:
	using std::runtime_error::runtime_error;
};

/// engine.* keys: the event-loop transport's limits and timers.
struct EngineConfig
{
	unsigned threads = 0;                          ///< engine.threads; 0 = one loop per core
	std::uint64_t maxMessageSize = 16u << 20;      ///< engine.max_message_size (bytes)
	std::size_t backpressureHigh = 4u << 20;       ///< engine.backpressure_high: stop reading above (bytes)
	std::size_t backpressureLow = 1u << 20;        ///< engine.backpressure_low: resume reading below
	std::size_t backpressureLimit = 64u << 20;     ///< engine.backpressure_limit: close 1008 above
	std::size_t sendChunk = 16u << 10;             ///< engine.send_chunk: the first this-many bytes of a read's replies leave at once; 0 = one send per read
	unsigned maxConnections = 100000;              ///< engine.max_connections (503 beyond)
	unsigned handshakeTimeoutMs = 10000;           ///< engine.handshake_timeout_ms
	unsigned idleTimeoutMs = 0;                    ///< engine.idle_timeout_ms; 0 = never (close 1001)
	unsigned pingIntervalMs = 0;                   ///< engine.ping_interval_ms; 0 = off
};

/// The whole host configuration.
struct HostConfig
{
	std::string address = "127.0.0.1";            ///< server.address
	std::uint16_t port = 8080;                     ///< server.port (0 = any free port)
	unsigned httpThreads = 4;                      ///< server.http_threads: handshake/HTTP threads
	std::string pluginDir;                         ///< plugins.dir ("" = the folder beside the binary)
	bool pluginWatch = true;                       ///< plugins.watch: hot drop-in of the plugin folder
	unsigned pluginWatchDebounceMs = 300;          ///< plugins.watch_debounce_ms: a file must rest this long
	unsigned pluginWorkers = 4;                    ///< plugins.workers: threads for blocking() plugins
	std::map<std::string, std::vector<std::string>> routes;  ///< route.<path> = a, b
	std::map<std::string, Settings> pluginSettings;           ///< plugin.<name>.<key> = value
	EngineConfig engine;

	/// Reads and checks a configuration. Throws ConfigError naming the key on a bad value,
	/// a route without plugins, a route path not starting with '/', or no route at all.
	static HostConfig from(const Poco::Util::AbstractConfiguration& config);

	/// Loads a .properties file. Throws ConfigError naming the file if it is missing or unreadable.
	static HostConfig fromFile(const std::string& path);

	/// The settings of a plugin (empty if none configured).
	const Settings& settingsFor(const std::string& plugin) const;

	/// The default configuration file: <executableDir>/../etc/parley/parley-host.properties (an
	/// installed host), else the source tree's etc/, else <sysconfdir>/parley. "" if none exists.
	static std::string defaultFile(const std::string& executableDir);
};

} // namespace parley

#endif
