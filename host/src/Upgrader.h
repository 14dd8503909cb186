//
// Upgrader.h — a new connection up to its 101 on one event loop: the TLS handshake, the HTTP
// request head read without blocking, bounded in bytes (server.max_header_bytes) and in total
// time (engine.handshake_timeout_ms, for TLS and head together), then admission: the 101 and the
// WebSocket layer, or a short HTTP answer and the end of the connection.
//
#ifndef PARLEY_HOST_UPGRADER_INCLUDED
#define PARLEY_HOST_UPGRADER_INCLUDED

#include "Admission.h"
#include "Connection.h"
#include "LoopState.h"
#include "WebSocketLayer.h"
#include <cstdint>

typedef struct ssl_ctx_st SSL_CTX;

namespace parley {
namespace host {

class HostContext;

class Upgrader
{
public:
	/// Connections beyond engine.max_connections still get their 503 (after their head), up to
	/// this many at a time per loop; more are closed at once.
	static constexpr unsigned MaxRefusing = 64;

	/// `tls` null: plain connections.
	Upgrader(LoopState& state, WebSocketLayer& websockets, const HostContext& context, SSL_CTX* tls)
		: _s(state), _ws(websockets), _admission(context), _tls(tls)
	{
	}

	/// Takes a socket the loop accepted.
	void accept(int fd);

	/// Events of a connection in the Tls or Head state.
	void onEvents(Connection& c, std::uint32_t events);

	/// Tick: drops a connection whose handshake deadline passed (counted, nothing sent).
	void expire(Connection& c);

private:
	void readHead(Connection& c);
	/// The head is the first `size` bytes of c.head.
	void decide(Connection& c, std::size_t size, bool moreToRead);
	/// Counts a refusal, sends `answer` and ends the connection.
	void refuse(Connection& c, int status, const std::string& answer);

	LoopState& _s;
	WebSocketLayer& _ws;
	Admission _admission;
	SSL_CTX* _tls;
};

} // namespace host
} // namespace parley

#endif
