//
// Utf8Validator.h — incremental UTF-8 validation (RFC 3629), fails at the first byte that
// proves a sequence invalid, also across calls (fragment boundaries).
//
#ifndef PARLEY_CODEC_UTF8VALIDATOR_INCLUDED
#define PARLEY_CODEC_UTF8VALIDATOR_INCLUDED

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace parley {
namespace codec {

class Utf8Validator
{
public:
	/// Feeds more bytes. Returns false as soon as the bytes seen so far can no longer be the
	/// prefix of valid UTF-8 (overlong forms, surrogates, > U+10FFFF, bad continuation bytes);
	/// after that it keeps returning false until reset().
	bool feed(const char* data, std::size_t size) noexcept;
	bool feed(std::string_view s) noexcept { return feed(s.data(), s.size()); }

	/// Returns true if everything fed so far is complete, valid UTF-8 (no sequence left open).
	bool complete() const noexcept;

	/// Returns true if nothing invalid has been seen (a sequence may still be open).
	bool ok() const noexcept;

	/// Forgets everything fed so far.
	void reset() noexcept;

	/// Validates a whole string in one go.
	static bool isValid(std::string_view s) noexcept;

private:
	std::uint8_t _state = 0;   // 0 = accept; implementation-defined otherwise
	std::uint8_t _need = 0;
	std::uint8_t _lower = 0x80;
	std::uint8_t _upper = 0xBF;
};

} // namespace codec
} // namespace parley

#endif
