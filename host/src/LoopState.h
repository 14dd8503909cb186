//
// LoopState.h — what the layers of one event loop share: its connections, its read and output
// buffers, its counters. Loop thread only, except the published counters.
//
#ifndef PARLEY_HOST_LOOPSTATE_INCLUDED
#define PARLEY_HOST_LOOPSTATE_INCLUDED

#include "Connection.h"
#include "EventLoop.h"
#include "Faults.h"
#include "LogLimiter.h"
#include "LoopDeflate.h"
#include "OutputBuffer.h"
#include "PeerLimits.h"
#include "parley/config/HostConfig.h"
#include "parley/host/Metrics.h"
#include <Poco/Logger.h>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace parley {
namespace host {

/// The loop's counters (see Metrics for their meaning).
enum Counter : std::size_t
{
	HandshakeBytesIn, HandshakeBytesOut, Pings, ProtocolErrors, ResponderErrors, IoErrors,
	BackpressurePauses, BackpressureCloses, IdleCloses, PingTimeouts, MaxPendingOutput, HandshakesRefused,
	HandshakeTimeouts, TlsFailures, ConnectionsRefused, OriginRefusals, SubprotocolRefusals, PeerLimitRefusals,
	GateRefusals, GateFailures, TokenExpiries, DeflateMessagesOut, DeflatePayloadBytesOut, DeflateWireBytesOut,
	InflateMessagesIn, InflateWireBytesIn, InflatePayloadBytesIn, SendTimeouts, BudgetCuts, BudgetPauses,
	ProxyUntrusted, ProxyInvalid, ProxyTimeouts,   // server.proxy_protocol: connections closed before their PROXY header was accepted
	CounterCount
};

/// Kinds of rate-limited log lines (LogLimits): one per refusal status (LoopState::refusalBucket),
/// one per close code the host closes with for a fault of the peer (LoopState::closeBucket), then
/// the faults below.
enum LogKind : std::size_t
{
	LogRefused = 0,            ///< + refusal bucket: handshakes refused (notice; 503: warning)
	LogClosed = 16,            ///< + close bucket: protocol closes (notice)
	LogHandshakeTimeout = 40,  ///< TLS handshake or request head not done within engine.handshake_timeout_ms (notice)
	LogTlsFailure,             ///< TLS handshakes that failed (notice)
	LogIoError,                ///< reads or writes that failed, with errno's text (notice)
	LogBackpressure,           ///< connections cut at engine.backpressure_limit (warning)
	LogSendTimeout,            ///< connections cut at engine.send_timeout_ms (warning)
	LogBudget,                 ///< engine.max_output_memory reached: reads paused, connections cut (warning)
	LogAcceptExhausted,        ///< accept failed for want of descriptors or memory (warning)
	LogGateFailed,             ///< a gate failed, was missing or too slow: 503 (error)
	LogResponderFailed,        ///< a responder threw: 1011 (error)
	LogPingTimeout,            ///< no pong to the last ping: 1001 (notice)
	LogIdleClose,              ///< idle past engine.idle_timeout_ms: 1001 (information)
	LogTokenExpired,           ///< a gate's admission expired: 1008 (information)
	LogStall,                  ///< a plugin call past engine.stall_timeout_ms (error)
	LogStallOver,              ///< such a call returned (warning)
	LogProxyRefused,           ///< server.proxy_protocol: untrusted, invalid or late PROXY headers (notice)
	LogKindCount
};

/// What flush lines call a kind ("handshakes refused with 404") and their level.
std::string describeLogKind(std::size_t kind);
Poco::Message::Priority logKindPriority(std::size_t kind);

/// Adds to a counter that only its loop writes and any thread reads (no locked instruction).
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept
{
	counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

/// Returns the monotonic clock in nanoseconds (CLOCK_MONOTONIC, a vDSO call).
inline std::uint64_t monotonicNs() noexcept
{
	return static_cast<std::uint64_t>(
		std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

/// A histogram one loop fills and any thread reads: a count per bucket (not cumulative: the
/// reader adds them up, so that +Inf always equals the count) and the sum of what was observed.
template <std::size_t N>
struct LoopHistogram
{
	explicit LoopHistogram(const std::array<std::uint64_t, N>& bounds) : boundsNs(bounds) {}

	/// Counts one observation of `ns` nanoseconds (loop thread).
	void observe(std::uint64_t ns) noexcept
	{
		std::size_t i = 0;
		while (i < N && ns > boundsNs[i]) ++i;   // le: a value on a bound belongs to it
		bump(buckets[i]);
		bump(sumNs, ns);
	}

	/// Adds the counts to `h` (any thread); `h` gets the bounds (in seconds) if it has none.
	void addTo(Histogram& h) const
	{
		if (h.bounds.empty())
		{
			for (std::uint64_t b : boundsNs) h.bounds.push_back(static_cast<double>(b) / 1e9);
			h.counts.assign(N + 1, 0);
		}
		for (std::size_t i = 0; i <= N; ++i) h.counts[i] += buckets[i].load(std::memory_order_relaxed);
		h.sum += static_cast<double>(sumNs.load(std::memory_order_relaxed)) / 1e9;
	}

	const std::array<std::uint64_t, N>& boundsNs;
	std::array<std::atomic<std::uint64_t>, N + 1> buckets{};   ///< the last: above every bound
	std::atomic<std::uint64_t> sumNs{0};
};

/// Upper bounds of parley_respond_seconds (ns): 1 µs to 10 s.
inline const std::array<std::uint64_t, 22> RespondBoundsNs = {1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000, 100000000, 250000000, 500000000, 1000000000,
	2500000000, 5000000000, 10000000000};
/// Upper bounds of parley_handshake_seconds (ns): 100 µs to 10 s.
inline const std::array<std::uint64_t, 16> HandshakeBoundsNs = {100000, 250000, 500000, 1000000, 2500000, 5000000,
	10000000, 25000000, 50000000, 100000000, 250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000};

/// One message in RespondSampleEvery of each route on each loop (every 64th counted in
/// messagesIn for inline chains, every 64th job for blocking ones) is timed through its chain for
/// parley_respond_seconds: two clock reads per 64 messages, out of line (bench/instructions.sh:
/// +1 instruction per echoed message at 64, +4 at 16). A power of two.
constexpr unsigned RespondSampleEvery = 64;

/// What one loop counts per route (by route id): plain counters the loop adds to (one
/// instruction on the per-message path) and copies to `published` at the end of every turn for
/// /metrics; the histogram is filled directly (only for the sampled messages).
struct RouteStats
{
	enum Published : std::size_t { Open, Opened, MessagesIn, MessagesOut, BytesIn, BytesOut, Count };

	std::uint64_t open = 0;          ///< WebSockets open now
	std::uint64_t opened = 0;        ///< upgrades so far
	std::uint64_t messagesIn = 0;
	std::uint64_t messagesOut = 0;
	std::uint64_t bytesIn = 0;       ///< read from its WebSockets (after the 101)
	std::uint64_t bytesOut = 0;      ///< written to them (the 101 included)
	std::uint64_t jobs = 0;          ///< messages sent to the workers
	std::array<std::atomic<std::uint64_t>, Count> published{};
	LoopHistogram<22> respond{RespondBoundsNs};   ///< sampled time in the route's chain

	/// Copies the counters to `published` (loop thread).
	void publish() noexcept
	{
		const std::uint64_t values[Count] = {open, opened, messagesIn, messagesOut, bytesIn, bytesOut};
		for (std::size_t i = 0; i < Count; ++i) published[i].store(values[i], std::memory_order_relaxed);
	}
};

/// Connection counts of the whole host (every loop adds to them).
struct HostCounts
{
	HostCounts(unsigned loops, const HostConfig& config, Poco::Logger& logger)
		: perLoop(new std::atomic<std::size_t>[loops]()), stalled(new std::atomic<bool>[loops]()), accepting(loops),
		  loopCount(loops), eventLoops(loops, nullptr),
		  peers(config.engine.maxConnectionsPerIp, config.engine.handshakesPerIpPerS),
		  logLimits(logger, LogKindCount, config.logRateLimitMs, describeLogKind, logKindPriority)
	{
	}

	std::atomic<std::size_t> sockets{0};      ///< connections holding one of engine.max_connections
	std::atomic<std::size_t> websockets{0};   ///< upgraded connections open now
	// Balancing the loops (HostLoop::balance):
	std::unique_ptr<std::atomic<std::size_t>[]> perLoop; ///< connections of each loop
	std::unique_ptr<std::atomic<bool>[]> stalled;        ///< loops stuck in a plugin call (the Watchdog says)
	std::atomic<unsigned> accepting;          ///< loops not holding accepting (never below 1)
	const unsigned loopCount;
	std::vector<EventLoop*> eventLoops;       ///< to wake a loop that holds while another wants to
	PeerLimits peers;                         ///< engine.max_connections_per_ip, engine.handshakes_per_ip_per_s
	/// Bytes in output chunks in use (ChunkPool): the unsent output of the whole host, which
	/// engine.max_output_memory bounds.
	OutputAccount output;
	/// Payload bytes pushed or broadcast to the loops and not applied yet (broadcast senders wait
	/// while there are many).
	std::atomic<std::size_t> inboxBytes{0};
	/// Connections not reading because the output memory is tight (on every loop).
	std::atomic<std::size_t> budgetPaused{0};
	/// The high 16 bits of every connection id: the node tag in a cluster (ClusterBus), else 0.
	std::atomic<std::uint64_t> idTag{0};
	LogLimits logLimits;                      ///< rate-limited lines (logging.rate_limit_ms), shared by the loops
};

struct LoopState
{
	/// Close codes 1000..1015 one by one, then 3000-3999, 4000-4999 and anything else.
	static constexpr std::size_t CloseBuckets = 19;
	/// Refusal statuses counted one by one (see refusalBucket).
	static constexpr int RefusalStatuses[] = {400, 401, 403, 404, 405, 426, 429, 431, 503};
	static constexpr std::size_t RefusalBuckets = sizeof(RefusalStatuses) / sizeof(RefusalStatuses[0]) + 1;
	static_assert(RefusalBuckets <= LogClosed - LogRefused && CloseBuckets <= LogHandshakeTimeout - LogClosed, "LogKind");
	static constexpr std::size_t PublishedCount = CounterCount + 2 * CloseBuckets + RefusalBuckets;
	/// Bytes read per read (one buffer per loop).
	static constexpr std::size_t ReadBufferSize = 1u << 20;

	LoopState(EventLoop& eventLoop, const HostConfig& config, Poco::Logger& log, HostCounts& hostCounts)
		: loop(eventLoop), engine(config.engine), maxHeaderBytes(config.maxHeaderBytes), logger(log), counts(hostCounts),
		  in(new char[ReadBufferSize]), inSize(ReadBufferSize), deflate(config.engine.deflate, counters),
		  access(Poco::Logger::has(log.name() + ".access"))
	{
		budget = resolveBudget(config.engine);
	}

	/// Chunks a loop keeps for reuse: 1 MiB.
	static constexpr std::size_t ReserveChunks = 64;

	/// engine.max_output_memory, or its default (a quarter of the memory) if 0.
	static std::uint64_t resolveBudget(const EngineConfig& e) { return e.maxOutputMemory ? e.maxOutputMemory : defaultOutputBudget(); }

	/// The host's unsent output now (bytes in chunks in use).
	std::uint64_t outputMemory() const noexcept
	{
		const std::int64_t n = counts.output.bytes.load(std::memory_order_relaxed);
		return n > 0 ? static_cast<std::uint64_t>(n) : 0;
	}
	/// Near the budget (3/4 of it): broadcast senders and connections with a backlog stop reading,
	/// the connections that take nothing are cut.
	bool budgetTight() const noexcept { return outputMemory() >= budget - budget / 4; }

	/// The loop state of the calling thread (set by the loop every turn; null off the loops).
	static LoopState* current() noexcept { return t_current; }
	void bind() noexcept
	{
		t_current = this;
		pool.bind();
	}
	static void unbind() noexcept
	{
		t_current = nullptr;
		ChunkPool::unbind();
	}
	/// A plugin broadcast: the connection whose messages the calling loop is handling now sends
	/// broadcasts (it stops reading first when the output memory is tight).
	static void markBroadcaster() noexcept
	{
		if (LoopState* s = t_current)
			if (s->reading) s->reading->broadcaster = true;
	}

	/// Writes the line `make()` returns unless the limiter of `kind` holds it back (LogLimits::log).
	template <class Make>
	void limited(std::size_t kind, Poco::Message::Priority prio, Make&& make)
	{
		counts.logLimits.log(kind, prio, now(), std::forward<Make>(make));
	}

	/// Counts a message the host sends to `c` (`bytes` of payload).
	void sent(Connection& c, std::size_t bytes) noexcept { sent(c, route(c.route), bytes); }

	/// The same with the connection's route counters at hand.
	void sent(Connection& c, RouteStats& stats, std::size_t bytes) noexcept
	{
		++stats.messagesOut;
		if (access) // only the access log reads them: 5 instructions less per echoed message when it is off
		{
			++c.messagesOut;
			c.payloadOut += bytes;
		}
	}

	std::uint64_t now() const noexcept { return loop.now(); }

	/// A reload's engine.* limits that apply live: connection and message limits, backpressure
	/// marks and timers (for new connections and from the next tick). engine.threads,
	/// engine.send_chunk and engine.deflate.* stay as the host started.
	void applyLimits(const EngineConfig& next)
	{
		engine = next;
		budget = resolveBudget(next);
	} // HostServer::reload keeps the others as they were

	/// The counters of a route this loop knows (id < routeStats.size(), see growRoutes).
	RouteStats& route(std::uint16_t id) noexcept { return *routeStats[id]; }

	/// Makes sure routeStats covers route ids below `count` (loop thread).
	void growRoutes(std::size_t count)
	{
		if (count <= routeStats.size()) return;
		std::lock_guard<std::mutex> lock(routeStatsMutex);
		while (routeStats.size() < count) routeStats.push_back(std::make_unique<RouteStats>());
	}

	/// Counts bytes read from `c`: on its route once upgraded, else as handshake bytes.
	void countIn(const Connection& c, std::uint64_t n) noexcept
	{
		if (c.upgraded())
			route(c.route).bytesIn += n;
		else
			counters[HandshakeBytesIn] += n;
	}

	/// Counts bytes written to `c` (see countIn).
	void countOut(const Connection& c, std::uint64_t n) noexcept
	{
		if (c.upgraded())
			route(c.route).bytesOut += n;
		else
			counters[HandshakeBytesOut] += n;
	}

	static std::size_t closeBucket(std::uint16_t code) noexcept
	{
		if (code >= 1000 && code <= 1015) return code - 1000u;
		if (code >= 3000 && code <= 3999) return 16;
		if (code >= 4000 && code <= 4999) return 17;
		return 18;
	}

	static std::size_t refusalBucket(int status) noexcept
	{
		for (std::size_t i = 0; i + 1 < RefusalBuckets; ++i)
			if (RefusalStatuses[i] == status) return i;
		return RefusalBuckets - 1;
	}

	/// Copies the counters to the published ones (end of every turn).
	void publish()
	{
		std::size_t k = 0;
		for (std::size_t i = 0; i < CounterCount; ++i, ++k) published[k].store(counters[i], std::memory_order_relaxed);
		for (std::size_t i = 0; i < CloseBuckets; ++i, ++k) published[k].store(closesSent[i], std::memory_order_relaxed);
		for (std::size_t i = 0; i < CloseBuckets; ++i, ++k) published[k].store(closesReceived[i], std::memory_order_relaxed);
		for (std::size_t i = 0; i < RefusalBuckets; ++i, ++k) published[k].store(refusals[i], std::memory_order_relaxed);
		for (const auto& stats : routeStats) stats->publish();
	}

	EventLoop& loop;
	EngineConfig engine;                      ///< engine.* in force (applyLimits)
	const std::size_t maxHeaderBytes;
	Poco::Logger& logger;
	HostCounts& counts;
	std::vector<std::string> routePaths;      ///< by route id
	std::unique_ptr<char[]> in;               ///< shared read buffer
	std::size_t inSize;
	ChunkPool pool{counts.output, ReserveChunks}; ///< chunks of this loop's output (before `shared`: outlives it)
	OutputBuffer shared;                      ///< shared output buffer for one read's replies
	std::vector<Connection*> connections;     ///< every connection of the loop (index = Connection::index)
	std::vector<Connection*> again;           ///< not drained within the read budget: read next turn
	std::vector<Connection*> graveyard;       ///< closed this turn, deleted at its end
	std::vector<Connection*> budgetPaused;    ///< not reading while the output memory is tight
	Connection* reading = nullptr;            ///< the connection whose read is being handled
	std::uint64_t budget = 0;                 ///< engine.max_output_memory in force (resolved)
	std::uint64_t connectionCount = 0;        ///< upgrades so far (for connection ids)
	unsigned refusing = 0;                    ///< connections beyond engine.max_connections (answered 503)
	std::uint64_t gateTickets = 0;            ///< handshakes sent to the gates so far
	std::unordered_map<std::uint64_t, Connection*> gating; ///< ticket → connection waiting for its gates
	std::uint64_t counters[CounterCount] = {};
	std::uint64_t closesSent[CloseBuckets] = {};
	std::uint64_t closesReceived[CloseBuckets] = {};
	std::uint64_t refusals[RefusalBuckets] = {};
	std::array<std::atomic<std::uint64_t>, PublishedCount> published{};
	LoopDeflate deflate;                      ///< permessage-deflate of this loop's connections
	/// The access log (<logger>.access): null unless configured (logging.loggers.*.name).
	Poco::Logger* const access;
	/// Per route id (grown by growRoutes under routeStatsMutex; the loop reads it without the lock,
	/// other threads with it).
	std::vector<std::unique_ptr<RouteStats>> routeStats;
	mutable std::mutex routeStatsMutex;
	LoopHistogram<16> handshake{HandshakeBoundsNs}; ///< accept → 101 written
	ThreadMark mark;                          ///< the plugin call in progress on this loop (Faults.h)

private:
	static thread_local LoopState* t_current;
};

inline std::string describeLogKind(std::size_t kind)
{
	if (kind < LogClosed)
	{
		const std::size_t bucket = kind - LogRefused;
		return bucket + 1 < LoopState::RefusalBuckets
			? "handshakes refused with " + std::to_string(LoopState::RefusalStatuses[bucket])
			: "handshakes refused with another status";
	}
	if (kind < LogHandshakeTimeout)
	{
		const std::size_t bucket = kind - LogClosed;
		if (bucket < 16) return "connections closed with " + std::to_string(1000 + bucket);
		return bucket == 16 ? "connections closed with 3000-3999" : bucket == 17 ? "connections closed with 4000-4999"
			: "connections closed with another code";
	}
	switch (kind)
	{
	case LogHandshakeTimeout: return "handshake timeouts";
	case LogTlsFailure: return "TLS handshake failures";
	case LogIoError: return "I/O errors";
	case LogBackpressure: return "connections cut for backpressure";
	case LogSendTimeout: return "connections cut for send timeout";
	case LogBudget: return "output memory budget events";
	case LogAcceptExhausted: return "accept failures (descriptors or memory exhausted)";
	case LogGateFailed: return "gate failures";
	case LogResponderFailed: return "responder failures";
	case LogPingTimeout: return "ping timeouts";
	case LogIdleClose: return "idle closes";
	case LogTokenExpired: return "expired admissions";
	case LogStall: return "stalls";
	case LogStallOver: return "stalls over";
	case LogProxyRefused: return "connections closed for their PROXY header";
	default: return "events";
	}
}

inline Poco::Message::Priority logKindPriority(std::size_t kind)
{
	if (kind == LogRefused + LoopState::refusalBucket(503)) return Poco::Message::PRIO_WARNING;
	if (kind < LogBackpressure) return Poco::Message::PRIO_NOTICE;
	if (kind < LogGateFailed) return Poco::Message::PRIO_WARNING;
	if (kind <= LogResponderFailed) return Poco::Message::PRIO_ERROR;
	if (kind == LogPingTimeout) return Poco::Message::PRIO_NOTICE;
	if (kind == LogStall) return Poco::Message::PRIO_ERROR;
	if (kind == LogStallOver) return Poco::Message::PRIO_WARNING;
	if (kind == LogProxyRefused) return Poco::Message::PRIO_NOTICE;
	return Poco::Message::PRIO_INFORMATION;
}

/// "address:port" ("[v6]:port") of a peer, for log lines.
inline std::string peerText(const PeerAddress& peer)
{
	const std::string address = peer.text();
	return (address.find(':') == std::string::npos ? address : "[" + address + "]") + ":" + std::to_string(peer.port);
}

} // namespace host
} // namespace parley

#endif
