//
// Opcode.h — RFC 6455 frame opcodes and close codes.
//
#ifndef PARLEY_CODEC_OPCODE_INCLUDED
#define PARLEY_CODEC_OPCODE_INCLUDED

#include <cstdint>

namespace parley {
namespace codec {

/// RFC 6455 §5.2 opcodes.
enum class Opcode : std::uint8_t
{
	Continuation = 0x0,
	Text = 0x1,
	Binary = 0x2,
	Close = 0x8,
	Ping = 0x9,
	Pong = 0xA
};

/// RFC 6455 §7.4.1 status codes used by Parley.
namespace CloseCode {
constexpr std::uint16_t Normal = 1000;
constexpr std::uint16_t GoingAway = 1001;
constexpr std::uint16_t ProtocolError = 1002;
constexpr std::uint16_t UnsupportedData = 1003;
constexpr std::uint16_t NoStatus = 1005;        ///< never on the wire: close frame without a code
constexpr std::uint16_t Abnormal = 1006;        ///< never on the wire: connection lost without close
constexpr std::uint16_t InvalidPayload = 1007;
constexpr std::uint16_t PolicyViolation = 1008;
constexpr std::uint16_t MessageTooBig = 1009;
constexpr std::uint16_t MandatoryExtension = 1010;
constexpr std::uint16_t InternalError = 1011;

/// Returns true if `code` may be sent in a close frame (RFC 6455 §7.4): 1000-1003, 1007-1011,
/// 3000-4999. 1004, 1005, 1006, 1015, 1012-1014 (not registered by RFC 6455 itself) and
/// everything below 1000 or above 4999 are invalid. (1012-1014 are IANA-registered later; Parley
/// accepts them as valid, as most peers do.)
bool isValidOnWire(std::uint16_t code);
} // namespace CloseCode

} // namespace codec
} // namespace parley

#endif
