//
// Connection.h — one upgraded WebSocket connection, owned by one EventLoop for its whole life.
//
#ifndef PARLEY_HOST_CONNECTION_INCLUDED
#define PARLEY_HOST_CONNECTION_INCLUDED

#include "Chain.h"
#include "OutputBuffer.h"
#include "parley/codec/FrameDecoder.h"
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace parley {
namespace host {

/// The state the event loop keeps per connection. Kept small: an idle connection holds no
/// buffers (reads go to the loop's shared buffer, output to the loop's shared output buffer;
/// only unsent output and a frame cut across reads take memory of their own).
struct Connection
{
	enum class State : std::uint8_t
	{
		Open,      ///< exchanging messages
		Closing,   ///< our close frame (or last output after the peer's EOF) is queued; no more reading
		Draining   ///< close sent and write side shut down; reading and discarding until EOF
	};

	Connection(std::uint64_t connectionId, int socket, std::uint16_t routeId, std::uint64_t maxMessageSize,
		std::uint64_t now)
		: decoder(codec::Role::Server, maxMessageSize), id(connectionId), lastActivity(now), lastPing(now), fd(socket),
		  route(routeId)
	{
	}

	/// Returns the bytes of output not yet written to the socket.
	std::size_t pending() const noexcept { return out.size() - outPos; }

	codec::FrameDecoder decoder;
	OutputBuffer out;                ///< unsent output (empty while writes keep up)
	std::size_t outPos = 0;          ///< bytes of `out` already written
	std::uint64_t id;                ///< the ConnectionId responders see (unique for the host's life)
	std::uint64_t lastActivity;      ///< loop clock (ms) of the last read with data
	std::uint64_t lastPing;          ///< loop clock (ms) of the last ping sent (or the start)
	std::uint64_t deadline = 0;      ///< Closing/Draining: loop clock (ms) at which the socket is dropped
	std::uint32_t index = 0;         ///< position in the loop's connection list
	int fd;
	std::uint16_t route;
	State state = State::Open;
	bool readPaused = false;         ///< backpressure: output above the high mark
	bool queued = false;             ///< in the loop's list of connections to read again
	bool awaitingPong = false;       ///< a ping of ours is unanswered
	bool peerEof = false;            ///< the peer shut down its side (read returned 0)
	bool hangup = false;             ///< epoll reported the peer's shutdown: read on to the EOF
	bool dead = false;               ///< closed; deleted at the end of the loop turn
	bool bigMessage = false;         ///< the decoder gathered a large message (release its buffer)
	bool jobInFlight = false;        ///< a message of this connection is on the worker pool
	bool closeDeferred = false;      ///< the peer's close waits for the replies of earlier messages
	bool queuePaused = false;        ///< not reading: too many messages wait for the workers
	bool resumeQueue = false;        ///< queuePaused just ended: read again after the flush
	bool pushed = false;             ///< pushed output to flush at the end of the inbox
	std::uint16_t deferredCode = 0;  ///< the close code to echo once the queue is empty
	std::shared_ptr<Chain> chain;    ///< the responders this connection uses (null: none)
	/// A FIFO that allocates nothing until the first push (std::deque allocates ~600 bytes as soon
	/// as it is constructed, which would triple the memory of an idle connection).
	class LazyQueue
	{
	public:
		using Item = std::pair<PayloadKind, std::string>;
		bool empty() const { return !_items || _items->empty(); }
		std::size_t size() const { return _items ? _items->size() : 0; }
		void emplace_back(PayloadKind kind, std::string payload)
		{
			if (!_items) _items.reset(new std::deque<Item>);
			_items->emplace_back(kind, std::move(payload));
		}
		Item& front() { return _items->front(); }
		void pop_front() { _items->pop_front(); }
		void clear() { _items.reset(); }

	private:
		std::unique_ptr<std::deque<Item>> _items;
	};

	/// Messages waiting for the one in flight (only while jobInFlight), in arrival order.
	LazyQueue queue;
};

} // namespace host
} // namespace parley

#endif
