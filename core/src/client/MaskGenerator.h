//
// MaskGenerator.h — cheap per-connection masking keys for client frames (xorshift64*).
//
#ifndef PARLEY_CLIENT_MASKGENERATOR_INCLUDED
#define PARLEY_CLIENT_MASKGENERATOR_INCLUDED

#include <cstdint>
#include <cstring>

namespace parley {
namespace client {

/// Masking keys for one connection. RFC 6455 asks for unpredictable keys so that a browser
/// script cannot choose the bytes on the wire; a native load client only needs them to vary.
class MaskGenerator
{
public:
	/// Seeds from `seed` (any value; 0 is replaced).
	explicit MaskGenerator(std::uint64_t seed = 0) noexcept { reseed(seed); }

	void reseed(std::uint64_t seed) noexcept { _state = seed ? seed : 0x9E3779B97F4A7C15ull; }

	/// Writes the next 4-byte key to key[0..3] and returns key.
	std::uint8_t* next(std::uint8_t* key) noexcept
	{
		_state ^= _state >> 12;
		_state ^= _state << 25;
		_state ^= _state >> 27;
		std::uint32_t v = static_cast<std::uint32_t>((_state * 0x2545F4914F6CDD1Dull) >> 32);
		std::memcpy(key, &v, 4);
		return key;
	}

private:
	std::uint64_t _state = 0;
};

} // namespace client
} // namespace parley

#endif
