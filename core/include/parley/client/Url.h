//
// Url.h — ws:// and wss:// URLs for the clients.
//
#ifndef PARLEY_CLIENT_URL_INCLUDED
#define PARLEY_CLIENT_URL_INCLUDED

#include <cstdint>
#include <string>
#include <string_view>

namespace parley {
namespace client {

struct Url
{
	std::string host;          ///< host name or IPv4 address
	std::uint16_t port = 80;   ///< 80 for ws://, 443 for wss:// unless given
	std::string path = "/";    ///< path and query, always starting with '/'
	bool secure = false;       ///< wss:// (TLS)

	/// Parses "ws://host[:port][/path]" or "wss://host[:port][/path]" (scheme in any case).
	/// Throws std::invalid_argument with a one-line message ("bad URL 'x': ...") for anything else.
	static Url parse(std::string_view text);

	/// "ws://host:port/path" or "wss://host:port/path" (the port always shown).
	std::string str() const;

	/// The port a URL of this scheme has when it names none: 443 for wss://, 80 for ws://.
	std::uint16_t defaultPort() const noexcept { return secure ? 443 : 80; }
};

} // namespace client
} // namespace parley

#endif
