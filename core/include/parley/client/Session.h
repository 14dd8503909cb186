//
// Session.h — the client session shared by parley-client and parley-gui: one interactive
// WebSocket connection run on its own network thread, reporting through a listener.
//
#ifndef PARLEY_CLIENT_SESSION_INCLUDED
#define PARLEY_CLIENT_SESSION_INCLUDED

#include <chrono>
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
};

struct ConnectOptions
{
	std::string url;                                         ///< ws://host:port/path or wss://host:port/path
	std::string subprotocol;                                 ///< offered in Sec-WebSocket-Protocol if not empty
	std::vector<std::pair<std::string, std::string>> headers; ///< extra request headers
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
	/// Every frame sent or received, in order.
	virtual void onFrame(const FrameRecord& frame) = 0;
	/// A failure, one line (bad URL, connection refused, handshake rejected with HTTP status, ...).
	virtual void onError(const std::string& message) = 0;
	/// Round-trip time of a ping sent with ping(), measured when its pong arrives.
	virtual void onPingRtt(std::chrono::microseconds rtt) { (void)rtt; }
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

private:
	struct Impl;
	std::unique_ptr<Impl> _impl;
};

} // namespace client
} // namespace parley

#endif
