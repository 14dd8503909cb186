//
// Deflate.cpp — permessage-deflate over zlib's raw deflate (RFC 7692 §7.2).
//
#include "parley/codec/Deflate.h"
#include "parley/codec/Opcode.h"
#include <zlib.h>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace parley {
namespace codec {

namespace {

/// Output is produced in chunks of at most this many bytes, so the size limit is checked often.
constexpr std::size_t Chunk = 16 * 1024;

/// The sync-flush marker RFC 7692 removes (§7.2.1) and restores (§7.2.2).
constexpr unsigned char Tail[4] = {0x00, 0x00, 0xff, 0xff};

/// Every zlib allocation carries its size in a header, so the state knows what it holds.
struct AllocHeader
{
	alignas(std::max_align_t) std::size_t size;
};

int clampInt(int value, int low, int high)
{
	return std::max(low, std::min(value, high));
}

} // namespace

/// The zlib stream and the bytes it holds; heap-allocated so its address (zlib's opaque) is stable.
struct ZState
{
	z_stream stream;
	std::size_t held = 0;

	ZState()
	{
		std::memset(&stream, 0, sizeof(stream));
		stream.zalloc = &ZState::allocate;
		stream.zfree = &ZState::release;
		stream.opaque = this;
	}

	static voidpf allocate(voidpf opaque, uInt items, uInt size)
	{
		const std::size_t bytes = std::size_t(items) * size;
		auto* header = static_cast<AllocHeader*>(std::malloc(sizeof(AllocHeader) + bytes));
		if (header == nullptr)
			return Z_NULL;
		header->size = bytes;
		static_cast<ZState*>(opaque)->held += bytes;
		return header + 1;
	}

	static void release(voidpf opaque, voidpf address)
	{
		if (address == Z_NULL)
			return;
		auto* header = static_cast<AllocHeader*>(address) - 1;
		static_cast<ZState*>(opaque)->held -= header->size;
		std::free(header);
	}
};

struct MessageDeflater::State : ZState
{
	~State() { deflateEnd(&stream); }
};

struct MessageInflater::State : ZState
{
	~State() { inflateEnd(&stream); }
};

// --- MessageDeflater ---------------------------------------------------------------------------

MessageDeflater::MessageDeflater(const Settings& settings):
	_settings(settings)
{
	_settings.level = clampInt(_settings.level, 0, 9);
	_settings.windowBits = clampInt(_settings.windowBits, 9, 15);
	_settings.memLevel = clampInt(_settings.memLevel, 1, 9);
}

MessageDeflater::~MessageDeflater() = default;
MessageDeflater::MessageDeflater(MessageDeflater&&) noexcept = default;
MessageDeflater& MessageDeflater::operator=(MessageDeflater&&) noexcept = default;

bool MessageDeflater::ensureState()
{
	if (_state)
		return true;
	auto state = std::make_unique<State>();
	if (deflateInit2(&state->stream, _settings.level, Z_DEFLATED, -_settings.windowBits, _settings.memLevel,
			Z_DEFAULT_STRATEGY) != Z_OK)
	{
		// deflateInit2 frees what it allocated on failure; State's deflateEnd is then harmless.
		return false;
	}
	_state = std::move(state);
	return true;
}

bool MessageDeflater::compress(std::string_view payload, std::string& out)
{
	return compress(payload, std::string_view(), out);
}

bool MessageDeflater::compress(std::string_view head, std::string_view tail, std::string& out)
{
	if (head.empty() && tail.empty())
	{
		// After our own sync flush the stream is byte-aligned, so the empty message is the
		// header byte of an empty stored block whose 00 00 ff ff the receiver restores. (zlib
		// emits nothing for a second flush in a row.)
		out += '\0';
		return true;
	}
	if (!ensureState())
		return false;
	z_stream& s = _state->stream;
	const std::size_t start = out.size();
	// Output room per deflate() call: enough for a small message in one go, 64 KiB at most.
	const std::size_t total = head.size() + tail.size();
	const std::size_t room =
		std::min<std::size_t>(deflateBound(&s, static_cast<uLong>(std::min<std::size_t>(total, 1u << 30))) + 8, 4 * Chunk);
	const std::string_view pieces[2] = {head, tail};
	for (int piece = 0; piece < 2; ++piece)
	{
		const std::string_view part = pieces[piece];
		const bool lastPiece = piece == 1 || tail.empty();
		if (part.empty())
			continue;
		s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(part.data()));
		// Messages beyond 4 GiB are fed in slices of uInt.
		std::size_t left = part.size();
		while (left != 0)
		{
			const uInt slice = static_cast<uInt>(std::min<std::size_t>(left, 1u << 30));
			s.avail_in = slice;
			left -= slice;
			const int flush = left == 0 && lastPiece ? Z_SYNC_FLUSH : Z_NO_FLUSH;
			int rc;
			do
			{
				const std::size_t old = out.size();
				out.resize(old + room);
				s.next_out = reinterpret_cast<Bytef*>(&out[old]);
				s.avail_out = static_cast<uInt>(room);
				rc = deflate(&s, flush);
				out.resize(old + room - s.avail_out);
				if (rc != Z_OK && rc != Z_BUF_ERROR)
				{
					out.resize(start);
					release();
					return false;
				}
			} while (s.avail_out == 0 || s.avail_in != 0);
		}
		if (lastPiece)
			break;
	}
	// Z_SYNC_FLUSH ends with an empty stored block whose last 4 bytes are 00 00 ff ff (§7.2.1).
	if (out.size() - start < 4 || std::memcmp(out.data() + out.size() - 4, Tail, 4) != 0)
	{
		out.resize(start);
		release();
		return false;
	}
	out.resize(out.size() - 4);
	if (!_settings.contextTakeover)
		deflateReset(&s);
	return true;
}

void MessageDeflater::release() noexcept
{
	_state.reset();
}

std::size_t MessageDeflater::memoryHeld() const noexcept
{
	return _state ? _state->held + sizeof(State) : 0;
}

// --- MessageInflater ---------------------------------------------------------------------------

MessageInflater::MessageInflater(const Settings& settings):
	_settings(settings)
{
	_settings.windowBits = clampInt(_settings.windowBits, 8, 15);
}

MessageInflater::~MessageInflater() = default;
MessageInflater::MessageInflater(MessageInflater&&) noexcept = default;
MessageInflater& MessageInflater::operator=(MessageInflater&&) noexcept = default;

std::uint16_t MessageInflater::closeCodeFor(Error error) noexcept
{
	switch (error)
	{
	case Error::TooBig:
		return CloseCode::MessageTooBig;
	case Error::Corrupt:
		return CloseCode::ProtocolError;
	case Error::NoMemory:
		return CloseCode::InternalError;
	case Error::None:
		break;
	}
	return 0;
}

bool MessageInflater::inflateSome(const unsigned char* data, std::size_t size, std::string& out,
	std::uint64_t maxSize, Error& error)
{
	if (_error != Error::None)
	{
		error = _error;
		return false;
	}
	const std::size_t start = out.size();
	auto fail = [&](Error e) {
		out.resize(start);
		_error = e;
		error = e;
		return false;
	};
	if (!_state)
	{
		auto state = std::make_unique<State>();
		if (inflateInit2(&state->stream, -_settings.windowBits) != Z_OK)
			return fail(Error::NoMemory);
		_state = std::move(state);
	}
	z_stream& s = _state->stream;
	s.next_in = const_cast<Bytef*>(data);
	s.avail_in = 0; // a failed call may have left some of its input behind
	std::size_t left = size;
	// Output room per inflate() call: from a guess at what this input yields (std::string zero-fills
	// what it grows by, so a 16 KiB room for a 300-byte message would cost more than inflating it),
	// doubling while zlib fills it, up to Chunk.
	std::size_t chunk = std::min<std::size_t>(Chunk, std::max<std::size_t>(256, size * 4));
	for (;;)
	{
		if (s.avail_in == 0 && left > 0)
		{
			const uInt slice = static_cast<uInt>(std::min<std::size_t>(left, 1u << 30));
			s.avail_in = slice;
			left -= slice;
		}
		// One byte more than the limit allows: producing it proves the message too big. (Not
		// allowed + 1 when that would wrap: a limit of 2^64 - 1 is no limit.)
		const std::uint64_t allowed = maxSize - _messageSize;
		const std::size_t room = allowed >= chunk ? chunk : static_cast<std::size_t>(allowed + 1);
		const std::size_t old = out.size();
		out.resize(old + room);
		s.next_out = reinterpret_cast<Bytef*>(&out[old]);
		s.avail_out = static_cast<uInt>(room);
		const int rc = inflate(&s, Z_SYNC_FLUSH);
		const std::size_t got = room - s.avail_out;
		out.resize(old + got);
		_messageSize += got;
		if (s.avail_out == 0)
			chunk = std::min(Chunk, chunk * 2);
		if (_messageSize > maxSize)
			return fail(Error::TooBig);
		switch (rc)
		{
		case Z_OK:
			if (s.avail_in == 0 && left == 0 && s.avail_out != 0)
				return true; // all input taken, all output out
			break;
		case Z_BUF_ERROR:
			// No progress possible: zlib wants more input (its output room was not the problem).
			if (s.avail_in == 0 && left == 0)
				return true;
			if (s.avail_out != 0)
				return fail(Error::Corrupt);
			break;
		case Z_STREAM_END:
		{
			// A block with BFINAL set ended the stream (§7.2.3.4). What follows (at least the
			// restored tail) starts a new stream that may refer back to the old window.
			std::vector<Bytef> window(std::size_t(1) << _settings.windowBits);
			uInt windowSize = static_cast<uInt>(window.size());
			if (inflateGetDictionary(&s, window.data(), &windowSize) != Z_OK || inflateReset(&s) != Z_OK ||
				(windowSize > 0 && inflateSetDictionary(&s, window.data(), windowSize) != Z_OK))
				return fail(Error::Corrupt);
			if (s.avail_in == 0 && left == 0)
				return true;
			break;
		}
		case Z_MEM_ERROR:
			return fail(Error::NoMemory);
		default: // Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR
			return fail(Error::Corrupt);
		}
	}
}

bool MessageInflater::feed(std::string_view part, std::string& out, std::uint64_t maxSize, Error& error)
{
	_messageIn += part.size();
	return inflateSome(reinterpret_cast<const unsigned char*>(part.data()), part.size(), out, maxSize, error);
}

bool MessageInflater::finish(std::string& out, std::uint64_t maxSize, Error& error)
{
	// Nothing to flush when the message had no payload at all, or when the stream has taken no
	// input since it (re)started (a BFINAL block ended the message exactly): feeding the tail
	// there would open a stored block that swallows the next message.
	const bool fresh = _messageIn == 0 || _state == nullptr || _state->stream.total_in == 0;
	if (!fresh && !inflateSome(Tail, sizeof(Tail), out, maxSize, error))
		return false;
	if (_error != Error::None)
	{
		error = _error;
		return false;
	}
	_messageSize = 0;
	_messageIn = 0;
	if (!_settings.contextTakeover && _state)
		inflateReset(&_state->stream);
	return true;
}

void MessageInflater::reset() noexcept
{
	_messageSize = 0;
	_messageIn = 0;
	_error = Error::None;
	if (_state)
		inflateReset(&_state->stream);
}

void MessageInflater::release() noexcept
{
	_state.reset();
	_messageSize = 0;
	_messageIn = 0;
	_error = Error::None;
}

std::size_t MessageInflater::memoryHeld() const noexcept
{
	return _state ? _state->held + sizeof(State) : 0;
}

} // namespace codec
} // namespace parley
