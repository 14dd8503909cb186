//
// InflateFuzz.cpp — feeds fuzz input to MessageInflater whole, one byte at a time and in
// data-derived splits, and checks invariants with abort(): output never exceeds the limit; a
// failed call leaves the output as it was; errors are sticky until reset(); all three ways of
// splitting a message give the same result; and whatever inflated re-compresses with
// MessageDeflater and inflates back to itself.
//
#include "InflateFuzz.h"
#include "parley/codec/Deflate.h"
#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using parley::codec::MessageDeflater;
using parley::codec::MessageInflater;
using InflateError = MessageInflater::Error;

namespace {

void check(bool condition)
{
	if (!condition)
		std::abort();
}

struct Result
{
	InflateError error;
	std::string output; // only when error is None

	bool operator==(const Result& other) const { return error == other.error && output == other.output; }
};

/// Piece lengths: whole, one byte, or from an xorshift seeded by the message's bytes.
class Splitter
{
public:
	Splitter(std::string_view data, unsigned mode):
		_state(2166136261u ^ mode),
		_mode(mode)
	{
		for (unsigned char c : data)
			_state = (_state ^ c) * 16777619u;
		if (_state == 0)
			_state = 1;
	}

	std::size_t next(std::size_t left)
	{
		if (_mode == 0)
			return left;
		if (_mode == 1)
			return 1;
		_state ^= _state << 13;
		_state ^= _state >> 17;
		_state ^= _state << 5;
		const std::size_t n = 1 + _state % ((_state & 0x100) ? 3 : 64);
		return std::min(n, left);
	}

private:
	std::uint32_t _state;
	unsigned _mode;
};

std::vector<Result> run(const MessageInflater::Settings& settings, std::uint64_t limit,
	const std::vector<std::string_view>& messages, unsigned mode)
{
	std::vector<Result> results;
	MessageInflater inflater(settings);
	for (std::string_view message : messages)
	{
		std::string out;
		InflateError error = InflateError::None;
		bool ok = true;
		Splitter splitter(message, mode);
		std::size_t at = 0;
		while (ok && at < message.size())
		{
			const std::size_t n = splitter.next(message.size() - at);
			const std::size_t before = out.size();
			ok = inflater.feed(message.substr(at, n), out, limit, error);
			check(out.size() <= limit);
			check(ok ? error == InflateError::None : (error != InflateError::None && out.size() == before));
			at += n;
		}
		if (ok)
		{
			const std::size_t before = out.size();
			ok = inflater.finish(out, limit, error);
			check(out.size() <= limit);
			check(ok || out.size() == before);
		}
		if (!ok)
		{
			check(error == InflateError::TooBig || error == InflateError::Corrupt);
			InflateError again = InflateError::None;
			std::string more;
			check(!inflater.feed(std::string_view("\x00", 1), more, limit, again) && again == error && more.empty());
			check(!inflater.finish(more, limit, again) && again == error && more.empty());
			results.push_back({error, std::string()});
			return results; // a connection ends at its first error
		}
		results.push_back({InflateError::None, out});
	}
	return results;
}

} // namespace

int parleyFuzzInflate(const std::uint8_t* data, std::size_t size)
{
	if (size < 1)
		return 0;
	static const std::uint64_t limits[8] = {0, 1, 5, 100, 1000, 65536, 1u << 20, 16u << 20};
	const std::uint64_t limit = limits[data[0] & 7];
	MessageInflater::Settings settings;
	settings.contextTakeover = (data[0] & 8) != 0;
	settings.windowBits = 8 + ((data[0] >> 4) & 7) + ((data[0] >> 7) & 1); // 8..15 (mostly)

	const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
	std::vector<std::string_view> messages;
	const std::string_view separator = "|PMD|";
	std::size_t start = 0;
	for (;;)
	{
		const std::size_t end = rest.find(separator, start);
		if (end == std::string_view::npos)
		{
			messages.push_back(rest.substr(start));
			break;
		}
		messages.push_back(rest.substr(start, end - start));
		start = end + separator.size();
	}

	const std::vector<Result> whole = run(settings, limit, messages, 0);
	check(run(settings, limit, messages, 1) == whole);
	check(run(settings, limit, messages, 2) == whole);

	// What inflated round-trips through the deflater with the same context rule.
	MessageDeflater::Settings deflaterSettings;
	deflaterSettings.contextTakeover = settings.contextTakeover;
	deflaterSettings.windowBits = std::max(9, settings.windowBits);
	deflaterSettings.level = data[0] % 10;
	MessageDeflater deflater(deflaterSettings);
	MessageInflater::Settings back = settings;
	back.windowBits = deflater.settings().windowBits;
	MessageInflater inflater(back);
	for (const Result& r : whole)
	{
		if (r.error != InflateError::None)
			break;
		std::string wire;
		check(deflater.compress(r.output, wire));
		std::string plain;
		InflateError error = InflateError::None;
		check(inflater.feed(wire, plain, r.output.size(), error));
		check(inflater.finish(plain, r.output.size(), error));
		check(plain == r.output);
	}
	return 0;
}
