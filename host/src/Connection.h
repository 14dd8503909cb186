//
// Connection.h — one client connection, owned by one event loop from accept to close: its
// transport, then the request head, then the WebSocket state.
//
#ifndef PARLEY_HOST_CONNECTION_INCLUDED
#define PARLEY_HOST_CONNECTION_INCLUDED

#include "Admission.h"
#include "Chain.h"
#include "ConnectionDetails.h"
#include "LoopDeflate.h"
#include "OutputBuffer.h"
#include "PeerLimits.h"
#include "Transport.h"
#include "parley/codec/FrameDecoder.h"
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace parley {
namespace host {

/// The state the loop keeps per connection. Kept small: an idle WebSocket holds no buffers
/// (reads go to the loop's shared buffer, output to the loop's shared output buffer; only
/// unsent output, a frame cut across reads and, before the upgrade, the request head take
/// memory of their own).
struct Connection
{
	enum class State : std::uint8_t
	{
		Proxy,     ///< reading the PROXY protocol header (server.proxy_protocol; the handshake deadline runs)
		Tls,       ///< TLS handshake in progress (the handshake deadline runs)
		Head,      ///< reading the HTTP request head (the handshake deadline runs)
		Gating,    ///< the route's gates judge the request on the workers (the handshake deadline runs)
		Open,      ///< a WebSocket exchanging messages
		Closing,   ///< our close frame or HTTP answer (or last output after the peer's EOF) is queued; no more reading
		AwaitingClose, ///< our close frame is out: reading the peer's frames until its close frame (then Draining)
		Draining   ///< output sent and write side shut down; reading and discarding until EOF
	};

	Connection(int socket, std::uint64_t maxMessageSize, std::uint64_t now, std::uint64_t handshakeDeadline)
		: decoder(codec::Role::Server, maxMessageSize), transport(socket), lastActivity(now), lastPing(now),
		  deadline(handshakeDeadline)
	{
	}

	/// Returns the bytes of output not yet written to the socket (encrypted bytes waiting in a
	/// TLS transport included).
	std::size_t pending() const noexcept { return out.size() + transport.backlog(); }

	/// Before the 101: the request head and, while the gates run, the answer waiting for them.
	struct Pending
	{
		std::string head;            ///< the request head read so far (and any bytes after it)
		std::size_t headSize = 0;    ///< Gating: where the head ends in `head`
		std::uint64_t ticket = 0;    ///< Gating: the key of the gates' outcome (LoopState::gating)
		Verdict verdict;             ///< Gating: the 101 to send if the gates admit
		std::shared_ptr<std::atomic<int>> gateRunning; ///< Gating: index of the gate being run (-1: none yet)
		std::uint64_t acceptedNs = 0; ///< monotonicNs() at the accept (for parley_handshake_seconds)
	};

	/// True once the connection became a WebSocket (it has an id then).
	bool upgraded() const noexcept { return id != 0; }

	codec::FrameDecoder decoder;
	OutputBuffer out;                ///< unsent output (empty, and holding no memory, while writes keep up)
	Transport transport;
	std::unique_ptr<Pending> upgrading;  ///< Tls/Head/Gating: the request head and what waits on it
	DetailsRef details;                  ///< Open: what responders see (ConnectionInfo)
	PeerAddress peer;                ///< the client's address and port (behind a proxy: from its PROXY header, once read)
	std::uint64_t id = 0;            ///< the ConnectionId responders see (unique for the host's life); 0 before the upgrade
	std::uint64_t lastActivity;      ///< loop clock (ms) of the last read with data
	std::uint64_t lastPing;          ///< loop clock (ms) of the last ping sent (or the start)
	std::uint64_t deadline;          ///< Tls/Head/Closing/Draining: loop clock (ms) at which the socket is dropped
	/// Loop clock (ms) since when the client took nothing of its unsent output (0: none unsent);
	/// engine.send_timeout_ms after it the connection is cut.
	std::uint64_t sendSince = 0;
	// For the access log (LoopState::access): messages and their payload bytes each way.
	std::uint64_t messagesIn = 0;
	std::uint64_t payloadIn = 0;
	std::uint64_t messagesOut = 0;
	std::uint64_t payloadOut = 0;
	std::uint64_t openedAt = 0;      ///< loop clock (ms) of the upgrade
	std::uint32_t index = 0;         ///< position in the loop's connection list
	std::uint16_t route = 0;
	std::uint16_t inFlight = 0;      ///< messages on the workers (at most 1) or in the isolated children
	State state = State::Head;
	bool counted = true;             ///< holds one of engine.max_connections (false: answered `refusal`)
	bool peerCounted = false;        ///< holds one of its address's engine.max_connections_per_ip
	std::uint16_t refusal = 0;       ///< not counted: the status its head gets (503 or 429)
	bool readPaused = false;         ///< backpressure: output above the high mark
	bool queued = false;             ///< in the loop's list of connections to read again
	bool awaitingPong = false;       ///< a ping of ours is unanswered
	bool peerEof = false;            ///< the peer shut down its side (read returned 0)
	bool hangup = false;             ///< epoll reported the peer's shutdown: read on to the EOF
	bool dead = false;               ///< closed; deleted at the end of the loop turn
	bool bigMessage = false;         ///< the decoder gathered a large message (release its buffer)
	bool jobInFlight = false;        ///< a message of this connection is on the worker pool or in an isolated child
	bool isolatedJobs = false;       ///< the messages in flight are in an isolated child
	bool closeDeferred = false;      ///< the peer's close waits for the replies of earlier messages
	bool queuePaused = false;        ///< not reading: too many messages wait for the workers
	bool resumeQueue = false;        ///< queuePaused just ended: read again after the flush
	bool pushed = false;             ///< pushed output to flush at the end of the inbox
	bool deferredDrain = false;      ///< the deferred close is the host's 1001 of a graceful stop
	bool awaitPeerClose = false;     ///< Closing: our close starts the handshake; wait for the peer's close after it
	bool broadcaster = false;        ///< its messages made a plugin broadcast (paused first when output memory is tight)
	bool budgetPaused = false;       ///< not reading: the host's output memory is tight (LoopState::budgetPaused)
	std::uint16_t deferredCode = 0;  ///< the close code to echo once the queue is empty
	/// Who ended the WebSocket first: the client (its close frame, or its EOF: 1006), the host
	/// (its close frame), an I/O error (1006).
	enum class ClosedBy : std::uint8_t { Nobody, Client, Host, Io };
	ClosedBy closedBy = ClosedBy::Nobody;
	std::uint16_t closeCode = 0;     ///< the close code of whoever closed first (1006: none)

	/// Records who closed first (later calls change nothing).
	void closing(ClosedBy by, std::uint16_t code) noexcept
	{
		if (closedBy != ClosedBy::Nobody) return;
		closedBy = by;
		closeCode = code;
	}
	std::shared_ptr<Chain> chain;    ///< the responders this connection uses (null: none)
	std::unique_ptr<ConnectionDeflate> deflate; ///< permessage-deflate was agreed (null: not)
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
