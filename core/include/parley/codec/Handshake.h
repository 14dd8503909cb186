//
// Handshake.h — RFC 6455 §4 opening handshake helpers, no I/O.
//
#ifndef PARLEY_CODEC_HANDSHAKE_INCLUDED
#define PARLEY_CODEC_HANDSHAKE_INCLUDED

#include <string>
#include <string_view>
#include <vector>

namespace parley {
namespace codec {

/// The parts of a client's upgrade request that the checks need (header values as received;
/// empty when absent).
struct UpgradeRequest
{
	std::string method;       ///< e.g. "GET"
	std::string httpVersion;  ///< e.g. "HTTP/1.1"
	std::string upgrade;      ///< Upgrade header
	std::string connection;   ///< Connection header
	std::string version;      ///< Sec-WebSocket-Version
	std::string key;          ///< Sec-WebSocket-Key
	std::string protocols;    ///< Sec-WebSocket-Protocol (comma-separated offers)
};

/// The answer to an upgrade request.
struct UpgradeVerdict
{
	int status = 101;        ///< 101, or 400 (bad request), 405 (not GET), 426 (not an upgrade / wrong version)
	std::string reason;      ///< human-readable reason for a refusal
	std::string accept;      ///< Sec-WebSocket-Accept value when status == 101
	std::string protocol;    ///< chosen subprotocol ("" = none)
};

class Handshake
{
public:
	/// The RFC 6455 GUID appended to the key.
	static constexpr const char* Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

	/// Returns base64(SHA-1(key + GUID)).
	static std::string acceptFor(std::string_view key);

	/// True if key is base64 of exactly 16 bytes (24 characters, ending in "==").
	static bool isValidKey(std::string_view key);

	/// A fresh random key (base64 of 16 random bytes) for a client.
	static std::string generateKey();

	/// True if c is an RFC 7230 tchar (letters, digits and !#$%&'*+-.^_`|~).
	static bool isTokenChar(char c) noexcept;

	/// True if s is a non-empty RFC 7230 token (a subprotocol name, an extension name, ...).
	static bool isToken(std::string_view s) noexcept;

	/// True if the comma-separated header value contains token (case-insensitive, trimmed).
	static bool hasToken(std::string_view headerValue, std::string_view token);

	/// Checks a server-side upgrade request; chooses the first of the client's offered
	/// subprotocols that is in `supported` (none if no match: that is not an error).
	static UpgradeVerdict evaluate(const UpgradeRequest& request, const std::vector<std::string>& supported = {});
};

} // namespace codec
} // namespace parley

#endif
