//
// CloseCode.cpp — which RFC 6455 close codes may appear on the wire.
//
#include "parley/codec/Opcode.h"

namespace parley {
namespace codec {
namespace CloseCode {

bool isValidOnWire(std::uint16_t code)
{
	if (code >= 1000 && code <= 1003)
		return true;
	if (code >= 1007 && code <= 1014)
		return true;
	return code >= 3000 && code <= 4999;
}

} // namespace CloseCode
} // namespace codec
} // namespace parley
