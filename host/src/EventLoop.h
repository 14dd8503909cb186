//
// EventLoop.h — one epoll loop thread that owns WebSocket connections for their whole life.
//
#ifndef PARLEY_HOST_EVENTLOOP_INCLUDED
#define PARLEY_HOST_EVENTLOOP_INCLUDED

#include "Connection.h"
#include "WorkerPool.h"
#include "parley/Pipeline.h"
#include "parley/config/HostConfig.h"
#include "parley/host/Metrics.h"
#include <Poco/Logger.h>
#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace parley {

namespace host {

class HostContext;

/// An edge-triggered epoll loop with an eventfd wake-up. Each connection is registered once
/// (in, out, read-hangup) and never modified; the loop reads until the socket is drained (or a
/// fairness budget is used), decodes every frame of a read before reading again (after a large
/// read it first reads once more into the rest of the buffer, and handles both together), runs
/// the route's pipeline (one instance per loop and route) and writes all replies of one read
/// with one send — two when a run of small messages brings more than engine.send_chunk of
/// replies: the first chunk leaves as soon as it is made, so that a pipelining peer works on
/// those replies while the loop makes the rest. Timers (idle, ping, close deadlines) are checked
/// every TickMs by one scan.
///
/// Time limits: engine.idle_timeout_ms closes with 1001 a connection from which nothing was read
/// for that long (pongs count as traffic). engine.ping_interval_ms sends a ping every interval;
/// a connection that has not answered the previous ping by the next one is closed with 1001
/// ("no pong to the last ping"). After our close frame the peer has CloseTimeoutMs to end TCP.
///
/// Backpressure: above engine.backpressure_high of unsent output the loop stops reading that
/// connection until the output drains to engine.backpressure_low; if one read's replies push it
/// above engine.backpressure_limit the connection is closed with 1008 (the replies already
/// encoded are still sent first) and one warning is logged. Pushed messages (Outbox) go through
/// the same output path and limits.
///
/// Plugins: every loop turn compares the registry's and the configuration's generation with the
/// ones its chains were built for (two atomic loads) and rebuilds the chains that changed; open
/// connections move to the new instances (onClose on the old ones, onOpen on the new ones). A
/// route whose chain cannot be built any more (its plugin was removed) keeps its old instances
/// for the connections already open; new connections on it are closed with 1001.
///
/// Blocking chains run on the WorkerPool: a connection has at most one job in flight and a FIFO
/// of the messages that came after it, so replies leave in message order; a close from the peer
/// is answered once every earlier message was.
class EventLoop
{
public:
	/// How often the timers are checked (milliseconds).
	static constexpr unsigned TickMs = 250;
	/// How long a closing connection may take to take our close frame and end TCP (ms).
	static constexpr unsigned CloseTimeoutMs = 5000;

	/// Creates the loop's chains, one per route of the context's configuration.
	/// Throws ConfigError if a responder cannot be created or refuses its settings; throws
	/// std::system_error if epoll or eventfd cannot be created.
	EventLoop(unsigned id, HostContext& context, WorkerPool& workers, std::atomic<std::size_t>& openConnections);

	/// Stops the loop (if running) and closes what is left.
	~EventLoop();

	EventLoop(const EventLoop&) = delete;
	EventLoop& operator=(const EventLoop&) = delete;

	/// Starts the loop thread.
	void start();

	/// Closes every connection with 1001 (best effort: one write each), then joins the thread.
	void stop();

	/// Hands over an upgraded, non-blocking socket (thread-safe). `preread` holds bytes that
	/// arrived with the upgrade request. The loop owns fd from now on, also if it is stopping
	/// (then fd is closed at once).
	void adopt(int fd, std::uint16_t route, std::string preread);

	/// Queues a message for a connection of this loop on `route` (thread-safe). Returns false if
	/// the loop does not know that connection (closed, or on another route) or is stopping.
	bool push(ConnectionId connection, std::uint16_t route, PayloadKind kind, std::string_view payload);

	/// Queues a message for every open connection of this loop on `route` (thread-safe).
	void broadcast(std::uint16_t route, PayloadKind kind, std::string_view payload);

	/// Wakes the loop so that it looks at the generations now.
	void poke() { wake(); }

	/// Returns the number of connections this loop owns (approximate while others adopt).
	std::size_t load() const noexcept { return _load.load(std::memory_order_relaxed); }

	/// Adds this loop's counters to `metrics` (thread-safe).
	void collect(Metrics& metrics) const;

private:
	enum Counter : std::size_t
	{
		ConnectionsTotal, MessagesIn, MessagesOut, BytesIn, BytesOut, Pings, ProtocolErrors,
		ResponderErrors, IoErrors, BackpressurePauses, BackpressureCloses, IdleCloses, PingTimeouts,
		MaxPendingOutput, CounterCount
	};
	/// Close codes 1000..1015 one by one, then 3000-3999, 4000-4999 and anything else.
	static constexpr std::size_t CloseBuckets = 19;
	static constexpr std::size_t PublishedCount = CounterCount + 2 * CloseBuckets;

	struct Adoption
	{
		int fd;
		std::uint16_t route;
		std::string preread;
	};

	struct Push
	{
		ConnectionId connection;      // 0 = broadcast
		std::uint16_t route;
		PayloadKind kind;
		std::string payload;
	};
	struct Result
	{
		ConnectionId connection;
		Reply reply;
		std::string plugin;           // non-empty: the responder threw
		std::string error;
	};

	void run();
	void wake();
	void checkGenerations();
	void rebuild();
	void takeInbox();
	void complete(Result result);
	void touch(Connection& c);
	void applyPush(Push& push);
	void applyResult(Result& result);
	void submit(Connection& c, PayloadKind kind, std::string payload);
	void pump(Connection& c);
	/// Runs the connection's (loop-side) pipeline on a message and queues its reply; false if
	/// the connection is closing now (a close reply, or the responder threw).
	bool runInline(Connection& c, const Message& message, OutputBuffer& out);
	/// Called in a catch block of runInline: logs, closes with 1011; returns false.
	bool pipelineFailed(Connection& c, OutputBuffer& out);
	/// `message`: the bytes a reply with quotesMessage begins with.
	bool applyReply(Connection& c, const Reply& reply, std::string_view message, OutputBuffer& out);
	void responderFailed(Connection& c, const std::string& plugin, const std::string& what, OutputBuffer& out);
	void adoptPending();
	void handle(Connection& c, std::uint32_t events);
	void readSocket(Connection& c);
	/// Decodes and answers the first `size` bytes of the read buffer and sends the replies.
	void handleRead(Connection& c, std::size_t size);
	/// Decodes and answers the frames of one read; replies go to *out (the shared buffer or
	/// c.out); the first engine.send_chunk bytes of the shared one are sent early (after a short
	/// early send the rest of the read's replies go to c.out).
	void process(Connection& c, char* data, std::size_t size, OutputBuffer* out);
	/// Sends the shared buffer now; returns where further output goes (&_shared, or c.out after
	/// a short send), or nullptr if the connection failed.
	OutputBuffer* sendEarly(Connection& c);
	/// Sends the shared output buffer; what the socket does not take is copied to c.out. False
	/// if the connection failed (destroyed).
	bool sendBatch(Connection& c);
	void sendShared(Connection& c);
	void flush(Connection& c);
	/// Sends as much of data as the socket takes; returns the bytes sent, or SendFailed after a
	/// socket error (the connection is destroyed then).
	std::size_t sendSome(Connection& c, const char* data, std::size_t size);
	static constexpr std::size_t SendFailed = ~std::size_t(0);
	void afterWrite(Connection& c);
	void resumeIfDrained(Connection& c);
	void queueClose(Connection& c, OutputBuffer& out, std::uint16_t code, std::string_view reason);
	void finishClose(Connection& c);
	void drain(Connection& c);
	/// Queues c to be read again after the other connections (its read budget is used up).
	void readAgainLater(Connection& c);
	void destroy(Connection& c);
	void reap();
	void tick();
	void closeAll();
	void publish();
	std::uint64_t clockMs() const;

	static std::size_t closeBucket(std::uint16_t code) noexcept;

	unsigned _id;
	HostContext& _context;
	WorkerPool& _workers;
	const EngineConfig _engine;
	std::vector<std::string> _routePaths;                // by route id (loop thread)
	Poco::Logger& _logger;
	std::atomic<std::size_t>& _open;
	std::vector<std::shared_ptr<Chain>> _chains;         // by route id; null: cannot be built now
	std::uint64_t _registryGeneration = 0;               // the generations _chains were built for
	std::uint64_t _configGeneration = 0;

	std::mutex _inboxMutex;          // guards the four below
	std::vector<Push> _pushes;
	std::vector<Result> _results;
	std::unordered_map<ConnectionId, std::uint16_t> _live;   // open connections → route (for push)
	bool _inboxClosed = false;
	bool _wakePending = false;

	std::unordered_map<ConnectionId, Connection*> _byId;    // loop thread
	std::vector<Connection*> _touched;                      // pushed to in this turn

	int _epoll = -1;
	int _wakeFd = -1;
	std::thread _thread;
	std::atomic<bool> _stopping{false};
	std::atomic<std::size_t> _load{0};

	std::mutex _adoptMutex;
	std::vector<Adoption> _adoptions;
	bool _adoptClosed = false;       // guarded by _adoptMutex: the loop no longer takes sockets

	// Loop thread only.
	const std::size_t _sendChunk;         // engine.send_chunk (its 0, "never early", as the largest size)
	std::unique_ptr<char[]> _in;          // shared read buffer
	std::size_t _inSize;
	OutputBuffer _shared;                 // shared output buffer for one read's replies
	std::vector<Connection*> _connections;
	std::vector<Connection*> _again;      // not drained within the read budget: read next turn
	std::vector<Connection*> _graveyard;  // closed this turn, deleted at its end
	std::uint64_t _now = 0;
	std::uint64_t _connectionCount = 0;   // connections adopted so far (for connection ids)
	std::uint64_t _nextTick = 0;
	std::uint64_t _counters[CounterCount] = {};
	std::uint64_t _closesSent[CloseBuckets] = {};
	std::uint64_t _closesReceived[CloseBuckets] = {};

	std::array<std::atomic<std::uint64_t>, PublishedCount> _published{};
};

} // namespace host
} // namespace parley

#endif
