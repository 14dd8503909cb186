//
// FrameEncoder.h — writes RFC 6455 frames. No I/O; appends to caller-owned buffers.
//
#ifndef PARLEY_CODEC_FRAMEENCODER_INCLUDED
#define PARLEY_CODEC_FRAMEENCODER_INCLUDED

#include "parley/codec/Opcode.h"
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley {
namespace codec {

class FrameEncoder
{
public:
	/// Largest header: 2 + 8 (64-bit length) + 4 (mask).
	static constexpr std::size_t MaxHeaderSize = 14;

	/// OR it into a data opcode (appendFrame, writeHeader) to set RSV1: the first frame of a
	/// compressed message under permessage-deflate (RFC 7692 §6).
	static constexpr std::uint8_t Rsv1 = 0x40;

	/// `opcode` with RSV1 set.
	static constexpr Opcode compressed(Opcode opcode) noexcept
	{
		return static_cast<Opcode>(static_cast<std::uint8_t>(opcode) | Rsv1);
	}

	/// Returns the header size for a payload of `length` bytes.
	static std::size_t headerSize(std::uint64_t length, bool masked) noexcept;

	/// Writes a frame header to dst (at least MaxHeaderSize bytes) and returns its size.
	/// mask == nullptr: unmasked (server to client); otherwise the 4-byte masking key.
	static std::size_t writeHeader(char* dst, Opcode opcode, bool fin, std::uint64_t length,
		const std::uint8_t* mask) noexcept;

	/// Appends one whole frame (header + payload, masked when mask != nullptr) to out.
	static void appendFrame(std::string& out, Opcode opcode, std::string_view payload, bool fin = true,
		const std::uint8_t* mask = nullptr);

	/// Appends a close frame. code == CloseCode::NoStatus writes an empty close payload; the
	/// reason is cut to fit 123 bytes at a UTF-8 character boundary.
	static void appendClose(std::string& out, std::uint16_t code, std::string_view reason,
		const std::uint8_t* mask = nullptr);

	/// XORs data with the 4-byte mask, starting at mask position `offset` (0..3); returns the
	/// new offset. Used for masking and unmasking alike.
	static std::size_t applyMask(char* data, std::size_t size, const std::uint8_t* mask,
		std::size_t offset = 0) noexcept;
};

} // namespace codec
} // namespace parley

#endif
