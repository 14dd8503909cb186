//
// HostConfig.cpp
//
#include "parley/config/HostConfig.h"
#include "parley/codec/Handshake.h"
#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/NumberParser.h>
#include <Poco/Path.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>
#include <Poco/Util/PropertyFileConfiguration.h>
#include <fstream>
#include <initializer_list>
#include <limits>

namespace parley {

namespace {

using Poco::Util::AbstractConfiguration;

std::uint64_t readUnsigned(const AbstractConfiguration& config, const std::string& key, std::uint64_t def,
	std::uint64_t min, std::uint64_t max)
{
	if (!config.hasProperty(key)) return def;
	const std::string raw = Poco::trim(config.getRawString(key));
	std::string text;
	try
	{
		text = Poco::trim(config.getString(key));
	}
	catch (const Poco::Exception& e)
	{
		throw ConfigError(key + ": " + e.displayText());
	}
	Poco::UInt64 value = 0;
	if (text.empty() || text[0] == '-' || !Poco::NumberParser::tryParseUnsigned64(text, value))
		throw ConfigError(key + ": '" + raw + "' is not a whole number");
	if (value < min || value > max)
		throw ConfigError(key + ": " + text + " is out of range (" + std::to_string(min) + ".." + std::to_string(max) + ")");
	return value;
}

bool readBool(const AbstractConfiguration& config, const std::string& key, bool def)
{
	if (!config.hasProperty(key)) return def;
	try
	{
		return config.getBool(key);
	}
	catch (const Poco::Exception&)
	{
		throw ConfigError(key + ": '" + config.getString(key, "") + "' is not a boolean (true/false)");
	}
}

/// Refuses keys under `prefix` that are not among `known` (a misspelt engine.deflate key would
/// otherwise be ignored without a word).
void rejectUnknown(const AbstractConfiguration& config, const std::string& prefix, std::initializer_list<const char*> known)
{
	AbstractConfiguration::Keys keys;
	config.keys(prefix, keys);
	for (const auto& key : keys)
	{
		bool ok = false;
		for (const char* name : known) ok = ok || key == name;
		if (!ok)
		{
			std::string list;
			for (const char* name : known) list += (list.empty() ? "" : ", ") + std::string(name);
			throw ConfigError(prefix + "." + key + ": unknown key (" + prefix + ".* are " + list + ")");
		}
	}
}

std::string readAddress(const AbstractConfiguration& config, const std::string& key, const std::string& def)
{
	const std::string address = Poco::trim(config.getString(key, def));
	if (address.empty()) throw ConfigError(key + ": must not be empty");
	return address;
}

/// Every key under `prefix` that has a value, with `prefix` and its dot removed. Poco splits keys
/// at dots, so "route./api.v1" is found as "/api" then "v1": walk the whole tree.
void leafKeys(const AbstractConfiguration& config, const std::string& prefix, const std::string& below,
	std::vector<std::string>& out)
{
	AbstractConfiguration::Keys keys;
	config.keys(below.empty() ? prefix : prefix + "." + below, keys);
	for (const auto& k : keys)
	{
		const std::string name = below.empty() ? k : below + "." + k;
		if (config.hasProperty(prefix + "." + name)) out.push_back(name);
		leafKeys(config, prefix, name, out);
	}
}

std::vector<std::string> splitList(const std::string& value)
{
	std::vector<std::string> items;
	Poco::StringTokenizer tokens(value, ",", Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
	for (const auto& t : tokens) items.push_back(t);
	return items;
}


OriginList readOrigins(const AbstractConfiguration& config, const std::string& key)
{
	try
	{
		return OriginList::parse(config.getString(key));
	}
	catch (const std::invalid_argument& e)
	{
		throw ConfigError(key + ": " + e.what());
	}
}

void readRouteOption(const AbstractConfiguration& config, const std::string& key, const std::string& option,
	RouteOptions& options)
{
	const std::string value = config.getString(key, "");
	if (option == "subprotocols")
	{
		options.subprotocols = splitList(value);
		if (options.subprotocols.empty()) throw ConfigError(key + ": no subprotocol named (expected e.g. " + key + " = chat.v1)");
		for (const auto& p : options.subprotocols)
			if (!codec::Handshake::isToken(p)) throw ConfigError(key + ": '" + p + "' is not a valid subprotocol name (an HTTP token)");
	}
	else if (option == "origins")
	{
		options.hasOrigins = true;
		options.origins = readOrigins(config, key);
	}
	else if (option == "gates")
	{
		options.gates = splitList(value);
		if (options.gates.empty()) throw ConfigError(key + ": no gate named (expected e.g. " + key + " = jwt)");
	}
	else if (option == "deflate")
	{
		const std::string v = Poco::toLower(Poco::trim(value));
		if (v == "on" || v == "true" || v == "yes" || v == "1") options.deflate = true;
		else if (v == "off" || v == "false" || v == "no" || v == "0") options.deflate = false;
		else throw ConfigError(key + ": '" + value + "' is not on or off");
	}
	else if (option == "isolate")
	{
		const std::string v = Poco::toLower(Poco::trim(value));
		if (v == "process") options.isolate = true;
		else if (v == "no" || v == "off" || v == "false" || v == "0") options.isolate = false;
		else throw ConfigError(key + ": '" + value + "' is not process or no");
	}
}

} // namespace

bool DeflateConfig::operator==(const DeflateConfig& o) const
{
	const codec::DeflateServerConfig& a = negotiation;
	const codec::DeflateServerConfig& b = o.negotiation;
	return a.level == b.level && a.serverMaxWindowBits == b.serverMaxWindowBits &&
		a.serverNoContextTakeover == b.serverNoContextTakeover && a.acceptClientMaxWindowBits == b.acceptClientMaxWindowBits &&
		a.clientMaxWindowBits == b.clientMaxWindowBits && a.requestClientNoContextTakeover == b.requestClientNoContextTakeover &&
		memLevel == o.memLevel && minSize == o.minSize;
}

bool RouteOptions::operator==(const RouteOptions& o) const
{
	return subprotocols == o.subprotocols && hasOrigins == o.hasOrigins && origins.describe() == o.origins.describe() &&
		gates == o.gates && deflate == o.deflate && isolate == o.isolate;
}

bool HostConfig::isRouteOption(std::string_view name)
{
	return name == "subprotocols" || name == "origins" || name == "gates" || name == "deflate" || name == "isolate";
}

const RouteOptions& HostConfig::optionsFor(const std::string& path) const
{
	static const RouteOptions none;
	auto it = routeOptions.find(path);
	return it == routeOptions.end() ? none : it->second;
}

const OriginList* HostConfig::originsFor(const std::string& path) const
{
	const RouteOptions& options = optionsFor(path);
	if (options.hasOrigins) return &options.origins;
	return originsSet ? &origins : nullptr;
}

HostConfig HostConfig::from(const AbstractConfiguration& config)
{
	HostConfig result;
	result.address = readAddress(config, "server.address", result.address);
	result.port = static_cast<std::uint16_t>(readUnsigned(config, "server.port", result.port, 0, 65535));
	result.maxHeaderBytes = readUnsigned(config, "server.max_header_bytes", result.maxHeaderBytes, 256, 1u << 20);

	TlsConfig& tls = result.tls;
	tls.enabled = readBool(config, "server.tls", tls.enabled);
	tls.certificateFile = Poco::trim(config.getString("openSSL.server.certificateFile", ""));
	tls.privateKeyFile = Poco::trim(config.getString("openSSL.server.privateKeyFile", ""));
	tls.cipherList = Poco::trim(config.getString("openSSL.server.cipherList", tls.cipherList));
	if (tls.cipherList.empty()) throw ConfigError("openSSL.server.cipherList: must not be empty");
	tls.requireTLSv1_2 = readBool(config, "openSSL.server.requireTLSv1_2", tls.requireTLSv1_2);
	tls.sessionTickets = readBool(config, "openSSL.server.sessionTickets", tls.sessionTickets);
	if (tls.enabled && tls.certificateFile.empty())
		throw ConfigError("openSSL.server.certificateFile: server.tls = true needs a certificate (PEM file)");

	// The PROXY protocol: off by default; on, it needs the proxies' addresses (nobody is trusted by default).
	const std::string proxyVersion = Poco::toLower(Poco::trim(config.getString("server.proxy_protocol", "off")));
	if (proxyVersion == "v1") result.proxy.version = 1;
	else if (proxyVersion == "v2") result.proxy.version = 2;
	else if (proxyVersion != "off")
		throw ConfigError("server.proxy_protocol: '" + config.getString("server.proxy_protocol", "") + "' is not v1, v2 or off");
	try
	{
		result.proxy.trusted = AddressPrefix::parseList(config.getString("server.trusted_proxies", ""));
	}
	catch (const std::invalid_argument& e)
	{
		throw ConfigError(std::string("server.trusted_proxies: ") + e.what());
	}
	if (result.proxy.version != 0 && result.proxy.trusted.empty())
		throw ConfigError("server.trusted_proxies: server.proxy_protocol = " + proxyVersion +
			" needs the addresses of the proxies that may send the header (e.g. 127.0.0.1, 10.0.0.0/8)");

	result.adminAddress = readAddress(config, "admin.address", result.adminAddress);
	result.adminPort = static_cast<std::uint16_t>(readUnsigned(config, "admin.port", result.adminPort, 0, 65535));
	result.adminThreads = static_cast<unsigned>(readUnsigned(config, "admin.threads", result.adminThreads, 1, 64));

	result.pluginDir = Poco::trim(config.getString("plugins.dir", ""));
	result.pluginWatch = readBool(config, "plugins.watch", result.pluginWatch);
	result.pluginWatchDebounceMs = static_cast<unsigned>(readUnsigned(config, "plugins.watch_debounce_ms", result.pluginWatchDebounceMs, 0, 600000));
	result.pluginWorkers = static_cast<unsigned>(readUnsigned(config, "plugins.workers", result.pluginWorkers, 1, 256));
	result.isolatedWorkers = static_cast<unsigned>(readUnsigned(config, "plugins.isolated_workers", result.isolatedWorkers, 1, 64));

	EngineConfig& e = result.engine;
	e.threads = static_cast<unsigned>(readUnsigned(config, "engine.threads", e.threads, 0, 256));
	e.maxMessageSize = readUnsigned(config, "engine.max_message_size", e.maxMessageSize, 1, std::uint64_t(1) << 40);
	e.backpressureHigh = readUnsigned(config, "engine.backpressure_high", e.backpressureHigh, 1024, std::uint64_t(1) << 40);
	e.backpressureLow = readUnsigned(config, "engine.backpressure_low", e.backpressureLow, 0, std::uint64_t(1) << 40);
	e.backpressureLimit = readUnsigned(config, "engine.backpressure_limit", e.backpressureLimit, 1024, std::uint64_t(1) << 40);
	if (e.backpressureLow >= e.backpressureHigh)
		throw ConfigError("engine.backpressure_low: must be below engine.backpressure_high");
	if (e.backpressureLimit < e.backpressureHigh)
		throw ConfigError("engine.backpressure_limit: must not be below engine.backpressure_high");
	e.sendTimeoutMs = static_cast<unsigned>(readUnsigned(config, "engine.send_timeout_ms", e.sendTimeoutMs, 0, 86400000));
	e.maxOutputMemory = readUnsigned(config, "engine.max_output_memory", e.maxOutputMemory, 0, std::uint64_t(1) << 50);
	if (e.maxOutputMemory != 0 && e.maxOutputMemory < (std::uint64_t(1) << 20))
		throw ConfigError("engine.max_output_memory: " + std::to_string(e.maxOutputMemory) +
			" is below the smallest budget (1048576 bytes; 0 = a quarter of the memory)");
	e.sendChunk = readUnsigned(config, "engine.send_chunk", e.sendChunk, 0, std::uint64_t(1) << 30);
	e.maxConnections = static_cast<unsigned>(readUnsigned(config, "engine.max_connections", e.maxConnections, 1, 10000000));
	e.handshakeTimeoutMs = static_cast<unsigned>(readUnsigned(config, "engine.handshake_timeout_ms", e.handshakeTimeoutMs, 1, 3600000));
	e.idleTimeoutMs = static_cast<unsigned>(readUnsigned(config, "engine.idle_timeout_ms", e.idleTimeoutMs, 0, 86400000));
	e.pingIntervalMs = static_cast<unsigned>(readUnsigned(config, "engine.ping_interval_ms", e.pingIntervalMs, 0, 86400000));

	e.maxConnectionsPerIp = static_cast<unsigned>(readUnsigned(config, "engine.max_connections_per_ip", e.maxConnectionsPerIp, 0, 10000000));
	e.handshakesPerIpPerS = static_cast<unsigned>(readUnsigned(config, "engine.handshakes_per_ip_per_s", e.handshakesPerIpPerS, 0, 10000000));
	e.drainDelayMs = static_cast<unsigned>(readUnsigned(config, "engine.drain_delay_ms", e.drainDelayMs, 0, 3600000));
	e.drainTimeoutMs = static_cast<unsigned>(readUnsigned(config, "engine.drain_timeout_ms", e.drainTimeoutMs, 0, 3600000));
	e.stallTimeoutMs = static_cast<unsigned>(readUnsigned(config, "engine.stall_timeout_ms", e.stallTimeoutMs, 0, 3600000));
	if (e.stallTimeoutMs != 0 && e.stallTimeoutMs < 100)
		throw ConfigError("engine.stall_timeout_ms: " + std::to_string(e.stallTimeoutMs) + " is out of range (0 = off, or 100..3600000)");
	{
		const std::string action = Poco::toLower(Poco::trim(config.getString("engine.stall_action", "log")));
		if (action == "log") e.stallAbort = false;
		else if (action == "abort") e.stallAbort = true;
		else throw ConfigError("engine.stall_action: '" + action + "' is not log or abort");
	}

	DeflateConfig& d = e.deflate;
	codec::DeflateServerConfig& n = d.negotiation;
	n.level = static_cast<int>(readUnsigned(config, "engine.deflate.level", static_cast<std::uint64_t>(n.level), 0, 9));
	d.memLevel = static_cast<int>(readUnsigned(config, "engine.deflate.mem_level", static_cast<std::uint64_t>(d.memLevel), 1, 9));
	n.serverMaxWindowBits = static_cast<int>(readUnsigned(config, "engine.deflate.server_max_window_bits",
		static_cast<std::uint64_t>(n.serverMaxWindowBits), 9, 15));
	n.serverNoContextTakeover = readBool(config, "engine.deflate.server_no_context_takeover", n.serverNoContextTakeover);
	n.clientMaxWindowBits = static_cast<int>(readUnsigned(config, "engine.deflate.client_max_window_bits",
		static_cast<std::uint64_t>(n.clientMaxWindowBits), 9, 15));
	n.requestClientNoContextTakeover =
		readBool(config, "engine.deflate.client_no_context_takeover", n.requestClientNoContextTakeover);
	d.minSize = readUnsigned(config, "engine.deflate.min_size", d.minSize, 0, std::uint64_t(1) << 30);
	rejectUnknown(config, "engine.deflate", {"level", "mem_level", "server_max_window_bits", "server_no_context_takeover",
		"client_max_window_bits", "client_no_context_takeover", "min_size"});

	result.logRateLimitMs = static_cast<unsigned>(readUnsigned(config, "logging.rate_limit_ms", result.logRateLimitMs, 0, 3600000));

	ClusterConfig& cluster = result.cluster;
	cluster.redis = Poco::trim(config.getString("cluster.redis", ""));
	if (!cluster.redis.empty())
	{
		// host:port, or [v6 address]:port.
		const std::size_t colon = cluster.redis.rfind(':');
		std::string host = colon == std::string::npos ? std::string() : cluster.redis.substr(0, colon);
		if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
		unsigned long port = 0;
		const std::string portText = colon == std::string::npos ? std::string() : cluster.redis.substr(colon + 1);
		const bool digits = !portText.empty() && portText.size() <= 5 &&
			portText.find_first_not_of("0123456789") == std::string::npos;
		if (digits) port = std::stoul(portText);
		if (host.empty() || !digits || port == 0 || port > 65535)
			throw ConfigError("cluster.redis: '" + cluster.redis + "' is not host:port (e.g. 127.0.0.1:6379)");
		cluster.redisHost = host;
		cluster.redisPort = static_cast<std::uint16_t>(port);
	}
	cluster.redisPassword = config.getString("cluster.redis_password", "");
	cluster.node = Poco::trim(config.getString("cluster.node", ""));
	// Names travel in Redis keys, /health's JSON and log lines: letters, digits and . _ - : @ only.
	const auto plainName = [](const std::string& name) {
		return name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:@") == std::string::npos;
	};
	if (cluster.node.size() > 200 || !plainName(cluster.node))
		throw ConfigError("cluster.node: '" + cluster.node +
			"' must be at most 200 letters, digits and . _ - : @ (e.g. web-1 or host.example:8080)");
	cluster.name = Poco::trim(config.getString("cluster.name", cluster.name));
	if (cluster.name.empty() || cluster.name.size() > 64 || !plainName(cluster.name))
		throw ConfigError("cluster.name: '" + cluster.name + "' must be 1 to 64 letters, digits and . _ - : @");
	rejectUnknown(config, "cluster", {"redis", "redis_password", "node", "name"});

	if (config.hasProperty("server.origins"))
	{
		result.originsSet = true;
		result.origins = readOrigins(config, "server.origins");
	}

	// route.<path> = chain; route.<path>.<option> = value, where <option> is one of the option
	// names (so a path may contain dots, but cannot end in ".gates" and the like).
	std::vector<std::string> routeKeys;
	leafKeys(config, "route", "", routeKeys);
	std::vector<std::pair<std::string, std::string>> options; // (path, option)
	for (const auto& name : routeKeys)
	{
		const std::string key = "route." + name;
		const std::size_t dot = name.rfind('.');
		if (dot != std::string::npos && isRouteOption(std::string_view(name).substr(dot + 1)))
		{
			options.emplace_back(name.substr(0, dot), name.substr(dot + 1));
			continue;
		}
		const std::string& path = name;
		if (path.empty() || path[0] != '/') throw ConfigError(key + ": a route path must start with '/'");
		std::vector<std::string> chain = splitList(config.getString(key, ""));
		if (chain.empty()) throw ConfigError(key + ": route has no plugins (expected e.g. " + key + " = echo)");
		result.routes[path] = std::move(chain);
		result.routeOptions[path];
	}
	if (result.routes.empty()) throw ConfigError("route.*: no route configured (expected e.g. route./ws = random-suffix)");
	for (const auto& [path, option] : options)
	{
		const std::string key = "route." + path + "." + option;
		if (!result.routes.count(path))
			throw ConfigError(key + ": no route " + path + " (set route." + path + " = <plugins> first)");
		readRouteOption(config, key, option, result.routeOptions[path]);
	}

	AbstractConfiguration::Keys pluginNames;
	config.keys("plugin", pluginNames);
	for (const auto& name : pluginNames)
	{
		AbstractConfiguration::Keys settingKeys;
		config.keys("plugin." + name, settingKeys);
		Settings& settings = result.pluginSettings[name];
		for (const auto& key : settingKeys)
		{
			const std::string full = "plugin." + name + "." + key;
			if (config.hasProperty(full)) settings[key] = config.getString(full);
		}
	}
	return result;
}

HostConfig HostConfig::fromFile(const std::string& path)
{
	if (path.empty()) throw ConfigError("no configuration file given and none found (use --config=PATH)");
	Poco::File file(path);
	if (!file.exists()) throw ConfigError("configuration file '" + path + "' does not exist");
	if (!file.isFile()) throw ConfigError("configuration file '" + path + "' is not a file");
	{
		std::ifstream in(path);
		if (!in) throw ConfigError("configuration file '" + path + "' cannot be read");
	}
	Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> config;
	try
	{
		config = new Poco::Util::PropertyFileConfiguration(path);
	}
	catch (const Poco::Exception& e)
	{
		throw ConfigError("configuration file '" + path + "': " + e.displayText());
	}
	try
	{
		return from(*config);
	}
	catch (const ConfigError& e)
	{
		throw ConfigError(path + ": " + e.what());
	}
}

const Settings& HostConfig::settingsFor(const std::string& plugin) const
{
	static const Settings empty;
	auto it = pluginSettings.find(plugin);
	return it == pluginSettings.end() ? empty : it->second;
}

std::string HostConfig::defaultFile(const std::string& executableDir)
{
	std::vector<std::string> candidates;
	if (!executableDir.empty())
	{
		Poco::Path installed(executableDir);
		installed.makeDirectory().popDirectory().pushDirectory("etc").pushDirectory("parley").setFileName("parley-host.properties");
		candidates.push_back(installed.toString());
		// A host installed with prefix /usr (the .deb) keeps its configuration in /etc, as
		// GNUInstallDirs does for that prefix.
		Poco::Path prefix(executableDir);
		prefix.makeDirectory().popDirectory();
		if (prefix.toString() == "/usr/") candidates.push_back("/etc/parley/parley-host.properties");
	}
	candidates.push_back(std::string(PARLEY_SOURCE_DIR) + "/etc/parley-host.properties");
	candidates.push_back(std::string(PARLEY_INSTALL_SYSCONFDIR) + "/parley/parley-host.properties");
	for (const auto& candidate : candidates)
	{
		if (Poco::File(candidate).exists()) return candidate;
	}
	return "";
}

} // namespace parley
