//
// HostContext.h — what the HTTP threads, the event loops and the reloads share: the registry,
// the configuration in force (swapped atomically by a reload), the route table and the outboxes.
//
#ifndef PARLEY_HOST_HOSTCONTEXT_INCLUDED
#define PARLEY_HOST_HOSTCONTEXT_INCLUDED

#include "RouteOutbox.h"
#include "parley/config/HostConfig.h"
#include <Poco/Logger.h>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace parley {

class PluginRegistry;

namespace host {

class ClusterBus;
class EventLoopPool;

/// Route ids are stable for the host's life: a path keeps its id when a reload drops it and
/// brings it back. Thread-safe.
class HostContext
{
public:
	HostContext(const HostConfig& config, PluginRegistry& registry, Poco::Logger& logger);

	HostContext(const HostContext&) = delete;
	HostContext& operator=(const HostContext&) = delete;

	/// Returns the configuration in force (a snapshot; a reload does not change it).
	std::shared_ptr<const HostConfig> config() const;

	/// Makes `config` the one in force (registers its new route paths) and increases configGeneration().
	void setConfig(const HostConfig& config);

	/// Increases with every setConfig().
	std::uint64_t configGeneration() const { return _generation.load(std::memory_order_relaxed); }

	/// Returns the route id of `path` if the configuration in force has that route, else -1.
	/// Also returns the configuration it was found in.
	int activeRoute(const std::string& path, std::shared_ptr<const HostConfig>& config) const;

	/// Returns the number of route ids handed out so far.
	std::size_t routeCount() const;

	/// Returns the path of a route id (< routeCount()).
	std::string routePath(std::size_t id) const;

	/// Returns the outbox of a route id (< routeCount()); valid for the context's life.
	RouteOutbox& outbox(std::size_t id);

	/// Sets the pool the outboxes post to (null: they drop everything).
	void setPool(EventLoopPool* pool) { _pool.store(pool); }
	EventLoopPool* pool() const { return _pool.load(); }
	/// The cluster bus (cluster.redis), or null: no cluster, or stopped.
	void setBus(ClusterBus* bus) { _bus.store(bus); }
	ClusterBus* bus() const { return _bus.load(); }
	/// The high 16 bits of this host's connection ids: its node tag in a cluster, else 0.
	void setNodeTag(std::uint16_t tag) { _nodeTag.store(tag, std::memory_order_relaxed); }
	std::uint16_t nodeTag() const { return _nodeTag.load(std::memory_order_relaxed); }

	/// True once a graceful stop began: /health answers 503 "draining".
	bool draining() const { return _draining.load(std::memory_order_acquire); }
	void setDraining() { _draining.store(true, std::memory_order_release); }

	PluginRegistry& registry() const { return _registry; }
	Poco::Logger& logger() const { return _logger; }

private:
	void registerRoutes(const HostConfig& config);   // with _mutex held

	PluginRegistry& _registry;
	Poco::Logger& _logger;
	mutable std::mutex _mutex;
	std::shared_ptr<const HostConfig> _config;
	std::map<std::string, std::size_t> _ids;
	std::vector<std::string> _paths;
	std::vector<std::unique_ptr<RouteOutbox>> _outboxes;
	std::atomic<std::uint64_t> _generation{0};
	std::atomic<EventLoopPool*> _pool{nullptr};
	std::atomic<ClusterBus*> _bus{nullptr};
	std::atomic<std::uint16_t> _nodeTag{0};
	std::atomic<bool> _draining{false};
};

} // namespace host
} // namespace parley

#endif
