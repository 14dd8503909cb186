//
// LoadRunner.h — the inside of LoadRun (not installed): the connection state and the Runner that
// drives every connection from one epoll loop. LoadRun.cpp has set-up, the loop, TLS and the
// connection's life; LoadFrames.cpp the per-message path (frames read, replies checked,
// messages written).
//
#ifndef PARLEY_CLIENT_LOADRUNNER_INCLUDED
#define PARLEY_CLIENT_LOADRUNNER_INCLUDED

#include "parley/client/LoadRun.h"
#include "ClientDeflate.h"
#include "ClientHandshake.h"
#include "ClientSocket.h"
#include "ClientTls.h"
#include "LatencyHistogram.h"
#include "MaskGenerator.h"
#include "MessageId.h"
#include "OutputBuffer.h"
#include "parley/client/Url.h"
#include "parley/codec/FrameDecoder.h"
#include "parley/codec/FrameEncoder.h"
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace parley {
namespace client {
namespace load {

using Clock = std::chrono::steady_clock;

inline std::int64_t nowNanos() noexcept
{
	return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

/// Stops the run: what() is the summary's error line.
class RunError : public std::runtime_error
{
public:
	using std::runtime_error::runtime_error;
};

/// Shows a payload for an error line: printable ASCII as is, the rest escaped, cut at 80 bytes.
inline std::string show(std::string_view data)
{
	static const char hex[] = "0123456789abcdef";
	std::string out = "'";
	std::size_t limit = std::min<std::size_t>(data.size(), 80);
	for (std::size_t i = 0; i < limit; ++i)
	{
		unsigned char c = static_cast<unsigned char>(data[i]);
		if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'')
			out += static_cast<char>(c);
		else
		{
			out += "\\x";
			out += hex[c >> 4];
			out += hex[c & 0xF];
		}
	}
	out += "'";
	if (data.size() > limit)
		out += "... (" + std::to_string(data.size()) + " bytes)";
	return out;
}

/// Masks a payload in place (mask offset 0), eight bytes at a time.
inline void maskPayload(char* data, std::size_t size, const std::uint8_t* key) noexcept
{
	std::uint32_t k32;
	std::memcpy(&k32, key, 4);
	const std::uint64_t k64 = (std::uint64_t(k32) << 32) | k32;
	std::size_t i = 0;
	for (; i + 8 <= size; i += 8)
	{
		std::uint64_t v;
		std::memcpy(&v, data + i, 8);
		v ^= k64;
		std::memcpy(data + i, &v, 8);
	}
	for (; i < size; ++i)
		data[i] = static_cast<char>(data[i] ^ key[i & 3]);
}

/// Compares short byte strings without a library call.
inline bool sameBytes(const char* a, const char* b, std::size_t n) noexcept
{
	if (n > 32)
		return std::memcmp(a, b, n) == 0;
	for (std::size_t i = 0; i < n; ++i)
		if (a[i] != b[i])
			return false;
	return true;
}

struct Connection
{
	Connection(unsigned i, std::uint64_t q, unsigned window, std::uint64_t maxMessageSize) :
		index(i), quota(q), decoder(codec::Role::Client, maxMessageSize), sentAt(window, 0), sendId(i), expectId(i)
	{
	}

	unsigned index;
	std::uint64_t quota;       // messages this connection sends
	ClientSocket socket;
	bool tcpConnected = false;
	bool open = false;         // handshake done
	bool writable = false;     // last send did not hit EAGAIN (edge-triggered epoll)
	bool closeSent = false;
	bool finished = false;     // close handshake done or connection gone (closing phase)
	std::unique_ptr<ClientHandshake> handshake;
	std::unique_ptr<TlsTransport> tls;  // wss:// only
	bool readWantsWrite = false;        // TLS: a read waits for the socket to be writable
	bool writeWantsRead = false;        // TLS: a write waits for the socket to be readable
	codec::FrameDecoder decoder;
	std::unique_ptr<ClientDeflate> deflate;  // permessage-deflate, when negotiated
	MaskGenerator masks;
	OutputBuffer out;
	std::uint64_t nextSend = 0;     // sequence number of the next message to send
	std::uint64_t nextExpect = 0;   // sequence number the next reply answers
	std::vector<std::int64_t> sentAt;  // send time by seq % window
	MessageId sendId;               // "<index>:<nextSend>"
	MessageId expectId;             // "<index>:<nextExpect>"
	std::int64_t lastActivity = 0;  // last reply, or first send into an empty window

	std::uint64_t inFlight() const noexcept { return nextSend - nextExpect; }
	bool done() const noexcept { return nextExpect >= quota; }
};

class Runner
{
public:
	Runner(const LoadOptions& options, std::atomic<bool>& cancel) : _o(options), _cancel(cancel) {}
	~Runner()
	{
		if (_epoll >= 0)
			::close(_epoll);
	}

	LoadSummary run(const std::function<void(const LoadProgress&)>& progress, unsigned progressIntervalMs);

private:
	void setUp();
	void onEvent(Connection& c, std::uint32_t events);
	void readAll(Connection& c, std::uint32_t events);
	void onTlsEvent(Connection& c, std::uint32_t events);
	void stepTls(Connection& c);
	void readAllTls(Connection& c);
	void flushTls(Connection& c);
	void ended(Connection& c);
	void opened(Connection& c);
	[[noreturn]] void handshakeFailed(Connection& c);
	void endRefusal(Connection& c);
	void readFailed(Connection& c, const std::string& why);
	void writeFailed(Connection& c, const std::string& why);
	void finish(Connection& c) noexcept;
	void processFrames(Connection& c, char* data, std::size_t size);
	[[noreturn]] void protocolError(Connection& c, std::uint16_t code, const std::string& what);
	void onReply(Connection& c, codec::FrameDecoder::EventType type, std::string_view payload);
	void mismatch(Connection& c, std::uint64_t seq, const std::string& what);
	void fill(Connection& c);
	void fillCompressed(Connection& c, std::uint64_t k);
	void flush(Connection& c);
	void closeAll();
	std::size_t messageId(char* dst, unsigned conn, std::uint64_t seq) const noexcept;
	std::string expectedText(unsigned conn, std::uint64_t seq) const;
	void checkTimeouts(std::int64_t now);

	const LoadOptions& _o;
	std::atomic<bool>& _cancel;
	Url _url;
	std::unique_ptr<TlsContext> _tls;  // wss:// only
	int _epoll = -1;
	std::vector<std::unique_ptr<Connection>> _conns;
	std::vector<char> _readBuffer;
	std::string _padding;       // the filler after "<conn>:<seq>" up to `size`
	std::string _scratch;       // for pongs and close frames
	std::string _plain;         // deflate: a message before compression
	std::string _inflated;      // deflate: a reply after inflating
	codec::Opcode _opcode = codec::Opcode::Text;
	bool _exchanging = false;
	bool _closing = false;
	std::int64_t _now = 0;
	std::int64_t _start = 0;
	LoadSummary _s;
	LatencyHistogram _latency;
	double _recentSum = 0;
	std::uint64_t _recentCount = 0;
};


} // namespace load
} // namespace client
} // namespace parley

#endif
