//
// MessageId.h — the "<conn>:<seq>" text of LoadRun's messages, kept as decimal digits and
// incremented in place (no number formatting per message).
//
#ifndef PARLEY_CLIENT_MESSAGEID_INCLUDED
#define PARLEY_CLIENT_MESSAGEID_INCLUDED

#include <charconv>
#include <cstddef>
#include <cstring>

namespace parley {
namespace client {

class MessageId
{
public:
	/// Longest text: a 10-digit connection number, ':', a 20-digit sequence number.
	static constexpr std::size_t MaxSize = 31;
	/// data() may be read this many bytes far (a fixed-size copy is cheaper than a variable one).
	static constexpr std::size_t Copy = MaxSize + 1;

	/// Starts at "<conn>:0".
	explicit MessageId(unsigned conn) noexcept
	{
		char* p = std::to_chars(_text, _text + 10, conn).ptr;
		*p++ = ':';
		_prefix = static_cast<std::size_t>(p - _text);
		*p++ = '0';
		_size = _prefix + 1;
	}

	const char* data() const noexcept { return _text; }
	std::size_t size() const noexcept { return _size; }

	/// Advances to the next sequence number.
	void increment() noexcept
	{
		std::size_t i = _size;
		while (i > _prefix && _text[i - 1] == '9')
			_text[--i] = '0';
		if (i > _prefix)
		{
			++_text[i - 1];
			return;
		}
		std::memmove(_text + _prefix + 1, _text + _prefix, _size - _prefix);
		_text[_prefix] = '1';
		++_size;
	}

private:
	char _text[Copy] = {};
	std::size_t _prefix = 0;
	std::size_t _size = 0;
};

} // namespace client
} // namespace parley

#endif
