//
// Upgrader.h — a new connection up to its 101 on one event loop: the PROXY header (behind a
// proxy, server.proxy_protocol), the TLS handshake, the HTTP
// request head read without blocking, bounded in bytes (server.max_header_bytes) and in total
// time (engine.handshake_timeout_ms, for TLS and head together), then admission: the 101 and the
// WebSocket layer, or a short HTTP answer and the end of the connection.
//
#ifndef PARLEY_HOST_UPGRADER_INCLUDED
#define PARLEY_HOST_UPGRADER_INCLUDED

#include "Admission.h"
#include "Connection.h"
#include "LoopState.h"
#include "Dispatch.h"
#include "ProxyHeader.h"
#include "WebSocketLayer.h"
#include <cstdint>

namespace parley {
namespace host {

class HostContext;
class TlsContexts;

class Upgrader
{
public:
	/// Connections beyond engine.max_connections still get their 503 (after their head), up to
	/// this many at a time per loop; more are closed at once.
	static constexpr unsigned MaxRefusing = 64;
	/// Handshakes waiting for their gates per loop at most; more are answered 503 at once.
	static constexpr std::size_t MaxGating = 1024;

	/// `tls` null: plain connections.
	Upgrader(LoopState& state, WebSocketLayer& websockets, Dispatch& dispatch, const HostContext& context,
		const TlsContexts* tls);

	/// Takes a socket the loop accepted from `peer`.
	void accept(int fd, const sockaddr_storage& peer);

	/// Events of a connection in the Proxy, Tls or Head state.
	void onEvents(Connection& c, std::uint32_t events);

	/// Tick: drops a connection whose handshake deadline passed (counted, nothing sent); one
	/// whose gates did not answer in time gets 503 and a log line naming the gate.
	void expire(Connection& c);

private:
	/// A per-address limit on `peer` (engine.max_connections_per_ip, handshakes_per_ip_per_s):
	/// 0 (admitted; `counted` says whether it holds one of its address's connections), 429 (too
	/// many connections) or 430 (too fast).
	std::uint16_t admitPeer(const PeerAddress& peer, bool& counted);
	/// Proxy state: peeks at what came so far (the header is consumed only once whole, so the
	/// bytes after it stay in the socket for TLS or HTTP); a whole header replaces c.peer with
	/// the client's address, then the per-address limits apply and the next step starts.
	void readProxy(Connection& c);
	/// Closes a connection whose PROXY header was refused (counted as `counter`, one line at a rate).
	void refuseProxy(Connection& c, Counter counter, const std::string& why);
	/// Runs the TLS handshake as far as it goes (Tls state), then reads the head.
	void handshakeTls(Connection& c);
	void readHead(Connection& c);
	/// The head is the first `size` bytes of c.head.
	void decide(Connection& c, std::size_t size, bool moreToRead);
	/// Counts a refusal, sends `answer` and ends the connection.
	/// Answers `answer` and closes; logs "handshake ... refused with <status>: <reason>" at a rate
	/// (LogRefused) unless `reason` is empty (the caller logged it).
	void refuse(Connection& c, int status, const std::string& answer, const std::string& reason);
	/// Sends the 101 of `v` and makes `c` a WebSocket (bytes after the head are its first frames).
	void upgrade(Connection& c, const Verdict& v, std::size_t size, bool moreToRead, std::string identity = {},
		Attributes attributes = {}, std::int64_t expiresAt = 0);
	/// Hands the request to the route's gates; `c` waits in the Gating state.
	void startGates(Connection& c, Verdict v, std::size_t size);
	/// What the gates decided for a connection in the Gating state.
	void onGates(Dispatch::GateOutcome& outcome);

	LoopState& _s;
	WebSocketLayer& _ws;
	Dispatch& _dispatch;
	Admission _admission;
	const TlsContexts* _tls;
	const ProxyConfig _proxy;   ///< server.proxy_protocol and trusted_proxies as the host started (restart-only)
};

} // namespace host
} // namespace parley

#endif
