//
// LoadRun.h — the verified exchange: N messages over C connections with at most W in flight per
// connection, every reply checked. Used by parley-client and parley-gui.
//
#ifndef PARLEY_CLIENT_LOADRUN_INCLUDED
#define PARLEY_CLIENT_LOADRUN_INCLUDED

#include "parley/client/Session.h"
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace parley {
namespace client {

/// How a reply is checked against the message it answers.
enum class Expect : std::uint8_t
{
	Prefix,        ///< the reply starts with the message (any host route)
	Echo,          ///< the reply equals the message
	RandomSuffix   ///< message + separator + integer in [min, max]
};

struct LoadOptions : HandshakeOptions
{
	std::string url = "ws://127.0.0.1:8080/ws";  ///< ws://host:port/path or wss://host:port/path
	std::uint64_t count = 10000;   ///< messages in all, spread over the connections
	unsigned window = 64;          ///< messages in flight per connection (1 = request/reply)
	unsigned conns = 1;
	std::size_t size = 0;          ///< payload bytes (0 = just "<conn>:<seq>"; else padded to size)
	bool binary = false;
	Expect expect = Expect::Prefix;
	std::string separator = " ";   ///< RandomSuffix
	std::int64_t min = 0;          ///< RandomSuffix
	std::int64_t max = 999999;     ///< RandomSuffix
	unsigned connectTimeoutMs = 5000;  ///< TCP connect + TLS handshake + WebSocket handshake, all connections
	unsigned replyTimeoutMs = 10000;  ///< give up when no reply arrives for this long (missing)
	std::uint64_t maxMessageSize = 16u << 20;
	bool insecure = false;         ///< wss://: accept any certificate (no verification at all)
	std::string caFile;            ///< wss://: also trust the certificates of this PEM file ("" = the system CAs only)
};

struct LoadProgress
{
	std::uint64_t sent = 0, received = 0, verified = 0, mismatched = 0;
	double elapsedSeconds = 0;
	double recentRttMicros = 0;  ///< mean round trip since the previous progress report
};

struct LoadSummary
{
	std::uint64_t sent = 0, received = 0, verified = 0, mismatched = 0, missing = 0;
	double elapsedSeconds = 0, messagesPerSecond = 0;
	double p50Micros = 0, p99Micros = 0, maxMicros = 0;
	bool cancelled = false;
	std::string error;              ///< why the run stopped early (connection refused, server closed 1011 ...), "" if it did not
	std::string firstMismatch;      ///< the first wrong reply, described, "" if none
	std::string subprotocol;        ///< the subprotocol the server selected (the same for every connection), "" if none
	int refusedStatus = 0;          ///< the HTTP status of a refused handshake (then error says why), 0 if none

	unsigned connections = 0;         ///< connections whose handshake succeeded
	bool deflateOffered = false;      ///< permessage-deflate was offered (LoadOptions::deflate.enabled)
	unsigned deflateConnections = 0;  ///< connections on which the server agreed to permessage-deflate
	std::string extensions;           ///< the first connection's Sec-WebSocket-Extensions answer, "" if none
	/// Data messages: payload bytes (as sent / as received after inflating) and frame payload bytes
	/// on the wire (after compression; frame headers not counted), each way.
	std::uint64_t payloadBytesSent = 0, wireBytesSent = 0, payloadBytesReceived = 0, wireBytesReceived = 0;

	/// True when permessage-deflate was negotiated on every connection that opened.
	bool deflate() const noexcept { return deflateOffered && connections > 0 && deflateConnections == connections; }
	/// True when every one of `requested` messages was sent and verified and nothing went wrong.
	bool ok(std::uint64_t requested) const;
	/// One summary line: "sent=... received=... verified=... mismatched=... missing=... elapsed=...s rate=... msg/s p50=...us p99=...us max=...us",
	/// then " subprotocol=NAME" when the server selected one, then, when deflate was offered,
	/// " deflate=on" (or "declined", or "partial(N/M)" connections) and the bytes both ways:
	/// " payload-out=...B wire-out=...B (..%) payload-in=...B wire-in=...B (..%)".
	std::string line() const;
	/// The deflate part of line() alone ("" when deflate was not offered), without the leading space.
	std::string deflateText() const;
};

class LoadRun
{
public:
	explicit LoadRun(LoadOptions options);

	/// Runs on the calling thread until every reply arrived, a failure, or cancel(). Calls
	/// `progress` from this thread about every progressIntervalMs. Never throws: failures are
	/// in LoadSummary::error.
	LoadSummary run(const std::function<void(const LoadProgress&)>& progress = {}, unsigned progressIntervalMs = 100);

	/// Stops a running run() soon (thread-safe); the summary says cancelled.
	void cancel() noexcept { _cancel.store(true); }

	const LoadOptions& options() const noexcept { return _options; }

private:
	LoadOptions _options;
	std::atomic<bool> _cancel{false};
};

} // namespace client
} // namespace parley

#endif
