//
// IsolatedPool.h — the child processes that run the chains of isolated routes
// (route.<path>.isolate = process): a plugin that crashes or stalls there takes down only its
// child, which the host replaces.
//
#ifndef PARLEY_HOST_ISOLATEDPOOL_INCLUDED
#define PARLEY_HOST_ISOLATEDPOOL_INCLUDED

#include "ConnectionDetails.h"
#include "parley/Responder.h"
#include "parley/config/HostConfig.h"
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace parley {

class PluginRegistry;

namespace host {

class HostContext;
class IsolatedPool;

/// What a child needs to build one chain of an isolated route: the plugins' names, library
/// files and settings. Made per Chain (a rebuilt chain gets a new id); when the last holder lets
/// go, the children drop their instances of it.
struct IsolatedSpec
{
	std::uint32_t id = 0;
	std::uint16_t route = 0;
	std::string path;                        ///< the route path
	std::vector<std::string> names;          ///< plugin names, in order
	std::vector<std::string> files;          ///< their library files
	std::vector<Settings> settings;
	std::string plugins;                     ///< the names joined with ", " (log lines, failures)
	IsolatedPool* pool = nullptr;

	~IsolatedSpec();
};

/// An outcome from a child, for the loop that sent the message.
struct IsolatedResult
{
	ConnectionId connection = 0;
	Reply reply;                              ///< never quotes the message: its bytes are in payload
	std::string plugin;                       ///< non-empty: failed (the responder threw, or the child died or stalled)
	std::string error;
};

/// Who gets the outcomes of the messages it submits (a loop's Dispatch). Called on the pool's
/// thread, with every outcome for it of one read from a child at once.
class IsolatedSink
{
public:
	virtual ~IsolatedSink() = default;
	virtual void isolatedResults(std::vector<IsolatedResult>& results) = 0;
};

/// plugins.isolated_workers child processes, each `parley-host --isolated-child=3` (the same
/// binary, exec'd: never a fork of the multi-threaded host), killed with the host
/// (PR_SET_PDEATHSIG) and by stop(). A connection's events and messages all go to one child (by
/// connection id), in order, so its replies come back in message order and per-connection plugin
/// state holds. One thread runs the children's sockets (epoll): every wake-up writes what the
/// loops queued for a child in one write, and every read hands all the outcomes it holds to
/// each loop at once. It never blocks on a child.
///
/// A child that dies (signal or exit) or keeps a message longer than engine.stall_timeout_ms
/// (then killed) is logged in one line (the plugins of the route, its pid, the signal or the
/// stall); the messages it had get a failure (1011 for their connections), and it is started
/// again after a backoff (100 ms, doubling up to 5 s; back to 100 ms after 10 s of life). The
/// connections it served are opened again in the new child.
class IsolatedPool
{
public:
	/// `children`: plugins.isolated_workers. Starts nothing yet (see start()).
	IsolatedPool(HostContext& context, unsigned children);

	/// Stops (kills and reaps the children).
	~IsolatedPool();

	IsolatedPool(const IsolatedPool&) = delete;
	IsolatedPool& operator=(const IsolatedPool&) = delete;

	/// Starts the pool's thread; children start when the first isolated chain is used. Throws
	/// std::system_error if epoll or eventfd cannot be created.
	void start();

	/// Starts every child now rather than at the first use (the configuration has isolated routes).
	void prestart();

	/// Kills the children, reaps them and joins the thread; later calls do nothing. Messages
	/// still in flight get no outcome.
	void stop();

	/// The spec of a chain of route `route` (`path`) made of `names` with their settings in
	/// `config`. Throws std::invalid_argument if a plugin is not loaded, or is a gate.
	std::shared_ptr<const IsolatedSpec> makeSpec(std::uint16_t route, const std::string& path,
		const std::vector<std::string>& names, const HostConfig& config, const PluginRegistry& registry);

	/// A connection on an isolated chain opened / closed (any loop thread).
	void open(const std::shared_ptr<const IsolatedSpec>& spec, ConnectionId connection, const DetailsRef& details);
	void close(const std::shared_ptr<const IsolatedSpec>& spec, ConnectionId connection);

	/// Sends one message of `connection` through `spec`'s chain in its child; the outcome goes
	/// to `sink` (thread-safe, never blocks). Like open() and close(), it only queues the frame:
	/// the caller then calls flush() (an event loop: once per turn, for all it queued).
	/// `nowNs`: the caller's monotonic clock (ns), for engine.stall_timeout_ms.
	void submit(const std::shared_ptr<const IsolatedSpec>& spec, IsolatedSink* sink, ConnectionId connection,
		PayloadKind kind, std::string_view payload, std::uint64_t nowNs);

	/// Writes what is queued for the children from the calling thread (one non-blocking write per
	/// child); leaves to the pool's thread a child that is not running, not writable or being
	/// written by that thread. Never blocks on a child.
	void flush();

	/// /metrics: children alive now, children started again after a death, messages sent to children.
	std::uint64_t alive() const { return _alive.load(std::memory_order_relaxed); }
	std::uint64_t respawns() const { return _respawns.load(std::memory_order_relaxed); }
	std::uint64_t messages() const { return _messages.load(std::memory_order_relaxed); }

	/// The pids of the children alive now (tests).
	std::vector<pid_t> pids() const;

private:
	friend struct IsolatedSpec;

	struct Record
	{
		IsolatedSink* sink;
		ConnectionId connection;
		std::uint64_t submittedNs;
		std::shared_ptr<const IsolatedSpec> spec;
	};
	struct Live
	{
		std::shared_ptr<const IsolatedSpec> spec;
		DetailsRef details;
	};
	struct Child
	{
		std::mutex mutex;                         // guards the five below
		std::string pending;                      // frames for the child, not yet taken by the thread
		std::deque<Record> inflight;              // messages sent (or pending), in order
		std::unordered_map<ConnectionId, Live> live;
		std::unordered_set<std::uint32_t> defined; // chain ids this incarnation knows (ids only: the specs may go)
		std::uint32_t lastDefined = 0;            // the id define() saw last (in `defined`; 0: none)
		bool wanted = false;                      // some use asked for it: (re)start it
		std::mutex writeMutex;                    // guards the four below (the pool's thread changes fd with it held)
		int fd = -1;
		std::string writing;                      // taken from `pending`, partly written
		std::size_t written = 0;
		bool writable = true;                     // no EPOLLOUT wait
		// The pool's thread only:
		pid_t pid = 0;
		std::string in;                           // read, not yet a whole frame
		std::uint64_t startedNs = 0;
		std::uint64_t respawnAtNs = 0;            // dead: start again at (0 = now, if wanted)
		unsigned backoffMs = 100;
		bool everStarted = false;
		std::uint64_t countsAtNs = 0;             // the last Counts frame sent to this incarnation
	};

	/// Ids are (count << 8) | loop: both parts, so that the loops' connections spread over every child.
	/// Outcomes gathered for each loop, handed over at once (the pool's thread; the vectors keep
	/// their capacity).
	struct Outcomes
	{
		std::vector<std::pair<IsolatedSink*, std::vector<IsolatedResult>>> bySink;
		std::vector<IsolatedResult>& of(IsolatedSink* sink)
		{
			for (auto& entry : bySink)
				if (entry.first == sink) return entry.second;
			bySink.emplace_back(sink, std::vector<IsolatedResult>());
			return bySink.back().second;
		}
		void deliver()
		{
			for (auto& entry : bySink)
			{
				if (entry.second.empty()) continue;
				entry.first->isolatedResults(entry.second);
				entry.second.clear();
			}
		}
	};

	Child& childOf(ConnectionId connection) { return *_children[((connection >> 8) + connection) % _children.size()]; }
	/// Appends the definition of `spec` unless the child's incarnation has it (child mutex held).
	void define(Child& child, const std::shared_ptr<const IsolatedSpec>& spec);
	void encodeOpen(Child& child, const std::shared_ptr<const IsolatedSpec>& spec, ConnectionId connection,
		const ConnectionDetails& details);
	void wake();
	void dropped(std::uint32_t id);
	void run();
	void spawn(Child& child);
	/// Writes `writing`, then what is pending (writeMutex held).
	void write(Child& child);
	void readFrom(Child& child);
	/// The child ended or must end: kill, reap, log, fail what it had, schedule the restart.
	void died(Child& child, const std::string& stalled);
	bool handle(Child& child, const char* frame, std::size_t size, Outcomes& out);

	HostContext& _context;
	std::string _exe;
	std::mutex _dropMutex;
	std::vector<std::uint32_t> _dropped;
	std::atomic<bool> _stopping{false};
	std::vector<std::unique_ptr<Child>> _children;
	std::atomic<std::uint32_t> _nextSpec{0};
	std::atomic<bool> _wakePending{false};
	int _epoll = -1;
	int _event = -1;
	std::thread _thread;
	Outcomes _outcomes;                            // the pool's thread
	std::atomic<std::uint64_t> _alive{0};
	std::atomic<std::uint64_t> _respawns{0};
	std::atomic<std::uint64_t> _messages{0};
	mutable std::mutex _pidsMutex;
	bool _started = false;
};

} // namespace host
} // namespace parley

#endif
