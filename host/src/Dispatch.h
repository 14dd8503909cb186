//
// Dispatch.h — the responders of one event loop: a chain of plugin instances per route, the
// messages of each connection through them (inline, or on the worker pool for blocking chains,
// replies kept in message order), and what plugins push from any thread.
//
#ifndef PARLEY_HOST_DISPATCH_INCLUDED
#define PARLEY_HOST_DISPATCH_INCLUDED

#include "Admission.h"
#include "Chain.h"
#include "IsolatedPool.h"
#include "LoopState.h"
#include "WebSocketLayer.h"
#include "WorkerPool.h"
#include "parley/codec/Opcode.h"
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace parley {
namespace host {

class HostContext;

/// Plugins: every loop turn compares the registry's and the configuration's generation with the
/// ones the chains were built for (two atomic loads) and rebuilds the chains that changed; open
/// connections move to the new instances (onClose on the old ones, onOpen on the new ones). A
/// route whose chain cannot be built any more (its plugin was removed) keeps its old instances
/// for the connections already open; new connections on it are closed with 1001.
///
/// Blocking chains run on the WorkerPool: a connection has at most one job in flight and a FIFO
/// of the messages that came after it, so replies leave in message order; a close from the peer
/// is answered once every earlier message was.
///
/// Isolated chains (route.<path>.isolate = process) run in the IsolatedPool's children: a
/// connection may have up to MaxIsolatedInFlight messages there (they come back in order), the
/// rest wait in its FIFO as for the workers.
class Dispatch final : public IsolatedSink
{
public:
	/// Creates the loop's chains, one per route of the context's configuration. Throws
	/// ConfigError if a responder cannot be created or refuses its settings.
	Dispatch(LoopState& state, WebSocketLayer& websockets, HostContext& context, WorkerPool& workers, IsolatedPool& isolated);

	/// `c` became a WebSocket on c.route. Returns false if the route cannot serve it now (its
	/// plugin was removed): the connection is then closed with 1001.
	bool onOpen(Connection& c);

	/// A whole data message of `c`, already counted in `stats` (the counters of c.route); replies
	/// go to `out`. The caller has put `c` in the loop's mark (LoopState::mark.connection: the
	/// watchdog's stall line names it), once per read. Returns false if the connection is closing now (a close reply, or a responder
	/// failed). The per-message path: inline.
	bool onMessage(Connection& c, const Message& message, OutputBuffer& out, RouteStats& stats)
	{
		if (__builtin_expect(c.jobInFlight || c.chain->blocking, 0)) return queueForWorkers(c, message);
		// parley_respond_seconds: every RespondSampleEvery-th message of the route on this loop,
		// out of line, so that the others pay one test.
		if (__builtin_expect((stats.messagesIn & (RespondSampleEvery - 1)) == 0, 0)) return timedMessage(c, message, out, stats);
		const Reply* reply;
		try
		{
			reply = &c.chain->pipeline->run(message);
		}
		catch (...)
		{
			return pipelineFailed(c, out);
		}
		return replied(c, *reply, message, out, stats);
	}

	/// `c` (an opened WebSocket) is closed; no call about it follows.
	void onClosed(Connection& c);

	/// Rebuilds the chains if the registry or the configuration changed (loop thread).
	void checkGenerations();

	/// Applies worker results and pushed messages (loop thread, after a wake-up).
	void takeInbox();

	/// Writes what this turn queued for the isolated children (loop thread, at the end of a turn).
	void flushIsolated()
	{
		if (!_isolatedQueued) return;
		_isolatedQueued = false;
		_isolated.flush();
	}

	/// Outcomes of isolated messages (the IsolatedPool's thread): queued like worker results.
	void isolatedResults(std::vector<IsolatedResult>& results) override;

	/// Queues a message for a connection of this loop on `route` (thread-safe). Returns false if
	/// the loop does not know that connection (closed, or on another route) or is stopping.
	bool push(ConnectionId connection, std::uint16_t route, PayloadKind kind, std::string_view payload);

	/// Queues a message for every open connection of this loop on `route` (thread-safe).
	void broadcast(std::uint16_t route, PayloadKind kind, std::string_view payload);

	/// Refuses everything posted from now on and drops what is queued (the loop is stopping).
	void closeInbox();

	/// A handshake for the gates of a route (route.<path>.gates).
	struct GateInput
	{
		std::uint64_t ticket = 0;                 ///< LoopState::gating key
		std::string method, path, query, subprotocol, remoteAddress;
		std::uint16_t remotePort = 0;
		bool tls = false;
		std::shared_ptr<const Verdict::Headers> headers;
	};
	/// What the gates decided (or that one failed).
	struct GateOutcome
	{
		std::uint64_t ticket = 0;
		bool admitted = false;
		std::string gate;                         ///< refused or failed: the gate's name
		bool failed = false;                      ///< the gate threw: answer 503
		int status = 0;                           ///< refused: 401, 403 or 429
		std::string reason;                       ///< refused: for the client; failed: the exception
		Verdict::Headers headers;                 ///< refused: extra response fields
		std::string identity;                     ///< admitted
		Attributes attributes;
		std::int64_t expiresAt = 0;
	};

	/// Sends a handshake to the gates of `route` on the workers; the outcome comes back through
	/// the handler (loop thread, from takeInbox). `running` is set to the index of the gate being
	/// run. Returns false if the route's gates cannot run now (a gate plugin was removed).
	bool runGates(std::uint16_t route, GateInput input, std::shared_ptr<std::atomic<int>> running);

	/// What the loop stores in `running` when it gives up on a handshake: the gates not yet
	/// started are skipped.
	static constexpr int GateCancelled = -2;

	/// The gate names of a route's chain in force ("" if none), for messages.
	std::string gateName(std::uint16_t route, int index) const;

	/// Who receives gate outcomes (the Upgrader).
	void setGateHandler(std::function<void(GateOutcome&)> handler) { _gateHandler = std::move(handler); }

private:
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
		std::uint64_t ns;             // time in the chain, if timed (else 0)
	};

	/// Messages of one connection in the isolated children at most.
	static constexpr std::uint16_t MaxIsolatedInFlight = 1024;
	static constexpr std::uint8_t OpText = static_cast<std::uint8_t>(codec::Opcode::Text);
	static constexpr std::uint8_t OpBinary = static_cast<std::uint8_t>(codec::Opcode::Binary);

	void rebuild();
	/// Builds (or keeps) the gates of route `r` for `config`; returns false if they cannot be built.
	bool buildGates(std::size_t r, const HostConfig& config, bool pluginsChanged, std::string* why);
	void completeGates(GateOutcome outcome);
	/// A message of a blocking chain, or one that arrived while a job is in flight: to the
	/// workers now or queued behind the job. Returns true.
	bool queueForWorkers(Connection& c, const Message& message);
	/// True if a message of `c` may go to the workers or the children now (else it waits in c.queue).
	bool canSubmit(const Connection& c) const
	{
		if (!c.jobInFlight) return true;
		return c.chain->isolated && c.isolatedJobs && c.inFlight < MaxIsolatedInFlight;
	}
	void submitIsolated(Connection& c, PayloadKind kind, std::string_view payload);
	/// onOpen / onClose for the chain's responders, wherever they run.
	void openChain(Connection& c);
	void closeChain(Connection& c);
	void complete(Result result);
	void touch(Connection& c);
	void applyPush(Push& push);
	void applyResult(Result& result);
	void submit(Connection& c, PayloadKind kind, std::string payload);
	void pump(Connection& c);
	/// Called in a catch block of onMessage: logs, closes with 1011; returns false.
	bool pipelineFailed(Connection& c, OutputBuffer& out);
	/// `message`: the bytes a reply with quotesMessage begins with.
	bool applyReply(Connection& c, const Reply& reply, std::string_view message, OutputBuffer& out);
	void responderFailed(Connection& c, const std::string& plugin, const std::string& what, OutputBuffer& out);
	void wakeLoop(bool& wakeNow);
	/// onMessage for a message timed through its chain.
	__attribute__((noinline)) bool timedMessage(Connection& c, const Message& message, OutputBuffer& out, RouteStats& stats);
	/// The reply of an inline chain to `message`; returns as onMessage.
	bool replied(Connection& c, const Reply& reply, const Message& message, OutputBuffer& out, RouteStats& stats)
	{
		if (reply.action == Reply::Action::Send)
		{
			// The common case, kept inline: one frame, straight into the output (compressed
			// first under permessage-deflate).
			_s.deflate.appendMessage(c.deflate.get(), out, reply.kind == PayloadKind::Text ? OpText : OpBinary,
				reply.quotesMessage ? message.payload : std::string_view(), reply.payload);
			_s.sent(c, stats, (reply.quotesMessage ? message.payload.size() : 0) + reply.payload.size());
			return true;
		}
		return applyReply(c, reply, message.payload, out);
	}

	LoopState& _s;
	WebSocketLayer& _ws;
	HostContext& _context;
	WorkerPool& _workers;
	IsolatedPool& _isolated;
	bool _isolatedQueued = false;                        // frames for the children queued this turn
	std::vector<PluginMark*> _workerMarks;               // by worker index
	std::vector<std::shared_ptr<Chain>> _chains;         // by route id; null: cannot be built now
	std::vector<std::shared_ptr<GateChain>> _gates;      // by route id; null: no gates, or cannot be built now
	std::function<void(GateOutcome&)> _gateHandler;
	std::uint64_t _registryGeneration = 0;               // the generations _chains were built for
	std::uint64_t _configGeneration = 0;

	std::mutex _inboxMutex;          // guards the five below
	std::vector<Push> _pushes;
	std::vector<Result> _results;
	std::vector<Result> _taken;      // loop thread: the results being applied
	std::vector<GateOutcome> _gateOutcomes;
	std::unordered_map<ConnectionId, std::uint16_t> _live;   // open connections → route (for push)
	bool _inboxClosed = false;
	bool _wakePending = false;

	std::unordered_map<ConnectionId, Connection*> _byId;    // loop thread
	std::vector<Connection*> _touched;                      // pushed to in this turn
};

} // namespace host
} // namespace parley

#endif
