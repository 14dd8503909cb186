//
// Utf8Validator.cpp — incremental RFC 3629 validation with an ASCII fast path.
//
#include "parley/codec/Utf8Validator.h"
#include <cstring>

namespace parley {
namespace codec {

namespace {

constexpr std::uint8_t Failed = 0xFF;
constexpr std::uint64_t HighBits = 0x8080808080808080ull;

/// Sets need/lower/upper for a lead byte; returns false if `b` can never start a sequence.
inline bool lead(std::uint8_t b, std::uint8_t& need, std::uint8_t& lower, std::uint8_t& upper) noexcept
{
	lower = 0x80;
	upper = 0xBF;
	if (b >= 0xC2 && b <= 0xDF)
	{
		need = 1;
		return true;
	}
	if (b >= 0xE0 && b <= 0xEF)
	{
		need = 2;
		if (b == 0xE0)
			lower = 0xA0; // no overlong 3-byte forms
		else if (b == 0xED)
			upper = 0x9F; // no surrogates
		return true;
	}
	if (b >= 0xF0 && b <= 0xF4)
	{
		need = 3;
		if (b == 0xF0)
			lower = 0x90; // no overlong 4-byte forms
		else if (b == 0xF4)
			upper = 0x8F; // nothing above U+10FFFF
		return true;
	}
	return false; // 0x80-0xC1 (continuation, overlong 2-byte), 0xF5-0xFF
}

} // namespace

bool Utf8Validator::feed(const char* data, std::size_t size) noexcept
{
	if (_state == Failed)
		return false;
	const auto* p = reinterpret_cast<const std::uint8_t*>(data);
	const auto* end = p + size;
	std::uint8_t need = _need;
	std::uint8_t lower = _lower;
	std::uint8_t upper = _upper;
	for (;;)
	{
		// Finish an open sequence.
		while (need != 0)
		{
			if (p == end)
			{
				_need = need;
				_lower = lower;
				_upper = upper;
				return true;
			}
			const std::uint8_t b = *p++;
			if (b < lower || b > upper)
			{
				_state = Failed;
				return false;
			}
			lower = 0x80;
			upper = 0xBF;
			--need;
		}
		// ASCII, 8 bytes at a time.
		while (end - p >= 8)
		{
			std::uint64_t w;
			std::memcpy(&w, p, 8);
			if (w & HighBits)
				break;
			p += 8;
		}
		while (p != end && *p < 0x80)
			++p;
		if (p == end)
		{
			_need = 0;
			_lower = 0x80;
			_upper = 0xBF;
			return true;
		}
		if (!lead(*p++, need, lower, upper))
		{
			_state = Failed;
			return false;
		}
	}
}

bool Utf8Validator::complete() const noexcept
{
	return _state != Failed && _need == 0;
}

bool Utf8Validator::ok() const noexcept
{
	return _state != Failed;
}

void Utf8Validator::reset() noexcept
{
	_state = 0;
	_need = 0;
	_lower = 0x80;
	_upper = 0xBF;
}

bool Utf8Validator::isValid(std::string_view s) noexcept
{
	Utf8Validator v;
	return v.feed(s.data(), s.size()) && v.complete();
}

} // namespace codec
} // namespace parley
