//
// Pipeline.h — a route's chain of responders; each gets the previous one's output.
//
#ifndef PARLEY_PIPELINE_INCLUDED
#define PARLEY_PIPELINE_INCLUDED

#include "parley/Responder.h"
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace parley {

/// Thrown by Pipeline::run when a responder throws; names the plugin.
class ResponderError : public std::runtime_error
{
public:
	ResponderError(const std::string& plugin, const std::string& what)
		: std::runtime_error(plugin + ": " + what), _plugin(plugin) {}
	/// The name of the plugin whose responder threw.
	const std::string& plugin() const noexcept { return _plugin; }

private:
	std::string _plugin;
};

/// One stage of a chain: the plugin's name and its responder instance.
struct Stage
{
	std::string name;
	std::unique_ptr<Responder> responder;
};

/// A chain of responders owned by one event loop (not thread-safe; no locks needed).
/// run() allocates nothing once its two reply buffers have grown to the message sizes seen.
class Pipeline
{
public:
	/// Throws std::invalid_argument if the chain is empty or a responder is null.
	explicit Pipeline(std::vector<Stage> stages);

	/// Passes `message` through the chain. A stage that answers Action::None ends the chain with
	/// no reply; Action::Close ends it with a close. Returns the last reply (valid until the next
	/// run). Throws ResponderError if a responder throws.
	const Reply& run(const Message& message);

	/// The plugin names of the chain, in order.
	std::vector<std::string> names() const;

	std::size_t size() const noexcept { return _stages.size(); }

private:
	std::vector<Stage> _stages;
	Reply _replies[2];
};

} // namespace parley

#endif
