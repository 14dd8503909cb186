//
// OutputBuffer.cpp
//
#include "OutputBuffer.h"
#include <algorithm>

namespace parley {
namespace host {

void OutputBuffer::addChunk()
{
	Chunk* c = ChunkPool::take();
	if (_wend == nullptr)
	{
		_head = c;
	}
	else
	{
		syncTail();
		tail()->next = c;
	}
	_wpos = c->data();
	_wend = _wpos + ChunkData;
}

void OutputBuffer::put(const char* data, std::size_t size)
{
	while (size != 0)
	{
		if (_wpos == _wend) addChunk();
		const std::size_t n = std::min<std::size_t>(size, static_cast<std::size_t>(_wend - _wpos));
		std::memcpy(_wpos, data, n);
		_wpos += n;
		_size += n;
		data += n;
		size -= n;
	}
}

void OutputBuffer::appendFrameSlow(std::uint8_t opcode, std::string_view head, std::string_view tail)
{
	const std::size_t size = head.size() + tail.size();
	char header[codec::FrameEncoder::MaxHeaderSize];
	const std::size_t headerSize = codec::FrameEncoder::headerSize(size, false);
	codec::FrameEncoder::writeHeader(header, static_cast<codec::Opcode>(opcode), true, size, nullptr);
	// A small frame starts a new chunk rather than straddling two: the next one can use the fast path.
	if (_wend != nullptr && headerSize + size <= ChunkData && static_cast<std::size_t>(_wend - _wpos) < headerSize + size)
		addChunk();
	put(header, headerSize);
	put(head.data(), head.size());
	put(tail.data(), tail.size());
}

std::size_t OutputBuffer::frameLength() const noexcept
{
	// The header may straddle chunks: copy its first bytes out.
	unsigned char h[10];
	std::size_t got = 0;
	for (const Chunk* c = _head; c != nullptr && got < sizeof h; c = c->next)
	{
		const std::size_t n = std::min<std::size_t>(sizeof h - got, c->end - c->begin);
		std::memcpy(h + got, c->data() + c->begin, n);
		got += n;
	}
	if (got < 2) return _size;
	const std::uint64_t len = h[1] & 0x7f;
	if (len < 126) return 2 + len;
	if (len == 126) return got < 4 ? _size : 4 + ((std::size_t(h[2]) << 8) | h[3]);
	if (got < 10) return _size;
	std::uint64_t n = 0;
	for (int i = 2; i < 10; ++i) n = (n << 8) | h[i];
	return static_cast<std::size_t>(10 + n);
}

void OutputBuffer::consume(std::size_t n)
{
	if (n == _size)
	{
		// All of it went (the common case): no frame to follow.
		reset();
		return;
	}
	syncTail();
	while (n != 0)
	{
		if (_unit == 0) _unit = std::min(frameLength(), _size);
		std::size_t step = std::min(n, _unit);
		n -= step;
		_unit -= step;
		_size -= step;
		while (step != 0)
		{
			const std::size_t here = std::min<std::size_t>(step, _head->end - _head->begin);
			_head->begin += static_cast<std::uint32_t>(here);
			step -= here;
			if (_head->begin == _head->end && _head->next != nullptr)
			{
				Chunk* done = _head;
				_head = done->next;
				done->next = nullptr;
				ChunkPool::giveChain(done);
			}
		}
	}
}

std::size_t OutputBuffer::dropUnsent()
{
	const std::size_t keep = _unit;
	const std::size_t dropped = _size - keep;
	if (dropped == 0) return 0;
	syncTail();
	if (keep == 0)
	{
		release();
		return dropped;
	}
	// Find the chunk where the kept bytes end; give back the rest.
	std::size_t left = keep;
	Chunk* c = _head;
	for (;;)
	{
		const std::size_t here = c->end - c->begin;
		if (left <= here)
		{
			c->end = static_cast<std::uint32_t>(c->begin + left);
			break;
		}
		left -= here;
		c = c->next;
	}
	if (c->next != nullptr) ChunkPool::giveChain(c->next);
	c->next = nullptr;
	_wpos = c->data() + c->end;
	_wend = c->data() + ChunkData;
	_size = keep;
	return dropped;
}

} // namespace host
} // namespace parley
