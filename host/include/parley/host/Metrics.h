//
// Metrics.h — counters of a running host, summed over its event loops.
//
#ifndef PARLEY_HOST_METRICS_INCLUDED
#define PARLEY_HOST_METRICS_INCLUDED

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace parley {
namespace host {

/// A histogram snapshot: observations per bucket (not cumulative), their sum and count.
struct Histogram
{
	std::vector<double> bounds;          ///< upper bounds in seconds, ascending (le, inclusive)
	std::vector<std::uint64_t> counts;   ///< bounds.size() + 1 entries; the last is above every bound
	double sum = 0;                      ///< seconds

	/// Returns the number of observations (the sum of counts).
	std::uint64_t count() const;
};

/// What one route saw (WebSocket connections upgraded on it and their messages).
struct RouteMetrics
{
	std::uint64_t connections = 0;       ///< WebSocket connections open now
	std::uint64_t connectionsTotal = 0;  ///< upgrades since start
	std::uint64_t messagesIn = 0;        ///< whole data messages received
	std::uint64_t messagesOut = 0;       ///< data messages sent (replies, pushes, broadcasts)
	std::uint64_t bytesIn = 0;           ///< bytes read after the 101
	std::uint64_t bytesOut = 0;          ///< bytes written from the 101 on
	Histogram respond;                   ///< time in the route's chain: every 64th message of the route on each loop
};

/// The process as /proc/self shows it (zero where unknown).
struct ProcessMetrics
{
	std::uint64_t openFds = 0;
	std::uint64_t maxFds = 0;            ///< RLIMIT_NOFILE (soft)
	std::uint64_t residentBytes = 0;
	std::uint64_t virtualBytes = 0;
	double cpuSeconds = 0;               ///< user + system
	double startTimeSeconds = 0;         ///< since the Unix epoch

	/// Returns the numbers of the calling process.
	static ProcessMetrics read();
};

/// A snapshot of the host's counters (GET /metrics prints it). Counters only grow, except
/// `connections`, which is the number of WebSocket connections open now.
struct Metrics
{
	std::uint64_t connections = 0;          ///< WebSocket connections open now
	std::uint64_t handshakes = 0;           ///< connections accepted and not upgraded yet (TLS or request head)
	std::uint64_t connectionsTotal = 0;     ///< connections upgraded since start
	std::uint64_t connectionsRefused = 0;   ///< connections beyond engine.max_connections (503, or closed at once)
	std::uint64_t handshakesRefused = 0;    ///< requests on the public port answered 4xx/503 (by status: refusedByStatus)
	std::uint64_t handshakeTimeouts = 0;    ///< connections closed at engine.handshake_timeout_ms without a whole head
	std::uint64_t originRefusals = 0;       ///< 403: an Origin outside the route's origins
	std::uint64_t subprotocolRefusals = 0;  ///< 400: no offered subprotocol is one the route speaks
	std::uint64_t peerLimitRefusals = 0;    ///< 429: engine.max_connections_per_ip / handshakes_per_ip_per_s
	std::uint64_t gateRefusals = 0;         ///< a gate refused (401/403/429)
	std::uint64_t gateFailures = 0;         ///< a gate threw, timed out or was missing (503)
	std::uint64_t tokenExpiries = 0;        ///< closed with 1008 when a gate's admission expired
	std::uint64_t deflateMessagesOut = 0;   ///< messages sent compressed (permessage-deflate)
	std::uint64_t deflatePayloadBytesOut = 0; ///< their payload bytes before compression
	std::uint64_t deflateWireBytesOut = 0;  ///< their payload bytes on the wire (compressed)
	std::uint64_t inflateMessagesIn = 0;    ///< compressed messages received and inflated
	std::uint64_t inflateWireBytesIn = 0;   ///< their payload bytes on the wire (compressed)
	std::uint64_t inflatePayloadBytesIn = 0; ///< their payload bytes after inflating
	std::uint64_t proxyUntrusted = 0;       ///< server.proxy_protocol: connections from outside server.trusted_proxies
	std::uint64_t proxyInvalid = 0;         ///< ... without a valid PROXY header (wrong version, malformed, ended inside it)
	std::uint64_t proxyTimeouts = 0;        ///< ... without a whole PROXY header within engine.handshake_timeout_ms
	std::uint64_t tlsFailures = 0;          ///< TLS handshakes that failed (bad client, plain HTTP to the TLS port, ...)
	std::uint64_t acceptExhausted = 0;      ///< times accept() found no free descriptor (or memory)
	std::uint64_t messagesIn = 0;           ///< whole data messages received (all routes)
	std::uint64_t messagesOut = 0;          ///< data messages sent (all routes)
	std::uint64_t bytesIn = 0;              ///< bytes read from connections (handshakeBytesIn + every route's)
	std::uint64_t bytesOut = 0;             ///< bytes written to connections (handshakeBytesOut + every route's)
	std::uint64_t handshakeBytesIn = 0;     ///< bytes read before an upgrade (request heads, refused connections)
	std::uint64_t handshakeBytesOut = 0;    ///< bytes written to connections never upgraded (HTTP refusals)
	std::uint64_t pings = 0;                ///< pings received (each answered with a pong)
	std::uint64_t protocolErrors = 0;       ///< connections closed 1002/1007/1009 by the decoder
	std::uint64_t responderErrors = 0;      ///< connections closed 1011 because a responder threw
	std::uint64_t ioErrors = 0;             ///< connections lost by a socket error
	std::uint64_t backpressurePauses = 0;   ///< times reading stopped above engine.backpressure_high
	std::uint64_t backpressureCloses = 0;   ///< connections closed 1008 above engine.backpressure_limit
	std::uint64_t idleCloses = 0;           ///< connections closed 1001 by engine.idle_timeout_ms
	std::uint64_t pingTimeouts = 0;         ///< connections closed 1001 for not answering a ping
	std::uint64_t maxPendingOutput = 0;     ///< most unsent output one connection ever held (bytes)
	std::uint64_t sendTimeouts = 0;         ///< connections cut 1008 by engine.send_timeout_ms
	std::uint64_t budgetCuts = 0;           ///< connections cut 1008 near engine.max_output_memory
	std::uint64_t budgetPauses = 0;         ///< times a connection stopped reading near engine.max_output_memory
	std::uint64_t outputMemory = 0;         ///< unsent output of the whole host now (bytes in output chunks in use)
	std::uint64_t outputMemoryPeak = 0;     ///< the most outputMemory ever was
	std::uint64_t outputBudget = 0;         ///< engine.max_output_memory in force (bytes)
	std::uint64_t outputReserve = 0;        ///< output chunks the loops keep for reuse (bytes)
	bool cluster = false;                   ///< cluster.redis is set
	bool clusterUp = false;                 ///< both links to Redis are up
	std::uint64_t clusterPublished = 0;     ///< broadcasts and sends handed to Redis
	std::uint64_t clusterPublishCommands = 0;   ///< PUBLISH commands that carried them
	std::uint64_t clusterUnpublished = 0;   ///< broadcasts and sends that could not be published
	std::uint64_t clusterReceived = 0;      ///< messages from other hosts delivered here
	std::uint64_t clusterReconnects = 0;    ///< links to Redis lost
	std::uint64_t clusterNodes = 0;         ///< hosts in the presence hash seen in the last 3 s
	double clusterBusLatencySeconds = -1;   ///< our last ping through Redis and back (-1: none yet)
	std::map<std::string, std::uint64_t> clusterRouteConnections;   ///< connections per route on all hosts
	std::uint64_t isolatedChildren = 0;     ///< isolated children alive now (route.<path>.isolate = process)
	std::uint64_t isolatedRespawns = 0;     ///< isolated children started again after one died or stalled
	std::uint64_t isolatedMessages = 0;     ///< messages sent to isolated children
	std::uint64_t stalls = 0;               ///< plugin calls that ran past engine.stall_timeout_ms
	std::uint64_t loopsStalled = 0;         ///< event loops in such a call now
	std::uint64_t workersStalled = 0;       ///< workers in such a call now
	/// Close frames sent, by code: 1000..1015 each (1005 = an empty close), 3000 = all of 3000-3999,
	/// 4000 = all of 4000-4999, 0 = anything else.
	std::map<std::uint16_t, std::uint64_t> closesSent;
	/// Close frames received, keyed like closesSent.
	std::map<std::uint16_t, std::uint64_t> closesReceived;
	/// Connections (any state) of each event loop, as of its last accept or close.
	std::vector<std::uint64_t> connectionsByLoop;
	/// Refused requests by HTTP status (400, 404, 405, 426, 431, 503; 0 = any other).
	std::map<int, std::uint64_t> refusedByStatus;
	/// By route path: every route the host had since start (a route a reload removed keeps its
	/// totals; its connections gauge falls to 0 as its connections close).
	std::map<std::string, RouteMetrics> routes;
	/// Accept to 101 written (TLS handshake, request head and gates included).
	Histogram handshakeSeconds;
	/// The process (filled by the host's metrics(); zero in a default Metrics).
	ProcessMetrics process;

	/// Returns the Prometheus text exposition (version 0.0.4) of the counters: `parley_` names
	/// with # HELP and # TYPE, counters ending in _total, labels route, code, status and loop,
	/// histograms parley_respond_seconds{route} and parley_handshake_seconds, parley_build_info and
	/// the process_* series. Never throws but std::bad_alloc.
	std::string toText() const;

	/// The Content-Type of toText().
	static constexpr const char* ContentType = "text/plain; version=0.0.4; charset=utf-8";
};

} // namespace host
} // namespace parley

#endif
