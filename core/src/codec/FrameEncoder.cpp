//
// FrameEncoder.cpp — RFC 6455 frame headers, masking, close frames.
//
#include "parley/codec/FrameEncoder.h"
#include <cstring>

namespace parley {
namespace codec {

std::size_t FrameEncoder::headerSize(std::uint64_t length, bool masked) noexcept
{
	std::size_t n = 2;
	if (length > 0xFFFF)
		n += 8;
	else if (length >= 126)
		n += 2;
	return masked ? n + 4 : n;
}

std::size_t FrameEncoder::writeHeader(char* dst, Opcode opcode, bool fin, std::uint64_t length,
	const std::uint8_t* mask) noexcept
{
	auto* d = reinterpret_cast<std::uint8_t*>(dst);
	d[0] = static_cast<std::uint8_t>((fin ? 0x80u : 0u) | static_cast<unsigned>(opcode));
	const std::uint8_t maskBit = mask ? 0x80 : 0x00;
	std::size_t n;
	if (length < 126)
	{
		d[1] = static_cast<std::uint8_t>(maskBit | length);
		n = 2;
	}
	else if (length <= 0xFFFF)
	{
		d[1] = static_cast<std::uint8_t>(maskBit | 126);
		d[2] = static_cast<std::uint8_t>(length >> 8);
		d[3] = static_cast<std::uint8_t>(length);
		n = 4;
	}
	else
	{
		d[1] = static_cast<std::uint8_t>(maskBit | 127);
		for (int i = 0; i < 8; ++i)
			d[2 + i] = static_cast<std::uint8_t>(length >> (56 - 8 * i));
		n = 10;
	}
	if (mask)
	{
		std::memcpy(d + n, mask, 4);
		n += 4;
	}
	return n;
}

void FrameEncoder::appendFrame(std::string& out, Opcode opcode, std::string_view payload, bool fin,
	const std::uint8_t* mask)
{
	const std::size_t start = out.size();
	const std::size_t header = headerSize(payload.size(), mask != nullptr);
	out.resize(start + header + payload.size());
	char* dst = &out[start];
	writeHeader(dst, opcode, fin, payload.size(), mask);
	if (!payload.empty())
	{
		std::memcpy(dst + header, payload.data(), payload.size());
		if (mask)
			applyMask(dst + header, payload.size(), mask, 0);
	}
}

void FrameEncoder::appendClose(std::string& out, std::uint16_t code, std::string_view reason,
	const std::uint8_t* mask)
{
	if (code == CloseCode::NoStatus)
	{
		appendFrame(out, Opcode::Close, std::string_view(), true, mask);
		return;
	}
	char payload[125];
	payload[0] = static_cast<char>(code >> 8);
	payload[1] = static_cast<char>(code & 0xFF);
	std::size_t n = reason.size();
	if (n > 123)
	{
		// Cut before the character that would cross the limit: step back over continuation bytes.
		n = 123;
		while (n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80)
			--n;
	}
	if (n != 0)
		std::memcpy(payload + 2, reason.data(), n);
	appendFrame(out, Opcode::Close, std::string_view(payload, n + 2), true, mask);
}

std::size_t FrameEncoder::applyMask(char* data, std::size_t size, const std::uint8_t* mask,
	std::size_t offset) noexcept
{
	offset &= 3;
	std::uint8_t rotated[8];
	for (std::size_t i = 0; i < 8; ++i)
		rotated[i] = mask[(offset + i) & 3];
	std::uint64_t m;
	std::memcpy(&m, rotated, 8);
	std::size_t i = 0;
	if (size >= 64)
	{
		// 64 bytes a round in 16-byte vectors (SSE2 on x86-64, NEON on arm64).
		typedef std::uint64_t Vec __attribute__((vector_size(16)));
		const Vec mv = {m, m};
		for (; i + 64 <= size; i += 64)
		{
			Vec v[4];
			std::memcpy(v, data + i, 64);
			v[0] ^= mv;
			v[1] ^= mv;
			v[2] ^= mv;
			v[3] ^= mv;
			std::memcpy(data + i, v, 64);
		}
	}
	for (; i + 8 <= size; i += 8)
	{
		std::uint64_t w;
		std::memcpy(&w, data + i, 8);
		w ^= m;
		std::memcpy(data + i, &w, 8);
	}
	for (; i < size; ++i)
		data[i] = static_cast<char>(data[i] ^ rotated[i & 7]);
	return (offset + size) & 3;
}

} // namespace codec
} // namespace parley
