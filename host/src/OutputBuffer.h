//
// OutputBuffer.h — encoded output of one connection (or one read's replies) as a chain of
// fixed-size chunks from the loop's ChunkPool: appends never move what is queued, sent chunks go
// back at once, and the buffer knows where the frame being sent ends (so a cut connection can
// drop its backlog without breaking a frame already partly on the wire).
//
#ifndef PARLEY_HOST_OUTPUTBUFFER_INCLUDED
#define PARLEY_HOST_OUTPUTBUFFER_INCLUDED

#include "ChunkPool.h"
#include "parley/codec/FrameEncoder.h"
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <sys/uio.h>

namespace parley {
namespace host {

/// Frames (and, first, at most one raw HTTP answer) waiting to be written. Only the loop thread
/// that owns it touches a buffer.
class OutputBuffer
{
public:
	OutputBuffer() = default;
	OutputBuffer(const OutputBuffer&) = delete;
	OutputBuffer& operator=(const OutputBuffer&) = delete;
	~OutputBuffer() { release(); }

	/// Appends one final, unmasked frame whose payload is `head` followed by `tail`.
	void appendFrame(std::uint8_t opcode, std::string_view head, std::string_view tail = std::string_view())
	{
		const std::size_t size = head.size() + tail.size();
		if (size < 126 && static_cast<std::size_t>(_wend - _wpos) >= 2 + size)
		{
			// Small frame into the current chunk (the common case): two header bytes, written here.
			char* p = _wpos;
			_wpos += 2 + size;
			_size += 2 + size;
			p[0] = static_cast<char>(0x80 | opcode);
			p[1] = static_cast<char>(size);
			if (!head.empty()) std::memcpy(p + 2, head.data(), head.size());
			if (!tail.empty()) std::memcpy(p + 2 + head.size(), tail.data(), tail.size());
			return;
		}
		appendFrameSlow(opcode, head, tail);
	}

	/// Appends whole frames already encoded (a close frame).
	void appendEncoded(std::string_view frames) { put(frames.data(), frames.size()); }

	/// Appends bytes that are not a frame (an HTTP answer): only into an empty buffer, or after
	/// other raw bytes. They count as one unit: dropUnsent() keeps them.
	void appendRaw(std::string_view bytes)
	{
		if (_size == _unit) _unit += bytes.size();
		put(bytes.data(), bytes.size());
	}

	/// Fills `iov` with up to `max` pieces of the unsent bytes, in order; returns how many.
	int gather(iovec* iov, int max) noexcept
	{
		syncTail();
		int n = 0;
		for (const Chunk* c = _head; c != nullptr && n < max; c = c->next)
		{
			if (c->end == c->begin) continue;
			iov[n].iov_base = const_cast<char*>(c->data() + c->begin);
			iov[n].iov_len = c->end - c->begin;
			++n;
		}
		return n;
	}

	/// The first piece of the unsent bytes (size 0 if none).
	std::string_view front() noexcept
	{
		syncTail();
		return _head ? std::string_view(_head->data() + _head->begin, _head->end - _head->begin) : std::string_view();
	}

	/// Drops the first n bytes (n <= size()): they were written.
	void consume(std::size_t n);

	/// Drops everything after the unit (frame or raw answer) whose first bytes were already
	/// written; returns the bytes dropped. With nothing of a unit written yet, drops everything.
	std::size_t dropUnsent();

	/// Moves everything of `from` to the end of this buffer (which must be empty); `from` is
	/// left empty.
	void takeAll(OutputBuffer& from) noexcept
	{
		release();
		_head = from._head;
		_wpos = from._wpos;
		_wend = from._wend;
		_size = from._size;
		_unit = from._unit;
		from._head = nullptr;
		from._wpos = from._wend = nullptr;
		from._size = from._unit = 0;
	}

	/// Forgets the contents; keeps one chunk for the next appends (the loop's shared buffer).
	void reset() noexcept
	{
		if (_head == nullptr) return;
		if (_head->next != nullptr) ChunkPool::giveChain(_head->next);
		_head->next = nullptr;
		_head->begin = _head->end = 0;
		_wpos = _head->data();
		_wend = _wpos + ChunkData;
		_size = _unit = 0;
	}

	/// Forgets the contents and gives every chunk back.
	void release() noexcept
	{
		if (_head != nullptr) ChunkPool::giveChain(_head);
		_head = nullptr;
		_wpos = _wend = nullptr;
		_size = _unit = 0;
	}

	/// Returns the unsent bytes.
	std::size_t size() const noexcept { return _size; }
	bool empty() const noexcept { return _size == 0; }
	/// Returns true if the buffer holds a chunk (even with nothing in it).
	bool holdsMemory() const noexcept { return _head != nullptr; }

private:
	void appendFrameSlow(std::uint8_t opcode, std::string_view head, std::string_view tail);
	/// Appends bytes across chunks.
	void put(const char* data, std::size_t size);
	/// The length (header and payload) of the frame starting at the read position.
	std::size_t frameLength() const noexcept;
	/// The chunk being written (only with _wend set).
	Chunk* tail() const noexcept { return reinterpret_cast<Chunk*>(_wend - Chunk::Bytes); }
	/// Writes the write position into the tail chunk (its `end`), before the chain is read.
	void syncTail() noexcept
	{
		if (_wend != nullptr) tail()->end = static_cast<std::uint32_t>(_wpos - tail()->data());
	}
	/// Starts a new chunk at the end.
	void addChunk();

	Chunk* _head = nullptr;     // read end (begin: first unsent byte)
	char* _wpos = nullptr;      // where the next byte goes (in the last chunk; its `end` is synced lazily)
	char* _wend = nullptr;      // the end of the last chunk's data
	std::size_t _size = 0;      // unsent bytes
	std::size_t _unit = 0;      // bytes from the read position to the end of the unit being sent (0: at a boundary)
};

} // namespace host
} // namespace parley

#endif
