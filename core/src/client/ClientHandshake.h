//
// ClientHandshake.h — the client side of the RFC 6455 opening handshake: builds the upgrade
// request and checks the server's response as its bytes arrive. No I/O.
//
#ifndef PARLEY_CLIENT_CLIENTHANDSHAKE_INCLUDED
#define PARLEY_CLIENT_CLIENTHANDSHAKE_INCLUDED

#include "parley/client/Url.h"
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace parley {
namespace client {

class ClientHandshake
{
public:
	enum class Result { NeedMore, Done, Failed };

	/// Prepares the request with a fresh Sec-WebSocket-Key. Throws std::invalid_argument for a
	/// header name or value that cannot be sent (empty name, CR/LF, reserved handshake header).
	ClientHandshake(const Url& url, const std::string& subprotocol = {},
		const std::vector<std::pair<std::string, std::string>>& headers = {});

	/// The whole HTTP upgrade request to send.
	const std::string& request() const noexcept { return _request; }

	/// Feeds response bytes. Returns Done once the response head is complete and valid (then
	/// `consumed` says how many of these bytes belonged to it: the rest are WebSocket frames),
	/// Failed with error() set, or NeedMore.
	Result feed(const char* data, std::size_t size, std::size_t& consumed);

	/// One line: "handshake refused: HTTP 404 Not Found", "handshake failed: bad Sec-WebSocket-Accept", ...
	const std::string& error() const noexcept { return _error; }
	/// The subprotocol the server chose ("" if none).
	const std::string& protocol() const noexcept { return _protocol; }

	/// Largest response head accepted.
	static constexpr std::size_t MaxResponseSize = 16 * 1024;

private:
	Result check();

	std::string _request;
	std::string _key;
	std::string _subprotocol;
	std::string _buffer;
	std::string _error;
	std::string _protocol;
};

} // namespace client
} // namespace parley

#endif
