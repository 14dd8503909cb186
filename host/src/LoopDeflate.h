//
// LoopDeflate.h — permessage-deflate (RFC 7692) for the connections of one event loop: each
// connection's agreed parameters, the compressors and decompressors, and the ones the loop
// shares between its connections.
//
#ifndef PARLEY_HOST_LOOPDEFLATE_INCLUDED
#define PARLEY_HOST_LOOPDEFLATE_INCLUDED

#include "OutputBuffer.h"
#include "parley/codec/Deflate.h"
#include "parley/codec/DeflateNegotiation.h"
#include "parley/config/HostConfig.h"
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace parley {
namespace host {

/// The deflate state of one connection that negotiated it. Small while idle: zlib state is made
/// on the first compressed message, and only where a window must survive between messages.
struct ConnectionDeflate
{
	codec::DeflateParams params;
	/// The host keeps its context (server_no_context_takeover not agreed): this connection's own
	/// compressor. Otherwise null and the loop's shared one serves it.
	std::unique_ptr<codec::MessageDeflater> deflater;
	/// The client keeps its context: this connection's own decompressor (its window is the
	/// client's history). Otherwise null and the loop's shared one serves it.
	std::unique_ptr<codec::MessageInflater> inflater;
};

/// Compression of one loop (loop thread only).
///
/// Without context takeover a compressor carries nothing from one message to the next, so one
/// per window size serves every connection of the loop (uWebSockets' shared compressor) and an
/// idle connection holds no zlib memory; the same goes for decompressing clients that agreed to
/// client_no_context_takeover. A broadcast is compressed once per window size for all the
/// connections that share a compressor (beginShared/endShared).
class LoopDeflate
{
public:
	/// `counters` is the loop's counter array (LoopState::counters).
	LoopDeflate(const DeflateConfig& config, std::uint64_t* counters);

	/// The state of a connection that agreed to `params`.
	std::unique_ptr<ConnectionDeflate> open(const codec::DeflateParams& params) const;

	/// Appends one final data frame whose payload is `head` followed by `tail`: compressed with
	/// RSV1 set when `d` is not null and the payload has engine.deflate.min_size bytes or more,
	/// else as is. If zlib fails (out of memory), the message goes out uncompressed.
	void appendMessage(ConnectionDeflate* d, OutputBuffer& out, std::uint8_t opcode, std::string_view head,
		std::string_view tail = std::string_view())
	{
		const std::size_t size = head.size() + tail.size();
		if (d == nullptr || size < _minSize)
			out.appendFrame(opcode, head, tail);
		else
			appendCompressed(*d, out, opcode, head, tail);
	}

	/// Between beginShared() and endShared() every message given to appendMessage is the same one
	/// (a broadcast): it is compressed once per shared compressor and reused.
	void beginShared() noexcept { _sharing = true; }
	void endShared() noexcept;

	/// Inflates the payload of a compressed message of `d`. Returns 0 and points `plain` at the
	/// message (valid until the next call), or returns the close code to fail the connection with
	/// (1009 past maxSize, 1002 for data that does not inflate, 1007 for text that is not UTF-8,
	/// 1011 when zlib has no memory) and sets `why`.
	std::uint16_t inflate(ConnectionDeflate& d, bool text, std::string_view wire, std::uint64_t maxSize,
		std::string_view& plain, const char*& why);

	/// Gives back the memory of large messages held by the scratch buffers.
	void trim();

	/// Bytes the loop's shared zlib state and scratch buffers hold now.
	std::size_t sharedMemory() const noexcept;

private:
	void appendCompressed(ConnectionDeflate& d, OutputBuffer& out, std::uint8_t opcode, std::string_view head,
		std::string_view tail);

	const DeflateConfig _config;
	const std::size_t _minSize;
	std::uint64_t* _counters;
	/// Shared compressors by window bits (index bits - 9), made on first use.
	std::array<std::unique_ptr<codec::MessageDeflater>, 7> _shared;
	/// Shared: the compressed form of the current broadcast per window (valid while _sharing).
	std::array<std::string, 7> _sharedOut;
	std::array<bool, 7> _sharedReady{};
	bool _sharing = false;
	codec::MessageInflater _sharedInflater;
	std::string _compressed;   ///< scratch: one compressed message
	std::string _plain;        ///< scratch: one inflated message
};

} // namespace host
} // namespace parley

#endif
