//
// ClusterBus.h — several hosts sharing their rooms through Redis pub/sub (cluster.redis).
//
// Outbox::broadcast on a route is delivered to this host's connections at once and queued for
// Redis; a publisher thread sends what queued as one PUBLISH per channel (a batch of records),
// so a burst of broadcasts costs few commands. A subscriber thread receives the other hosts'
// batches and hands each record to the event loops like a local broadcast or push. Redis is
// never touched on a loop. Delivery across hosts is at most once (Redis pub/sub): what is
// published while Redis is away is counted as unpublished, not retried.
//
// Channels and keys (all under cluster.name, "parley" by default):
//   <name>:r:<route path>   broadcasts of a route
//   <name>:n:<tag>          Outbox::send to a connection of the node with that tag (hex)
//   <name>:presence         hash: node -> its connections per route, refreshed every second
//
#ifndef PARLEY_HOST_CLUSTERBUS_INCLUDED
#define PARLEY_HOST_CLUSTERBUS_INCLUDED

#include "RedisLink.h"
#include "parley/Responder.h"
#include "parley/config/HostConfig.h"
#include "parley/host/Metrics.h"
#include <Poco/Logger.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace parley {
namespace host {

class HostContext;
class EventLoopPool;

class ClusterBus
{
public:
	/// Unsent bytes the publisher may hold; beyond, broadcasts are counted unpublished.
	static constexpr std::size_t MaxPendingBytes = 64u << 20;
	/// The subscriber stops reading while the loops have this much pushed and not yet applied.
	static constexpr std::size_t MaxInboxBytes = 16u << 20;
	/// Reconnect backoff: from 100 ms, doubling, at most this (so a Redis that is back is used
	/// again within about this long).
	static constexpr unsigned MaxBackoffMs = 1000;
	/// Presence entries older than this are not counted.
	static constexpr unsigned PresenceFreshMs = 3000;

	/// `node`: this host's name; its tag is tagOf(node) (the high 16 bits of its connection ids).
	ClusterBus(HostContext& context, EventLoopPool& pool, const ClusterConfig& config, std::string node, Poco::Logger& logger);
	~ClusterBus();
	ClusterBus(const ClusterBus&) = delete;
	ClusterBus& operator=(const ClusterBus&) = delete;

	/// Starts the publisher and subscriber threads (they connect in the background).
	void start();
	/// Takes this node out of the presence hash (if Redis is there), then ends the threads.
	void stop();

	/// A 16-bit tag from a node name (never 0: 0 means "no cluster").
	static std::uint16_t tagOf(const std::string& node);
	/// The node that owns a connection id.
	static std::uint16_t ownerOf(ConnectionId id) { return static_cast<std::uint16_t>(id >> 48); }

	std::uint16_t tag() const { return _tag; }
	const std::string& node() const { return _node; }
	/// True while both links to Redis are up.
	bool up() const { return _pubUp.load(std::memory_order_acquire) && _subUp.load(std::memory_order_acquire); }

	/// Queues a broadcast of route `path` for the other hosts (thread-safe).
	void publishBroadcast(const std::string& path, PayloadKind kind, std::string_view payload);
	/// Queues a message for a connection of another node; false if Redis is away or the backlog full.
	bool publishSend(ConnectionId connection, const std::string& path, PayloadKind kind, std::string_view payload);

	/// Connections of route `path` on all the nodes, as counted in the last second; false (and
	/// nothing) while Redis is away or before the first count.
	bool clusterConnections(const std::string& path, std::size_t& count) const;

	/// Fills the cluster fields of `m`.
	void collect(Metrics& m) const;

private:
	struct Batch
	{
		std::string channel;
		std::string data;
		std::size_t records = 0;
	};

	bool queue(const std::string& channel, bool node, std::uint16_t target, const std::string& path, std::uint8_t type,
		ConnectionId connection, PayloadKind kind, std::string_view payload);
	void publisher();
	void subscriber();
	void presenceRound(std::vector<Poco::Redis::Array>& commands);
	void readPresence(const Poco::Redis::RedisType::Ptr& reply);
	void deliver(const std::string& data);
	int routeId(const std::string& path);
	void setState(bool publisherSide, bool up, const std::string& why);
	bool stopRequested();
	bool waitStop(unsigned ms);

	HostContext& _context;
	EventLoopPool& _pool;
	const ClusterConfig _config;
	const std::string _node;
	const std::uint16_t _tag;
	const std::uint64_t _instance;
	const std::string _routePrefix;   // <name>:r:
	const std::string _nodeChannel;   // <name>:n:<our tag>
	const std::string _presenceKey;   // <name>:presence
	Poco::Logger& _logger;

	std::mutex _mutex;
	std::condition_variable _wake;
	std::vector<Batch> _pending;
	std::map<std::string, std::size_t, std::less<>> _pendingIndex;   // channel -> index in _pending
	std::size_t _pendingBytes = 0;
	bool _stopping = false;

	std::atomic<bool> _pubUp{false};
	std::atomic<bool> _subUp{false};
	std::mutex _stateMutex;
	bool _everUp = false;
	bool _reportedDown = false;
	std::chrono::steady_clock::time_point _downSince;
	std::uint64_t _unpublishedAtDown = 0;

	mutable std::mutex _presenceMutex;
	std::map<std::string, std::size_t> _clusterCounts;
	std::size_t _nodes = 0;
	bool _countsKnown = false;
	std::vector<std::string> _staleNodes;
	bool _conflictLogged = false;

	std::map<std::string, int> _routeIds;   // subscriber thread only
	std::uint64_t _routeGeneration = ~std::uint64_t(0);

	std::atomic<std::uint64_t> _published{0};        // records sent to Redis
	std::atomic<std::uint64_t> _publishCommands{0};  // PUBLISH commands carrying them
	std::atomic<std::uint64_t> _unpublished{0};      // records that could not be published
	std::atomic<std::uint64_t> _received{0};         // records from other nodes delivered here
	std::atomic<std::uint64_t> _reconnects{0};
	std::atomic<std::int64_t> _busLatencyUs{-1};      // our last ping there and back

	RedisLink _pub;
	RedisLink _sub;
	std::thread _publisher;
	std::thread _subscriber;
};

} // namespace host
} // namespace parley

#endif
