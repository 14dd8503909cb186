//
// Deflate.h — the permessage-deflate codec of RFC 7692 §7.2: zlib raw deflate with the
// `00 00 ff ff` tail removed on the way out and restored on the way in. One message at a time,
// no I/O, no logging, no exceptions of its own (std::string may throw std::bad_alloc).
// Negotiation (which window bits, whether context is kept) is decided elsewhere; these classes
// take its result as settings.
//
#ifndef PARLEY_CODEC_DEFLATE_INCLUDED
#define PARLEY_CODEC_DEFLATE_INCLUDED

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace parley {
namespace codec {

/// How a MessageDeflater compresses (the result of negotiation plus local choices).
struct DeflaterSettings
{
	/// zlib compression level, 0 (stored, no compression) .. 9 (best); clamped into range.
	int level = 6;
	/// LZ77 window, 9..15 (512 B .. 32 KiB); clamped into range. zlib's raw deflate cannot
	/// use 8: deflateInit2 refuses -8 (zlib ≥ 1.2.9 would turn 8 into 9 only for the zlib
	/// wrapper). So a negotiation must not agree to compress with max_window_bits=8; the
	/// inflater side has no such limit.
	int windowBits = 15;
	/// zlib memLevel, 1..9; clamped. Memory for the hash and the pending output is
	/// 1 << (memLevel + 9) bytes: lower saves memory at some cost in speed and ratio.
	int memLevel = 8;
	/// Keep the window between messages (false = server/client_no_context_takeover).
	bool contextTakeover = true;
};

/// Compresses whole messages for the wire (RFC 7692 §7.2.1).
///
/// zlib state (about 1 << (windowBits + 2) plus 1 << (memLevel + 9) bytes, ~256 KiB with the
/// defaults) is created on the first compress() and freed by release() or the destructor, so an
/// idle deflater holds no zlib memory.
///
/// Sharing: with contextTakeover false every message is compressed from a reset stream, so the
/// deflater carries nothing from one message to the next (isShareable() is true). One such
/// deflater may then serve every connection of one thread (uWebSockets' shared compressor):
/// an idle connection costs no zlib memory. It is not thread-safe: one thread at a time.
/// With contextTakeover true the stream's window belongs to one connection's direction.
class MessageDeflater
{
public:
	using Settings = DeflaterSettings;

	/// Creates a deflater with the given settings (clamped into range); no zlib memory yet.
	explicit MessageDeflater(const Settings& settings = Settings());
	~MessageDeflater();
	MessageDeflater(MessageDeflater&&) noexcept;
	MessageDeflater& operator=(MessageDeflater&&) noexcept;
	MessageDeflater(const MessageDeflater&) = delete;
	MessageDeflater& operator=(const MessageDeflater&) = delete;

	/// Appends to `out` the compressed form of one whole message: raw deflate flushed with
	/// Z_SYNC_FLUSH, its final `00 00 ff ff` removed (an empty message gives the one byte 00).
	/// Without context takeover the stream is reset afterwards. Returns false (out unchanged,
	/// stream released) only if zlib could not allocate its state or reported an error.
	bool compress(std::string_view payload, std::string& out);

	/// The same for a message given in two pieces: `head` followed by `tail` (a reply that
	/// quotes the message it answers, then adds to it).
	bool compress(std::string_view head, std::string_view tail, std::string& out);

	/// Frees the zlib state; the next compress() creates it again (and starts a new window).
	void release() noexcept;

	/// Bytes currently held for zlib (its allocations plus the stream object); 0 when idle.
	std::size_t memoryHeld() const noexcept;

	/// True when no state survives between messages (no context takeover): see the class note.
	bool isShareable() const noexcept { return !_settings.contextTakeover; }

	/// The settings in use, after clamping.
	const Settings& settings() const noexcept { return _settings; }

private:
	struct State;

	bool ensureState();

	Settings _settings;
	std::unique_ptr<State> _state;
};

/// How a MessageInflater inflates (the result of negotiation).
struct InflaterSettings
{
	/// Window of the peer's compressor, 8..15 (clamped). 15 always works; lower saves memory
	/// when the peer agreed to a smaller window (client/server_max_window_bits).
	int windowBits = 15;
	/// Keep the window between messages (false = the peer's no_context_takeover).
	bool contextTakeover = true;
};

/// Inflates messages from the wire (RFC 7692 §7.2.2): the payloads of a message's frames are
/// fed in order with feed(), then finish() restores the `00 00 ff ff` tail and completes it.
///
/// The inflated size is checked while inflating: output is produced in bounded chunks and the
/// message fails with TooBig as soon as it would exceed maxSize, so a small frame that inflates
/// to gigabytes costs at most the limit. zlib state (~7 KiB plus 1 << windowBits) is created on
/// the first feed() and freed by release(). Also accepts senders that end blocks with BFINAL
/// (§7.2.3.4): the stream restarts with its window kept.
class MessageInflater
{
public:
	enum class Error : std::uint8_t
	{
		None,
		TooBig,   ///< the inflated message would exceed maxSize → close 1009
		Corrupt,  ///< the data is not a valid raw deflate stream → close 1002
		NoMemory  ///< zlib could not allocate its state → close 1011
	};

	using Settings = InflaterSettings;

	/// Creates an inflater with the given settings (clamped); no zlib memory yet.
	explicit MessageInflater(const Settings& settings = Settings());
	~MessageInflater();
	MessageInflater(MessageInflater&&) noexcept;
	MessageInflater& operator=(MessageInflater&&) noexcept;
	MessageInflater(const MessageInflater&) = delete;
	MessageInflater& operator=(const MessageInflater&) = delete;

	/// Inflates one more piece of the current message's compressed payload (any split, even
	/// one byte) and appends what it yields to `out`. maxSize bounds the whole message's
	/// inflated size (all feed() and finish() calls of the message together). Returns false
	/// and sets `error` on failure; then `out` is cut back to its size before this call and
	/// every call fails the same way until reset() or release().
	bool feed(std::string_view part, std::string& out, std::uint64_t maxSize, Error& error);

	/// Ends the current message: inflates the `00 00 ff ff` tail and appends the remaining
	/// output to `out`. Returns false with `error` like feed(). Afterwards the next feed()
	/// starts a new message (from a reset stream without context takeover).
	bool finish(std::string& out, std::uint64_t maxSize, Error& error);

	/// Forgets the current message, any error and the window; keeps the zlib memory.
	void reset() noexcept;

	/// Frees the zlib state (and forgets everything reset() does).
	void release() noexcept;

	/// Bytes currently held for zlib (its allocations plus the stream object); 0 when idle.
	std::size_t memoryHeld() const noexcept;

	/// The settings in use, after clamping.
	const Settings& settings() const noexcept { return _settings; }

	/// The close code a caller sends for an error: 1009, 1002, 1011 (0 for None).
	static std::uint16_t closeCodeFor(Error error) noexcept;

private:
	struct State;

	bool inflateSome(const unsigned char* data, std::size_t size, std::string& out, std::uint64_t maxSize,
		Error& error);

	Settings _settings;
	std::unique_ptr<State> _state;
	std::uint64_t _messageSize = 0;  ///< inflated bytes of the current message so far
	std::uint64_t _messageIn = 0;    ///< compressed bytes fed for the current message so far
	Error _error = Error::None;      ///< sticky
};

} // namespace codec
} // namespace parley

#endif
