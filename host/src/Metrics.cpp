//
// Metrics.cpp
//
#include "parley/host/Metrics.h"
#include "parley/Plugin.h"
#include <Poco/Version.h>
#include <openssl/crypto.h>
#include <zlib.h>
#include <cstdio>
#include <ctime>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>

#ifndef PARLEY_VERSION
#define PARLEY_VERSION "unknown"
#endif

namespace parley {
namespace host {

std::uint64_t Histogram::count() const
{
	std::uint64_t n = 0;
	for (std::uint64_t c : counts) n += c;
	return n;
}

ProcessMetrics ProcessMetrics::read()
{
	ProcessMetrics p;
	if (DIR* dir = ::opendir("/proc/self/fd"))
	{
		std::uint64_t n = 0;
		while (const dirent* entry = ::readdir(dir))
			if (entry->d_name[0] != '.') ++n;
		::closedir(dir);
		p.openFds = n > 0 ? n - 1 : 0;   // not the descriptor of the listing itself
	}
	rlimit limit{};
	if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) p.maxFds = static_cast<std::uint64_t>(limit.rlim_cur);
	const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
	const long page = ::sysconf(_SC_PAGESIZE);
	std::ifstream statFile("/proc/self/stat");
	std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
	// The fields after the command (in parentheses, which may hold spaces): state is field 3.
	const std::size_t close = stat.rfind(')');
	if (close != std::string::npos && ticks > 0)
	{
		std::istringstream fields(stat.substr(close + 2));
		std::vector<std::string> f;
		for (std::string word; fields >> word;) f.push_back(word);
		// f[0] is field 3 (state): utime 14, stime 15, starttime 22, vsize 23, rss 24.
		if (f.size() > 21)
		{
			p.cpuSeconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
			p.virtualBytes = std::stoull(f[20]);
			p.residentBytes = std::stoull(f[21]) * static_cast<std::uint64_t>(page);
			std::ifstream procStat("/proc/stat");
			for (std::string line; std::getline(procStat, line);)
			{
				if (line.compare(0, 6, "btime ") == 0)
				{
					p.startTimeSeconds = std::stod(line.substr(6)) + std::stod(f[19]) / ticks;
					break;
				}
			}
		}
	}
	return p;
}

namespace {

std::string number(double value, int digits)
{
	char buf[40];
	std::snprintf(buf, sizeof(buf), "%.*g", digits, value);
	return buf;
}

/// A label value with \, " and newline escaped as the text format wants.
std::string labelValue(const std::string& text)
{
	std::string out;
	for (const char ch : text)
	{
		if (ch == '\\') out += "\\\\";
		else if (ch == '"') out += "\\\"";
		else if (ch == '\n') out += "\\n";
		else out += ch;
	}
	return out;
}

class Writer
{
public:
	/// Starts a family: # HELP and # TYPE.
	void family(const char* name, const char* type, const char* help)
	{
		_name = name;
		text += "# HELP ";
		text += name;
		text += ' ';
		text += help;
		text += "\n# TYPE ";
		text += name;
		text += ' ';
		text += type;
		text += '\n';
	}

	/// A sample of the current family (`labels` without braces, may be empty).
	void sample(const std::string& labels, const std::string& value, const char* suffix = "")
	{
		text += _name;
		text += suffix;
		if (!labels.empty()) text += "{" + labels + "}";
		text += ' ';
		text += value;
		text += '\n';
	}
	void sample(const std::string& labels, std::uint64_t value) { sample(labels, std::to_string(value)); }

	/// One counter or gauge without labels.
	void single(const char* name, const char* type, const char* help, std::uint64_t value)
	{
		family(name, type, help);
		sample(std::string(), value);
	}

	/// The _bucket, _sum and _count samples of a histogram of the current family.
	void histogram(const std::string& labels, const Histogram& h)
	{
		const std::string prefix = labels.empty() ? std::string() : labels + ",";
		std::uint64_t cumulative = 0;
		for (std::size_t i = 0; i < h.bounds.size(); ++i)
		{
			cumulative += i < h.counts.size() ? h.counts[i] : 0;
			sample(prefix + "le=\"" + number(h.bounds[i], 9) + "\"", std::to_string(cumulative), "_bucket");
		}
		if (h.bounds.size() < h.counts.size()) cumulative += h.counts[h.bounds.size()];
		sample(prefix + "le=\"+Inf\"", std::to_string(cumulative), "_bucket");
		sample(labels, number(h.sum, 15), "_sum");
		sample(labels, std::to_string(cumulative), "_count");
	}

	std::string text;

private:
	const char* _name = "";
};

std::string route(const std::string& path)
{
	return "route=\"" + labelValue(path) + "\"";
}

std::string closeCode(std::uint16_t code)
{
	return code == 3000 ? "3xxx" : code == 4000 ? "4xxx" : code == 0 ? "other" : std::to_string(code);
}

} // namespace

std::string Metrics::toText() const
{
	Writer w;
	w.family("parley_build_info", "gauge", "Parley build: version, plugin API, TLS library, Poco and zlib versions.");
	char poco[32];
	std::snprintf(poco, sizeof(poco), "%u.%u.%u", (POCO_VERSION >> 24) & 0xFFu, (POCO_VERSION >> 16) & 0xFFu,
		(POCO_VERSION >> 8) & 0xFFu);
	w.sample("version=\"" PARLEY_VERSION "\",api=\"" + std::to_string(PARLEY_API_VERSION) + "\",tls=\"" +
			labelValue(OpenSSL_version(OPENSSL_VERSION)) + "\",poco=\"" + poco + "\",zlib=\"" + labelValue(zlibVersion()) + "\"",
		1);

	// Connections and handshakes.
	w.family("parley_connections", "gauge", "WebSocket connections open now, by route.");
	for (const auto& r : routes) w.sample(route(r.first), r.second.connections);
	w.family("parley_connections_opened_total", "counter", "WebSocket connections upgraded since start, by route.");
	for (const auto& r : routes) w.sample(route(r.first), r.second.connectionsTotal);
	w.family("parley_loop_connections", "gauge", "Connections (any state) of each event loop, as of its last accept or close.");
	for (std::size_t i = 0; i < connectionsByLoop.size(); ++i)
		w.sample("loop=\"" + std::to_string(i) + "\"", connectionsByLoop[i]);
	w.single("parley_handshakes_in_progress", "gauge", "Connections accepted and not upgraded yet (TLS, request head or gates).",
		handshakes);
	w.family("parley_handshake_seconds", "histogram", "Time from accept to the 101 written (TLS handshake, request head and gates included).");
	w.histogram(std::string(), handshakeSeconds);
	w.single("parley_connections_refused_total", "counter", "Connections beyond engine.max_connections (503, or closed at once).",
		connectionsRefused);
	w.family("parley_handshakes_refused_total", "counter", "Requests on the public port answered with an HTTP error, by status.");
	for (const auto& entry : refusedByStatus)
		w.sample("status=\"" + (entry.first ? std::to_string(entry.first) : std::string("other")) + "\"", entry.second);
	w.single("parley_handshake_timeouts_total", "counter", "Connections closed at engine.handshake_timeout_ms without a whole request head.",
		handshakeTimeouts);
	w.single("parley_tls_handshake_failures_total", "counter", "TLS handshakes that failed.", tlsFailures);
	w.family("parley_proxy_refused_total", "counter",
		"Connections closed before their PROXY header was accepted (server.proxy_protocol), by reason.");
	w.sample("reason=\"untrusted\"", proxyUntrusted);
	w.sample("reason=\"invalid\"", proxyInvalid);
	w.sample("reason=\"timeout\"", proxyTimeouts);
	w.single("parley_origin_refusals_total", "counter", "Requests refused with 403 for an Origin outside the route's origins.",
		originRefusals);
	w.single("parley_subprotocol_refusals_total", "counter", "Requests refused with 400 for offering no subprotocol the route speaks.",
		subprotocolRefusals);
	w.single("parley_peer_limit_refusals_total", "counter",
		"Requests refused with 429 by engine.max_connections_per_ip or engine.handshakes_per_ip_per_s.", peerLimitRefusals);
	w.single("parley_gate_refusals_total", "counter", "Requests a gate refused (401, 403 or 429).", gateRefusals);
	w.single("parley_gate_failures_total", "counter", "Requests answered 503 because a gate threw, timed out or was missing.",
		gateFailures);
	w.single("parley_token_expiries_total", "counter", "Connections closed with 1008 when a gate's admission expired.", tokenExpiries);
	w.single("parley_accept_out_of_descriptors_total", "counter", "Times accept() found no free file descriptor (or memory).",
		acceptExhausted);
	w.single("parley_stalls_total", "counter", "Plugin calls (responders, gates) that ran past engine.stall_timeout_ms.", stalls);
	w.single("parley_loops_stalled", "gauge", "Event loops in a plugin call past engine.stall_timeout_ms now (/health: stalled).",
		loopsStalled);
	w.single("parley_workers_stalled", "gauge", "Worker threads in a plugin call past engine.stall_timeout_ms now.", workersStalled);

	// Messages and bytes.
	w.family("parley_messages_received_total", "counter", "Whole data messages received, by route.");
	for (const auto& r : routes) w.sample(route(r.first), r.second.messagesIn);
	w.family("parley_messages_sent_total", "counter", "Data messages sent (replies, pushes, broadcasts), by route.");
	for (const auto& r : routes) w.sample(route(r.first), r.second.messagesOut);
	w.family("parley_received_bytes_total", "counter", "Bytes read from WebSocket connections after the 101, by route.");
	for (const auto& r : routes) w.sample(route(r.first), r.second.bytesIn);
	w.family("parley_sent_bytes_total", "counter", "Bytes written to WebSocket connections from the 101 on, by route.");
	for (const auto& r : routes) w.sample(route(r.first), r.second.bytesOut);
	w.single("parley_handshake_received_bytes_total", "counter", "Bytes read before an upgrade (request heads, refused connections).",
		handshakeBytesIn);
	w.single("parley_handshake_sent_bytes_total", "counter", "Bytes written to connections never upgraded (HTTP refusals).",
		handshakeBytesOut);
	w.family("parley_respond_seconds", "histogram",
		"Time a message spends in its route's chain (inline or on a worker); every 64th message of a route on each event loop is timed.");
	for (const auto& r : routes) w.histogram(route(r.first), r.second.respond);
	w.single("parley_pings_received_total", "counter", "Pings received (each answered with a pong).", pings);

	// Closes and faults.
	w.family("parley_closes_sent_total", "counter", "Close frames sent, by code (3xxx, 4xxx: the ranges; other: anything else).");
	for (const auto& entry : closesSent) w.sample("code=\"" + closeCode(entry.first) + "\"", entry.second);
	w.family("parley_closes_received_total", "counter", "Close frames received, by code (3xxx, 4xxx: the ranges; other: anything else).");
	for (const auto& entry : closesReceived) w.sample("code=\"" + closeCode(entry.first) + "\"", entry.second);
	w.single("parley_protocol_errors_total", "counter", "Connections closed 1002, 1007 or 1009 for a bad frame or message.",
		protocolErrors);
	w.single("parley_responder_errors_total", "counter", "Connections closed 1011 because a responder threw.", responderErrors);
	w.single("parley_io_errors_total", "counter", "WebSocket connections lost by a socket error.", ioErrors);
	w.single("parley_backpressure_pauses_total", "counter", "Times reading a connection stopped above engine.backpressure_high.",
		backpressurePauses);
	w.single("parley_backpressure_closes_total", "counter", "Connections closed 1008 above engine.backpressure_limit.",
		backpressureCloses);
	w.single("parley_idle_closes_total", "counter", "Connections closed 1001 by engine.idle_timeout_ms.", idleCloses);
	w.single("parley_ping_timeouts_total", "counter", "Connections closed 1001 for not answering a ping.", pingTimeouts);
	w.single("parley_max_pending_output_bytes", "gauge", "Most unsent output one connection ever held.", maxPendingOutput);
	w.single("parley_send_timeouts_total", "counter", "Connections cut 1008: they took nothing of their output for engine.send_timeout_ms.",
		sendTimeouts);
	w.single("parley_output_memory_bytes", "gauge", "Unsent output of the whole host (output chunks in use).", outputMemory);
	w.single("parley_output_memory_peak_bytes", "gauge", "The most unsent output the whole host ever held.", outputMemoryPeak);
	w.single("parley_output_memory_budget_bytes", "gauge", "engine.max_output_memory in force.", outputBudget);
	w.single("parley_output_reserve_bytes", "gauge", "Output chunks the event loops keep for reuse.", outputReserve);
	w.single("parley_output_budget_pauses_total", "counter",
		"Times a connection stopped reading because the output memory was above 3/4 of engine.max_output_memory.", budgetPauses);
	w.single("parley_output_budget_cuts_total", "counter",
		"Connections cut 1008 because the output memory was near engine.max_output_memory.", budgetCuts);

	// Isolated routes (route.<path>.isolate = process).
	w.single("parley_isolated_children", "gauge", "Isolated child processes alive now.", isolatedChildren);
	w.single("parley_isolated_respawns_total", "counter", "Isolated children started again after one died or stalled.",
		isolatedRespawns);
	w.single("parley_isolated_messages_total", "counter", "Messages sent to isolated children.", isolatedMessages);

	// The cluster bus (cluster.redis), only when it is on.
	if (cluster)
	{
		w.single("parley_cluster_up", "gauge", "1 while both links to Redis (publish, subscribe) are up; 0: degraded, local traffic only.",
			clusterUp ? 1 : 0);
		w.single("parley_cluster_published_total", "counter", "Broadcasts and cross-host sends handed to Redis.", clusterPublished);
		w.single("parley_cluster_publish_commands_total", "counter", "PUBLISH commands that carried them (batched).",
			clusterPublishCommands);
		w.single("parley_cluster_unpublished_total", "counter",
			"Broadcasts and cross-host sends that could not be published (Redis away or the publish backlog full): lost for the other hosts.",
			clusterUnpublished);
		w.single("parley_cluster_received_total", "counter", "Broadcasts and sends from other hosts delivered here.", clusterReceived);
		w.single("parley_cluster_reconnects_total", "counter", "Links to Redis lost (and tried again).", clusterReconnects);
		w.single("parley_cluster_nodes", "gauge", "Hosts in the presence hash that reported in the last 3 s.", clusterNodes);
		w.family("parley_cluster_bus_latency_seconds", "gauge", "This host's last ping through Redis and back (-1: none yet).");
		w.sample(std::string(), number(clusterBusLatencySeconds, 6));
		w.family("parley_cluster_connections", "gauge", "WebSocket connections of each route on all the hosts, as of the last presence round.");
		for (const auto& entry : clusterRouteConnections) w.sample(route(entry.first), entry.second);
	}

	// permessage-deflate.
	w.single("parley_deflate_messages_total", "counter", "Messages sent compressed (permessage-deflate).", deflateMessagesOut);
	w.single("parley_deflate_payload_bytes_total", "counter", "Payload bytes of the messages sent compressed, before compression.",
		deflatePayloadBytesOut);
	w.single("parley_deflate_wire_bytes_total", "counter", "Payload bytes of the messages sent compressed, on the wire.",
		deflateWireBytesOut);
	w.single("parley_inflate_messages_total", "counter", "Compressed messages received and inflated.", inflateMessagesIn);
	w.single("parley_inflate_wire_bytes_total", "counter", "Payload bytes of the compressed messages received, on the wire.",
		inflateWireBytesIn);
	w.single("parley_inflate_payload_bytes_total", "counter", "Payload bytes of the compressed messages received, once inflated.",
		inflatePayloadBytesIn);

	// The process, as other exporters name it.
	w.single("process_open_fds", "gauge", "Number of open file descriptors.", process.openFds);
	w.single("process_max_fds", "gauge", "Maximum number of open file descriptors.", process.maxFds);
	w.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", process.residentBytes);
	w.single("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", process.virtualBytes);
	w.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
	w.sample(std::string(), number(process.cpuSeconds, 15));
	w.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
	w.sample(std::string(), number(process.startTimeSeconds, 15));
	return std::move(w.text);
}

} // namespace host
} // namespace parley
