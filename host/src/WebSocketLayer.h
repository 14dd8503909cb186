//
// WebSocketLayer.h — the WebSocket connection of one event loop: reading through the transport,
// the RFC 6455 codec, the close handshake, output and backpressure, per-connection timers.
// Messages go up to the Dispatch (whose per-message call is inline); it knows nothing of plugins.
//
#ifndef PARLEY_HOST_WEBSOCKETLAYER_INCLUDED
#define PARLEY_HOST_WEBSOCKETLAYER_INCLUDED

#include "Connection.h"
#include "LoopState.h"
#include "parley/Responder.h"
#include <cstdint>
#include <string_view>

namespace parley {
namespace host {

class Dispatch;

/// Reading: until the socket is drained (or a fairness budget is used), decoding every frame of
/// a read before reading again (after a large read it first reads once more into the rest of the
/// buffer, and handles both together). Writing: all replies of one read with one send — two
/// when a run of small messages brings more than engine.send_chunk of replies: the first chunk
/// leaves as soon as it is made, so that a pipelining peer works on those replies while the loop
/// makes the rest.
///
/// Time limits: engine.idle_timeout_ms closes with 1001 a connection from which nothing was read
/// for that long (pongs count as traffic). engine.ping_interval_ms sends a ping every interval;
/// a connection that has not answered the previous ping by the next one is closed with 1001
/// ("no pong to the last ping"). After our close frame (or HTTP answer) the peer has
/// CloseTimeoutMs to end TCP.
///
/// Backpressure: above engine.backpressure_high of unsent output the loop stops reading that
/// connection until the output drains to engine.backpressure_low; if one read's replies push it
/// above engine.backpressure_limit the connection is closed with 1008 (the replies already
/// encoded are still sent first) and one warning is logged.
class WebSocketLayer
{
public:
	/// How long a closing connection may take to take our last output and end TCP (ms).
	static constexpr unsigned CloseTimeoutMs = 5000;

	explicit WebSocketLayer(LoopState& state)
		: _s(state), _sendChunk(state.engine.sendChunk != 0 ? state.engine.sendChunk : ~std::size_t(0))
	{
	}

	/// The layer above: Dispatch::onOpen when a connection becomes a WebSocket, onMessage for
	/// every data message, onClosed when it is gone.
	void setDispatch(Dispatch& dispatch) { _dispatch = &dispatch; }

	/// Makes `c` a WebSocket on `route`: its 101 answer is already in c.out; `leftover` holds
	/// `size` bytes that came after the request head (the decoder unmasks them in place);
	/// `moreToRead` says the socket was not drained.
	void open(Connection& c, std::uint16_t route, char* leftover, std::size_t size, bool moreToRead);

	/// Sends what c.out holds (an HTTP answer), then ends the connection gracefully.
	void endAfterOutput(Connection& c);

	/// Events of an upgraded (or closing) connection.
	void onEvents(Connection& c, std::uint32_t events);

	/// Reads and answers what the socket holds (Open, not paused).
	void readSocket(Connection& c);

	/// Writes c.out as far as the socket takes it.
	void flush(Connection& c);

	/// Before queueing `bytes` of output to `c` (a push, a broadcast, a worker's reply): false if
	/// the connection is cut instead (its backlog would pass engine.backpressure_limit, or the
	/// host's output memory is at engine.max_output_memory and it already has a backlog).
	bool admit(Connection& c, std::size_t bytes);

	/// Every tick: reads again the connections paused for the output memory once it fell below
	/// half the budget; near the budget, cuts the connections that take nothing, slowest first.
	void budgetTick();

	/// Reads again if backpressure paused the connection and its output drained.
	void resumeIfDrained(Connection& c);

	/// Queues a close frame and makes the connection Closing. `awaitPeer`: the close starts the
	/// closing handshake, so once it is sent the connection reads on until the peer's close frame
	/// (AwaitingClose); false for an answer to the peer's close and after a protocol error.
	void queueClose(Connection& c, OutputBuffer& out, std::uint16_t code, std::string_view reason, bool awaitPeer = true);

	/// The timers of one connection (idle, ping, close deadline), every EventLoop::TickMs.
	void tick(Connection& c);

	/// Reads the connections whose read budget ran out in an earlier turn.
	void readAgain();

	/// True if connections wait to be read again.
	bool hasReadsPending() const noexcept { return !_s.again.empty(); }

	/// Graceful stop: an open WebSocket stops reading and gets 1001 DrainReason after the replies
	/// to every message read so far (those on the workers too), then the usual close handshake;
	/// a connection still in its handshake is dropped. Returns true for a WebSocket that gets
	/// (or already waits for) its close now.
	bool closeForDrain(Connection& c);

	/// The reason of the graceful stop's 1001.
	static constexpr const char* DrainReason = "server going away";

	/// Host stopping: a WebSocket gets 1001 (one write), every connection is closed.
	void closeForStop(Connection& c);

	/// Closes the socket now; the object is deleted at the end of the turn (reap()).
	void destroy(Connection& c);

	/// Deletes the connections destroyed this turn.
	void reap();

private:
	/// Decodes and answers the first `size` bytes of the read buffer and sends the replies.
	void handleRead(Connection& c, std::size_t size);
	/// Decodes and answers the frames of one read; replies go to *out (the shared buffer or
	/// c.out); the first engine.send_chunk bytes of the shared one are sent early (after a short
	/// early send the rest of the read's replies go to c.out).
	void process(Connection& c, char* data, std::size_t size, OutputBuffer* out);
	/// Sends the shared buffer now; returns where further output goes (&shared, or c.out after
	/// a short send), or nullptr if the connection failed.
	OutputBuffer* sendEarly(Connection& c);
	/// Sends the shared output buffer; what the socket does not take is copied to c.out. False
	/// if the connection failed (destroyed).
	bool sendBatch(Connection& c);
	void sendShared(Connection& c);
	/// Writes as much of `buffer` as the socket takes (and drops it from the buffer); false after
	/// a socket error (the connection is destroyed then).
	bool sendSome(Connection& c, OutputBuffer& buffer);
	void afterWrite(Connection& c);
	enum class Cut { Backpressure, SendTimeout, Budget };
	/// Cuts an open connection that does not take its output: drops the backlog (a frame partly
	/// written is finished first), queues 1008 with a reason, logs and counts it.
	void cut(Connection& c, Cut why, std::size_t pending);
	/// Stops reading `c` until the output memory falls below half the budget.
	void pauseForBudget(Connection& c);
	/// A read or write of `c` failed with `error` (errno; 0: unknown): counts it and logs it at a
	/// rate (if the connection was open); the caller destroys the connection.
	void ioFailed(Connection& c, const char* what, int error);
	/// The line of the access log for `c` (a WebSocket being destroyed).
	void logAccess(const Connection& c);
	/// A close the host sends for a fault of the peer: logged at a rate (LogClosed).
	void logProtocolClose(const Connection& c, std::uint16_t code, std::string_view why);
	/// Our last output (the close frame) is out: AwaitingClose if the close starts the
	/// handshake, else endStream.
	void finishClose(Connection& c);
	/// AwaitingClose: reads frames until the peer's close (then endStream), dropping the rest.
	void awaitClose(Connection& c);
	/// Shuts our side of TCP down and reads to the peer's EOF (Draining).
	void endStream(Connection& c);
	void drain(Connection& c);
	/// Queues c to be read again after the other connections (its read budget is used up).
	void readAgainLater(Connection& c);

	/// Reads of one connection per readiness event before the others get their turn.
	static constexpr unsigned ReadBudget = 8;

	LoopState& _s;
	const std::size_t _sendChunk;         // engine.send_chunk (its 0, "never early", as the largest size)
	Dispatch* _dispatch = nullptr;
};

} // namespace host
} // namespace parley

#endif
