//
// Url.h — ws:// URLs for the clients.
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
	std::uint16_t port = 80;
	std::string path = "/";    ///< path and query, always starting with '/'

	/// Parses "ws://host[:port][/path]". Throws std::invalid_argument with a one-line message
	/// ("bad URL 'x': ...") for anything else (wss:// is refused: Parley speaks plain ws).
	static Url parse(std::string_view text);

	/// "ws://host:port/path".
	std::string str() const;
};

} // namespace client
} // namespace parley

#endif
