//
// Chain.h — the responder instances of one route on one event loop (and, for a route with a
// blocking() stage, one pipeline per worker thread).
//
#ifndef PARLEY_HOST_CHAIN_INCLUDED
#define PARLEY_HOST_CHAIN_INCLUDED

#include "parley/Pipeline.h"
#include "parley/Gate.h"
#include "parley/Responder.h"
#include "parley/config/HostConfig.h"
#include <Poco/Logger.h>
#include <memory>
#include <string>
#include <vector>

namespace parley {

class PluginRegistry;

namespace host {

struct IsolatedSpec;

/// Shared by the connections that use it (and by worker jobs in flight), so a replaced chain
/// is destroyed, and its plugin libraries may unload, once the last of them lets go.
struct Chain
{
	std::vector<std::string> names;              ///< plugin names, in order
	std::vector<Settings> settings;              ///< the settings each stage was configured with
	std::unique_ptr<Pipeline> pipeline;          ///< the loop's instance (null if blocking)
	std::vector<Responder*> stages;              ///< responders of `pipeline` (for onOpen/onClose)
	std::vector<std::unique_ptr<Pipeline>> workerPipelines; ///< blocking: one per worker, by worker index
	bool blocking = false;                       ///< some stage said blocking(), or isolated: not on the loop
	/// Set: the route is isolated (route.<path>.isolate = process); the chain runs in the
	/// IsolatedPool's children (no instance in the host; blocking is true).
	std::shared_ptr<const IsolatedSpec> isolated;
	std::vector<const void*> sites;              ///< each stage's PluginSite (Faults.h), for the marks
	PluginMark* mark = nullptr;                  ///< the loop's mark (onOpen/onClose)

	/// Creates, configures and attaches the responders of `names` (settings from `config`).
	/// If a stage is blocking(), makes one pipeline per worker (`workerMarks`, by worker index)
	/// instead of the loop's one (`loopMark`); each records its calls in its thread's mark.
	/// Throws std::invalid_argument (from PluginRegistry::create) naming the plugin.
	static std::shared_ptr<Chain> build(const std::vector<std::string>& names, const HostConfig& config,
		const PluginRegistry& registry, Outbox& outbox, const std::string& route, PluginMark& loopMark,
		const std::vector<PluginMark*>& workerMarks);

	/// A chain that runs in the isolated children: names and settings only.
	static std::shared_ptr<Chain> buildIsolated(const std::vector<std::string>& names, const HostConfig& config,
		std::shared_ptr<const IsolatedSpec> spec);

	/// True if `names` and their settings in `config` are what this chain was built with.
	bool sameAs(const std::vector<std::string>& otherNames, const HostConfig& config) const;

	/// Calls onOpen / onClose on every stage (not for a blocking chain); logs what they throw.
	void open(const ConnectionInfo& connection, Poco::Logger& logger) const;
	void close(ConnectionId connection, Poco::Logger& logger) const;

private:
	/// Calls `hook` on every stage; logs what it throws, naming the plugin and `hookName`.
	template <typename Hook>
	void notify(Hook hook, const char* hookName, Poco::Logger& logger) const;
};

/// The gates of one route (route.<path>.gates): one instance of each per worker thread, since
/// gates run on the workers. Shared by the handshakes that use it, like Chain.
struct GateChain
{
	std::vector<std::string> names;              ///< gate plugin names, in order
	std::vector<Settings> settings;
	std::vector<std::vector<std::unique_ptr<Gate>>> perWorker; ///< by worker index, then in order
	std::vector<const void*> sites;              ///< each gate's PluginSite (Faults.h), for the marks

	/// Creates and configures the gates of `names`, `workers` times. Throws std::invalid_argument
	/// (from PluginRegistry::createGate) naming the plugin.
	static std::shared_ptr<GateChain> build(const std::vector<std::string>& names, const HostConfig& config,
		const PluginRegistry& registry, unsigned workers, const std::string& route);

	bool sameAs(const std::vector<std::string>& otherNames, const HostConfig& config) const;
};

} // namespace host
} // namespace parley

#endif
