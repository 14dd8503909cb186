//
// Pipeline.h — a route's chain of responders; each gets the previous one's output.
//
#ifndef PARLEY_PIPELINE_INCLUDED
#define PARLEY_PIPELINE_INCLUDED

#include "parley/PluginMark.h"
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
	/// run). A returned reply with quotesMessage begins with the bytes of `message` itself (only a
	/// one-stage chain returns one; between stages the quoted bytes are put in place). Throws
	/// ResponderError if a responder throws.
	const Reply& run(const Message& message)
	{
		if (!_single) return runChain(message);
		// One stage, the common case: inline, and straight to the plugin's object.
		Reply& reply = _replies[0];
		reply.action = Reply::Action::None;
		reply.kind = message.kind;
		reply.quotesMessage = false;
		reply.closeCode = 1000;
		reply.payload.clear();
		_mark->enter(_site);
		try
		{
			_single->respond(message, reply);
		}
		catch (...)
		{
			_mark->leave();
			failed(_stages.front().name);
		}
		_mark->leave();
		return reply;
	}

	/// Makes run() record each stage's call in `mark` (the mark of the one thread that runs this
	/// pipeline): sites[i] while stage i runs (one per stage). Without it the pipeline records
	/// into a mark of its own that nobody reads.
	void setMark(PluginMark& mark, std::vector<const void*> sites);

	/// The plugin names of the chain, in order.
	std::vector<std::string> names() const;

	std::size_t size() const noexcept { return _stages.size(); }

private:
	const Reply& runChain(const Message& message);
	/// Rethrows the exception being handled as a ResponderError naming `plugin`.
	[[noreturn]] static void failed(const std::string& plugin);

	std::vector<Stage> _stages;
	Responder* _single = nullptr;   ///< the one stage's target (PluginRegistry::target), if one stage
	PluginMark _ownMark;
	PluginMark* _mark = &_ownMark;  ///< where run() records the stage it calls (setMark)
	const void* _site = nullptr;    ///< the first stage's site
	std::vector<const void*> _sites; ///< by stage
	Reply _replies[2];
};

/// Makes a reply that quotes its message (Reply::echo) self-contained: puts `message` in front
/// of the payload and clears quotesMessage. For a reply that must outlive the message.
void settle(Reply& reply, std::string_view message);

} // namespace parley

#endif
