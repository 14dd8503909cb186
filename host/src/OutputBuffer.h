//
// OutputBuffer.h — a growable byte buffer for encoded frames: appends without zero-filling and
// keeps its memory until released.
//
#ifndef PARLEY_HOST_OUTPUTBUFFER_INCLUDED
#define PARLEY_HOST_OUTPUTBUFFER_INCLUDED

#include "parley/codec/FrameEncoder.h"
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace parley {
namespace host {

class OutputBuffer
{
public:
	/// Returns a pointer to `n` new bytes at the end (contents undefined); may reallocate.
	char* extend(std::size_t n)
	{
		if (_capacity - _size < n) grow(_size + n);
		char* p = _data.get() + _size;
		_size += n;
		return p;
	}

	/// Appends bytes.
	void append(std::string_view bytes)
	{
		if (!bytes.empty()) std::memcpy(extend(bytes.size()), bytes.data(), bytes.size());
	}

	/// Appends one final, unmasked frame whose payload is `head` followed by `tail`.
	void appendFrame(std::uint8_t opcode, std::string_view head, std::string_view tail = std::string_view())
	{
		const std::size_t size = head.size() + tail.size();
		std::size_t header = 2;
		char* p;
		if (size < 126)
		{
			// Small frame (the common case): two header bytes, written here.
			p = extend(2 + size);
			p[0] = static_cast<char>(0x80 | opcode);
			p[1] = static_cast<char>(size);
		}
		else
		{
			header = codec::FrameEncoder::headerSize(size, false);
			p = extend(header + size);
			codec::FrameEncoder::writeHeader(p, static_cast<codec::Opcode>(opcode), true, size, nullptr);
		}
		p += header;
		if (!head.empty()) std::memcpy(p, head.data(), head.size());
		if (!tail.empty()) std::memcpy(p + head.size(), tail.data(), tail.size());
	}

	/// Drops the first n bytes (n <= size()).
	void consume(std::size_t n)
	{
		std::memmove(_data.get(), _data.get() + n, _size - n);
		_size -= n;
	}

	/// Forgets the contents, keeps the memory.
	void clear() noexcept { _size = 0; }

	/// Forgets the contents and gives the memory back.
	void release() noexcept
	{
		_data.reset();
		_size = 0;
		_capacity = 0;
	}

	const char* data() const noexcept { return _data.get(); }
	std::size_t size() const noexcept { return _size; }
	std::size_t capacity() const noexcept { return _capacity; }
	bool empty() const noexcept { return _size == 0; }

private:
	void grow(std::size_t need)
	{
		std::size_t capacity = _capacity ? _capacity * 2 : 256;
		while (capacity < need) capacity *= 2;
		std::unique_ptr<char[]> data(new char[capacity]);
		if (_size) std::memcpy(data.get(), _data.get(), _size);
		_data = std::move(data);
		_capacity = capacity;
	}

	std::unique_ptr<char[]> _data;
	std::size_t _size = 0;
	std::size_t _capacity = 0;
};

} // namespace host
} // namespace parley

#endif
