//
// ProxyHeader.h — the PROXY protocol header (HAProxy's proxy-protocol.txt, v1 text and v2
// binary) that a proxy sends before the client's bytes: a pure, resumable parser over the bytes
// received so far (no I/O), and the check of the proxy's address against server.trusted_proxies.
//
#ifndef PARLEY_HOST_PROXYHEADER_INCLUDED
#define PARLEY_HOST_PROXYHEADER_INCLUDED

#include "PeerLimits.h"
#include "parley/config/AddressPrefix.h"
#include <cstddef>
#include <cstdint>
#include <vector>

namespace parley {
namespace host {

struct ProxyHeader
{
	/// A v1 header is at most 107 bytes, CRLF included (proxy-protocol.txt 2.1).
	static constexpr std::size_t V1MaxBytes = 107;
	/// A v2 header is 16 bytes and up to this many after them (addresses and TLVs; the format
	/// allows 65535, HAProxy sends a few hundred at most).
	static constexpr std::size_t V2MaxLength = 2048;

	enum class Status : std::uint8_t
	{
		Incomplete,   ///< a valid beginning: wait for more bytes
		Invalid,      ///< not a header of the configured version (see `error`)
		Done          ///< a whole header of `size` bytes
	};

	Status status = Status::Incomplete;
	std::size_t size = 0;       ///< Done: the header's length; the bytes after it belong to the next layer
	bool hasSource = false;     ///< Done: `source` is the client's (false: LOCAL, UNKNOWN, UNSPEC or UNIX: keep the socket's peer)
	PeerAddress source;         ///< Done and hasSource: the client's address and port
	const char* error = "";     ///< Invalid: why, in a few words

	/// Parses the first `size` bytes a connection received as a header of `version` (1 or 2).
	/// Never reads past `size`; judges as early as the bytes allow (a first byte that cannot
	/// start the header is Invalid at once).
	static ProxyHeader parse(const char* data, std::size_t size, unsigned version);

	/// The most bytes a header of `version` may take (v1: 107; v2: 16 + V2MaxLength).
	static constexpr std::size_t maxBytes(unsigned version) noexcept { return version == 1 ? V1MaxBytes : 16 + V2MaxLength; }

	/// True if `peer` lies in one of `trusted`.
	static bool trusted(const std::vector<AddressPrefix>& trusted, const PeerAddress& peer) noexcept;
};

} // namespace host
} // namespace parley

#endif
