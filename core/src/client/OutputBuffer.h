//
// OutputBuffer.h — a connection's unsent bytes: appended at the tail, sent from the head,
// grown without zero-filling.
//
#ifndef PARLEY_CLIENT_OUTPUTBUFFER_INCLUDED
#define PARLEY_CLIENT_OUTPUTBUFFER_INCLUDED

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace parley {
namespace client {

class OutputBuffer
{
public:
	/// Returns room for at least n more bytes at the tail; commit() what was written there.
	char* reserve(std::size_t n)
	{
		if (_offset > 0 && (_offset == _size || _capacity - _size < n))
		{
			std::memmove(_data.get(), _data.get() + _offset, _size - _offset);
			_size -= _offset;
			_offset = 0;
		}
		if (_capacity - _size < n)
		{
			std::size_t capacity = _capacity ? _capacity : 4096;
			while (capacity - _size < n)
				capacity *= 2;
			std::unique_ptr<char[]> data(new char[capacity]);
			if (_size)
				std::memcpy(data.get(), _data.get(), _size);
			_data = std::move(data);
			_capacity = capacity;
		}
		return _data.get() + _size;
	}

	/// Adds n bytes written after reserve().
	void commit(std::size_t n) noexcept { _size += n; }

	void append(std::string_view bytes)
	{
		std::memcpy(reserve(bytes.size()), bytes.data(), bytes.size());
		commit(bytes.size());
	}

	const char* pending() const noexcept { return _data.get() + _offset; }
	std::size_t pendingSize() const noexcept { return _size - _offset; }
	bool empty() const noexcept { return _size == _offset; }

	/// Drops n sent bytes from the head.
	void consume(std::size_t n) noexcept
	{
		_offset += n;
		if (_offset == _size)
			_offset = _size = 0;
	}

	void clear() noexcept { _offset = _size = 0; }

private:
	std::unique_ptr<char[]> _data;
	std::size_t _size = 0;
	std::size_t _offset = 0;
	std::size_t _capacity = 0;
};

} // namespace client
} // namespace parley

#endif
