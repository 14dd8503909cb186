//
// FrameDecoderFuzz.cpp — feeds fuzz input to FrameDecoder whole, one byte at a time and in
// data-derived splits, for both roles, and checks invariants with abort():
// consumption never exceeds the input and NeedMore consumes all of it; every non-error event
// makes progress; payloads are bounded (input size, size limit, 125 for control frames); text and
// close reasons are valid UTF-8; close codes are valid; errors carry 1002/1007/1009 and are
// sticky; and all three ways of splitting the input give the same events.
//
#include "FrameDecoderFuzz.h"
#include "parley/codec/FrameDecoder.h"
#include "parley/codec/Utf8Validator.h"
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using parley::codec::FrameDecoder;
using parley::codec::Role;
using parley::codec::Utf8Validator;
namespace CloseCode = parley::codec::CloseCode;
using Type = FrameDecoder::EventType;

namespace {

void check(bool condition)
{
	if (!condition)
		std::abort();
}

struct Seen
{
	Type type;
	std::string payload;
	std::uint16_t closeCode;

	bool operator==(const Seen& other) const
	{
		return type == other.type && payload == other.payload && closeCode == other.closeCode;
	}
};

/// Cut points: every chunk length comes from the input itself (xorshift seeded by its bytes).
class Splitter
{
public:
	Splitter(const std::uint8_t* data, std::size_t size, unsigned mode):
		_state(2166136261u ^ mode),
		_mode(mode)
	{
		for (std::size_t i = 0; i < size; ++i)
			_state = (_state ^ data[i]) * 16777619u;
		if (_state == 0)
			_state = 1;
	}

	std::size_t next(std::size_t left)
	{
		if (_mode == 0)
			return left; // whole
		if (_mode == 1)
			return 1; // one byte at a time
		_state ^= _state << 13;
		_state ^= _state >> 17;
		_state ^= _state << 5;
		const std::size_t limit = (_state & 0x100) ? 3 : 64;
		const std::size_t n = 1 + _state % limit;
		return n < left ? n : left;
	}

private:
	std::uint32_t _state;
	unsigned _mode;
};

std::vector<Seen> run(Role role, std::uint64_t maxSize, const std::uint8_t* wire, std::size_t size, unsigned mode)
{
	std::vector<Seen> events;
	FrameDecoder decoder(role, maxSize);
	std::string buffer(reinterpret_cast<const char*>(wire), size); // decode() unmasks in place
	Splitter splitter(wire, size, mode);
	std::size_t start = 0;
	while (start < size)
	{
		const std::size_t end = start + splitter.next(size - start);
		std::size_t pos = start;
		for (;;)
		{
			FrameDecoder::Event e;
			char* chunk = &buffer[0] + pos;
			const std::size_t n = decoder.decode(chunk, end - pos, e);
			check(n <= end - pos);
			if (e.type == Type::NeedMore)
			{
				check(n == end - pos);
				check(e.payload.empty());
				break;
			}
			if (e.type == Type::Error)
			{
				check(e.closeCode == CloseCode::ProtocolError || e.closeCode == CloseCode::InvalidPayload ||
					e.closeCode == CloseCode::MessageTooBig);
				check(e.error != nullptr && e.error[0] != '\0');
				// Sticky: the same error again, nothing consumed, whatever comes next.
				FrameDecoder::Event again;
				check(decoder.decode(chunk + n, end - pos - n, again) == 0);
				check(again.type == Type::Error && again.closeCode == e.closeCode &&
					std::strcmp(again.error, e.error) == 0);
				check(decoder.decode(nullptr, 0, again) == 0 && again.type == Type::Error);
				events.push_back({e.type, std::string(), e.closeCode});
				return events;
			}
			check(n > 0); // every frame takes at least its 2-byte header
			check(e.payload.size() <= size);
			switch (e.type)
			{
			case Type::Text:
				check(Utf8Validator::isValid(e.payload));
				check(e.payload.size() <= maxSize);
				break;
			case Type::Binary:
				check(e.payload.size() <= maxSize);
				break;
			case Type::Ping:
			case Type::Pong:
				check(e.payload.size() <= 125);
				break;
			case Type::Close:
				check(e.payload.size() <= 123);
				check(Utf8Validator::isValid(e.payload));
				check(e.closeCode == CloseCode::NoStatus ? e.payload.empty() : CloseCode::isValidOnWire(e.closeCode));
				break;
			default:
				check(false);
			}
			events.push_back({e.type, std::string(e.payload), e.closeCode});
			pos += n;
		}
		start = end;
	}
	return events;
}

} // namespace

int parleyFuzzDecode(const std::uint8_t* data, std::size_t size)
{
	if (size < 1)
		return 0;
	static const std::uint64_t limits[8] = {0, 1, 7, 125, 126, 1000, 65536, 16u * 1024u * 1024u};
	const std::uint64_t maxSize = limits[data[0] & 7];
	const unsigned salt = data[0] >> 3;
	const std::uint8_t* wire = data + 1;
	const std::size_t wireSize = size - 1;
	for (Role role : {Role::Server, Role::Client})
	{
		const std::vector<Seen> whole = run(role, maxSize, wire, wireSize, 0);
		check(run(role, maxSize, wire, wireSize, 1) == whole);
		check(run(role, maxSize, wire, wireSize, 2 + salt) == whole);
	}
	return 0;
}
