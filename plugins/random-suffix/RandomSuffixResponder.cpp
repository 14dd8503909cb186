//
// RandomSuffixResponder.cpp — the default plugin: replies with the message, a separator and a
// random integer in [min, max]. Each instance (one per event loop) owns its generator.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <stdexcept>

namespace {

const parley::SettingInfo kSettings[] = {
	{"separator", "\" \"", "text between the message and the number; quote it to keep spaces"},
	{"min", "0", "smallest number (a 64-bit integer)"},
	{"max", "999999", "largest number (>= min)"},
};

std::int64_t parseInteger(const parley::Settings& settings, const std::string& key, std::int64_t def)
{
	auto it = settings.find(key);
	if (it == settings.end()) return def;
	const std::string& text = it->second;
	std::int64_t value = 0;
	auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
	if (ec != std::errc() || end != text.data() + text.size() || text.empty())
		throw std::invalid_argument(key + ": '" + text + "' is not an integer");
	return value;
}

/// A value written "like this" keeps its spaces (properties files trim values); unquoted text is
/// taken as it is.
std::string unquote(const std::string& text)
{
	if (text.size() >= 2 && text.front() == '"' && text.back() == '"') return text.substr(1, text.size() - 2);
	return text;
}

/// xoshiro256** (Blackman and Vigna): a small, fast 64-bit generator with 256 bits of state,
/// seeded through splitmix64. Not for secrets; plenty for a suffix.
class Xoshiro256
{
public:
	explicit Xoshiro256(std::uint64_t seed)
	{
		for (auto& word : _s)
		{
			seed += 0x9E3779B97F4A7C15ull;
			std::uint64_t z = seed;
			z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
			z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
			word = z ^ (z >> 31);
		}
	}

	std::uint64_t next() noexcept
	{
		const std::uint64_t result = rotl(_s[1] * 5, 7) * 9;
		const std::uint64_t t = _s[1] << 17;
		_s[2] ^= _s[0];
		_s[3] ^= _s[1];
		_s[1] ^= _s[2];
		_s[0] ^= _s[3];
		_s[2] ^= t;
		_s[3] = rotl(_s[3], 45);
		return result;
	}

private:
	static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
	std::uint64_t _s[4];
};

/// Writes `value` in decimal at `out`; returns the number of characters (at most 20).
std::size_t writeDecimal(char* out, std::int64_t value) noexcept
{
	static const char pairs[] =
		"0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849"
		"5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
	std::size_t sign = 0;
	std::uint64_t v = static_cast<std::uint64_t>(value);
	if (value < 0)
	{
		*out = '-';
		sign = 1;
		v = 0 - v;
	}
	// Digit count from the bit length (log10 2 ≈ 1233 / 4096), corrected by one comparison.
	static const std::uint64_t powers[20] = {1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
		10000000ull, 100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
		10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
		100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull};
	const unsigned bits = 64u - static_cast<unsigned>(__builtin_clzll(v | 1));
	const unsigned guess = (bits * 1233u) >> 12;
	const std::size_t digits = guess + ((v | 1) >= powers[guess] ? 1 : 0);
	char* p = out + sign + digits;
	while (v >= 100)
	{
		const std::size_t two = static_cast<std::size_t>(v % 100) * 2;
		v /= 100;
		*--p = pairs[two + 1];
		*--p = pairs[two];
	}
	if (v >= 10)
	{
		*--p = pairs[v * 2 + 1];
		*--p = pairs[v * 2];
	}
	else
	{
		*--p = static_cast<char>('0' + v);
	}
	return sign + digits;
}

} // namespace

class RandomSuffixResponder: public parley::Responder
{
public:
	RandomSuffixResponder(): _random(seed())
	{
		setRange(0, 999999);
		setSeparator(" ");
	}

	void configure(const parley::Settings& settings) override
	{
		auto sep = settings.find("separator");
		if (sep != settings.end()) setSeparator(unquote(sep->second));
		const std::int64_t min = parseInteger(settings, "min", 0);
		const std::int64_t max = parseInteger(settings, "max", 999999);
		if (min > max) throw std::invalid_argument("max: " + std::to_string(max) + " is below min " + std::to_string(min));
		setRange(min, max);
	}

	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		// The message goes out from where it lies (no copy); the suffix is written once, after
		// the separator kept in _suffix, and appended with one call.
		const std::size_t length = _separatorSize + writeDecimal(&_suffix[_separatorSize], draw());
		reply.echo(message).append(_suffix.data(), length);
	}

private:
	static std::uint64_t seed()
	{
		std::random_device device;
		return (std::uint64_t(device()) << 32) ^ device();
	}

	void setSeparator(const std::string& separator)
	{
		_separatorSize = separator.size();
		_suffix = separator;
		_suffix.resize(_separatorSize + 20); // room for the longest number, "-9223372036854775808"
	}

	void setRange(std::int64_t min, std::int64_t max)
	{
		_min = min;
		// Values in [0, _span) are drawn; 0 stands for the whole 64-bit range.
		_span = static_cast<std::uint64_t>(max) - static_cast<std::uint64_t>(min) + 1;
		// Lemire's method: products whose low half falls below 2^64 mod span are redrawn, so
		// that every value is equally likely. Computed once here, so no division per message.
		_threshold = _span == 0 ? 0 : (0 - _span) % _span;
	}

	/// A uniformly distributed integer in [min, max].
	std::int64_t draw() noexcept
	{
		std::uint64_t x = _random.next();
		if (_span != 0)
		{
			unsigned __int128 product = static_cast<unsigned __int128>(x) * _span;
			while (static_cast<std::uint64_t>(product) < _threshold)
				product = static_cast<unsigned __int128>(_random.next()) * _span;
			x = static_cast<std::uint64_t>(product >> 64);
		}
		return static_cast<std::int64_t>(static_cast<std::uint64_t>(_min) + x);
	}

	Xoshiro256 _random;
	std::int64_t _min = 0;
	std::uint64_t _span = 0;
	std::uint64_t _threshold = 0;
	std::string _suffix;          ///< the separator, then room for the number
	std::size_t _separatorSize = 0;
};

PARLEY_DECLARE_PLUGIN(RandomSuffixResponder, "random-suffix", "1.0.0",
	"Replies with the message, a separator and a random integer", kSettings)
