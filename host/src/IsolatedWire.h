//
// IsolatedWire.h — the frames the host and its isolated children exchange over a socketpair:
// a 32-bit length (of what follows it), a type byte, then the fields (integers in host byte
// order: both ends are the same binary on the same machine; strings as a 32-bit length and the
// bytes). Many frames travel in one write.
//
#ifndef PARLEY_HOST_ISOLATEDWIRE_INCLUDED
#define PARLEY_HOST_ISOLATEDWIRE_INCLUDED

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace parley {
namespace host {
namespace wire {

enum Type : std::uint8_t
{
	// host → child
	ChainDef = 1,    ///< u32 chain, u16 route, str route path, u32 stages, per stage: str name, str file, u32 n, n × (str key, str value)
	DropChain = 2,   ///< u32 chain
	Open = 3,        ///< u32 chain, u64 connection, str path, query, subprotocol, identity, address, u16 port, u8 tls, u32 n, n × (str, str)
	Close = 4,       ///< u32 chain, u64 connection
	Message = 5,     ///< u32 chain, u64 connection, u8 kind, str payload — answered by exactly one Reply or Failed, in order
	Counts = 6,      ///< u32 n, n × (u16 route, u64 connections): Outbox::connectionCount, every second
	// child → host
	Reply = 10,      ///< u8 action, u8 kind, u16 close code, str payload (a quoted message already in place)
	Failed = 11,     ///< str plugin, str error
	Push = 12,       ///< u16 route, u64 connection, u8 kind, str payload
	Broadcast = 13,  ///< u16 route, u8 kind, str payload
};

/// Bytes of the length field plus the type byte.
constexpr std::size_t HeaderSize = 5;

/// Appends one frame to a string: begin(), the fields, end().
class Writer
{
public:
	explicit Writer(std::string& out) : _out(out) {}

	void begin(Type type)
	{
		_start = _out.size();
		_out.append(4, '\0');
		_out.push_back(static_cast<char>(type));
	}
	void end()
	{
		const std::uint32_t size = static_cast<std::uint32_t>(_out.size() - _start - 4);
		std::memcpy(&_out[_start], &size, 4);
	}
	void u8(std::uint8_t v) { _out.push_back(static_cast<char>(v)); }
	void u16(std::uint16_t v) { raw(&v, 2); }
	void u32(std::uint32_t v) { raw(&v, 4); }
	void u64(std::uint64_t v) { raw(&v, 8); }
	void str(std::string_view s)
	{
		u32(static_cast<std::uint32_t>(s.size()));
		_out.append(s.data(), s.size());
	}
	/// A string made of two parts (a quoted message and what follows it).
	void str(std::string_view a, std::string_view b)
	{
		u32(static_cast<std::uint32_t>(a.size() + b.size()));
		_out.append(a.data(), a.size());
		_out.append(b.data(), b.size());
	}

private:
	void raw(const void* p, std::size_t n) { _out.append(static_cast<const char*>(p), n); }

	std::string& _out;
	std::size_t _start = 0;
};

/// Reads the fields of one frame; every read is bounded by the frame (ok() turns false past it).
class Reader
{
public:
	Reader(const char* data, std::size_t size) : _p(data), _end(data + size) {}

	bool ok() const { return _ok; }
	std::uint8_t u8()
	{
		std::uint8_t v = 0;
		raw(&v, 1);
		return v;
	}
	std::uint16_t u16()
	{
		std::uint16_t v = 0;
		raw(&v, 2);
		return v;
	}
	std::uint32_t u32()
	{
		std::uint32_t v = 0;
		raw(&v, 4);
		return v;
	}
	std::uint64_t u64()
	{
		std::uint64_t v = 0;
		raw(&v, 8);
		return v;
	}
	std::string_view str()
	{
		const std::uint32_t n = u32();
		if (!_ok || static_cast<std::size_t>(_end - _p) < n)
		{
			_ok = false;
			return {};
		}
		std::string_view s(_p, n);
		_p += n;
		return s;
	}

private:
	void raw(void* v, std::size_t n)
	{
		if (!_ok || static_cast<std::size_t>(_end - _p) < n)
		{
			_ok = false;
			return;
		}
		std::memcpy(v, _p, n);
		_p += n;
	}

	const char* _p;
	const char* _end;
	bool _ok = true;
};

/// The size of the frame at `data` (length field + type + body) if `available` bytes hold it
/// whole, else 0. `bodySize` gets the announced size (type + body) in any case once 4 bytes are there.
inline std::size_t frameSize(const char* data, std::size_t available, std::uint32_t& bodySize)
{
	if (available < 4) return 0;
	std::memcpy(&bodySize, data, 4);
	if (bodySize < 1 || available - 4 < bodySize) return 0;
	return 4 + static_cast<std::size_t>(bodySize);
}

} // namespace wire
} // namespace host
} // namespace parley

#endif
