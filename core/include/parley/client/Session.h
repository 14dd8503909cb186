//
// Session.h — the client session shared by parley-client and parley-gui: one interactive
// WebSocket connection run on its own network thread, reporting through a listener.
//
#ifndef PARLEY_CLIENT_SESSION_INCLUDED
#define PARLEY_CLIENT_SESSION_INCLUDED

#include "parley/codec/DeflateNegotiation.h"
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace parley {
namespace client {

enum class Direction : std::uint8_t { Sent, Received };
enum class FrameKind : std::uint8_t { Text, Binary, Ping, Pong, Close };
enum class SessionState : std::uint8_t { Idle, Connecting, Open, Closing, Closed };

/// Returns "text", "binary", "ping", "pong", "close".
const char* toString(FrameKind kind);
/// Returns "idle", "connecting", "open", "closing", "closed".
const char* toString(SessionState state);

/// One frame as seen by the client (for logs).
struct FrameRecord
{
	std::chrono::system_clock::time_point time;
	Direction direction = Direction::Sent;
	FrameKind kind = FrameKind::Text;
	std::string payload;          ///< for Close: the reason
	std::uint16_t closeCode = 0;  ///< for Close only
	/// Text/Binary: the message went over the wire compressed (permessage-deflate, RSV1 set).
	bool compressed = false;
	/// Payload bytes on the wire: after compression when compressed, else payload.size() (for
	/// Close: 2 + the reason's size, or 0 for an empty close). Frame headers are not counted.
	std::uint64_t wireSize = 0;
};

/// permessage-deflate (RFC 7692) for a connection: offered when enabled; what the server answers
/// decides whether messages are compressed.
struct DeflateOptions
{
	bool enabled = false;                ///< offer permessage-deflate in Sec-WebSocket-Extensions
	codec::DeflateClientConfig offer;    ///< the offer's parameters and the zlib level (0..9)
	/// Outgoing messages shorter than this many bytes are sent uncompressed (0 = compress all).
	std::size_t minSize = 0;
};

/// What the client adds to its opening handshake (the interactive session and every connection
/// of a load run).
struct HandshakeOptions
{
	/// Offered in Sec-WebSocket-Protocol, in this order (none: the header is not sent). Each is an
	/// RFC 7230 token, at most once.
	std::vector<std::string> subprotocols;
	std::string origin;  ///< sent as Origin if not empty (what a browser page at that origin sends)
	std::string token;   ///< sent as "Authorization: Bearer <token>" if not empty
	std::vector<std::pair<std::string, std::string>> headers;  ///< extra request headers, in this order
	DeflateOptions deflate;  ///< offer permessage-deflate (sent as Sec-WebSocket-Extensions)
};

/// Checks what HandshakeOptions would send before any connection: throws std::invalid_argument
/// with one line for a subprotocol that is not a token or is offered twice, an origin or token
/// with a control character (a token with a space), a header with an empty or bad name or a
/// value with CR/LF, a header the client sets itself (Host, Upgrade, Connection,
/// Sec-WebSocket-*), an Origin / Authorization header next to the origin / token option, or, with
/// deflate enabled, a level outside 0..9 or window bits outside 9..15 (server bits 8..15).
void checkHandshakeOptions(const HandshakeOptions& options);

/// Splits a list of subprotocols as typed ("chat.v2, chat.v1" or "chat.v2 chat.v1") into its
/// names, in order (empty entries dropped; nothing is checked).
std::vector<std::string> splitSubprotocols(const std::string& text);

/// What the server answered to the opening handshake.
struct HandshakeReply
{
	int status = 0;            ///< 101 when accepted, else the refusal's HTTP status
	std::string reason;        ///< the status line's reason phrase ("Forbidden")
	std::string message;       ///< a refusal's first body line, cleaned and cut to 200 bytes ("" if none)
	std::string authenticate;  ///< a refusal's WWW-Authenticate value ("" if none)
	std::string subprotocol;   ///< 101: the subprotocol the server selected ("" if none was offered)
	std::string extensions;    ///< 101: the server's Sec-WebSocket-Extensions value ("" if none)
	bool deflateOffered = false;  ///< permessage-deflate was offered
	bool deflate = false;         ///< 101: permessage-deflate was negotiated (false: the server declined)
	codec::DeflateParams deflateParams;  ///< the agreed parameters when deflate is true
};

struct ConnectOptions : HandshakeOptions
{
	std::string url;                                         ///< ws://host:port/path or wss://host:port/path
	unsigned connectTimeoutMs = 5000;                        ///< TCP connect + TLS handshake + WebSocket handshake
	std::uint64_t maxMessageSize = 16u << 20;
	bool insecure = false;   ///< wss://: accept any certificate (no verification at all)
	std::string caFile;      ///< wss://: also trust the certificates of this PEM file ("" = the system CAs only)
};

/// Receives a session's events. Called on the session's network thread: a GUI must marshal
/// them onto its own thread (CallAfter / wxQueueEvent).
class SessionListener
{
public:
	virtual ~SessionListener() = default;
	/// State changes; closeCode/reason are set when the state becomes Closed after a close
	/// handshake (1006 and an explanation when the connection was lost without one).
	virtual void onStateChanged(SessionState state, std::uint16_t closeCode, const std::string& reason) = 0;
	/// Every frame sent or received, in order. A compressed message (permessage-deflate) is
	/// reported inflated, with compressed set and its size on the wire.
	virtual void onFrame(const FrameRecord& frame) = 0;
	/// A failure, one line (bad URL, connection refused, handshake rejected with HTTP status, ...).
	virtual void onError(const std::string& message) = 0;
	/// Round-trip time of a ping sent with ping(), measured when its pong arrives.
	virtual void onPingRtt(std::chrono::microseconds rtt) { (void)rtt; }
	/// The server's answer to the opening handshake: a 101 that passed every check (called just
	/// before the state becomes Open; reply.deflate says whether permessage-deflate was
	/// negotiated) or a refusal (any other status, called just before onError). A 101 whose
	/// Sec-WebSocket-Extensions cannot be accepted fails the connection with onError only.
	virtual void onHandshake(const HandshakeReply& reply) { (void)reply; }
};

/// One interactive connection. All methods are thread-safe and return at once; work happens on
/// the session's own thread, results arrive through the listener.
class Session
{
public:
	explicit Session(SessionListener& listener);
	~Session();  ///< drops the connection (no close handshake) and joins the network thread

	Session(const Session&) = delete;
	Session& operator=(const Session&) = delete;

	/// Starts connecting (closing any current connection first). Errors go to onError and the
	/// state returns to Closed.
	void connect(const ConnectOptions& options);
	void sendText(std::string text);
	void sendBinary(std::string data);
	/// Sends a ping; its pong's round-trip time is reported by onPingRtt.
	void ping(std::string payload = {});
	/// Starts the close handshake with the given code and reason.
	void close(std::uint16_t code = 1000, std::string reason = {});
	/// Drops the connection without a close handshake.
	void disconnect();

	SessionState state() const;
	/// Returns the subprotocol the server selected for the current (or last) connection, "" if
	/// none (thread-safe).
	std::string subprotocol() const;

private:
	struct Impl;
	std::unique_ptr<Impl> _impl;
};

} // namespace client
} // namespace parley

#endif
