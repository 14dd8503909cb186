//
// ClientHandshake.h — the client side of the RFC 6455 opening handshake: builds the upgrade
// request and checks the server's response as its bytes arrive. No I/O.
//
#ifndef PARLEY_CLIENT_CLIENTHANDSHAKE_INCLUDED
#define PARLEY_CLIENT_CLIENTHANDSHAKE_INCLUDED

#include "parley/client/Session.h"
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

	/// Prepares the request with a fresh Sec-WebSocket-Key. Throws std::invalid_argument (one
	/// line, see checkHandshakeOptions) for options that cannot be sent.
	ClientHandshake(const Url& url, const HandshakeOptions& options = {});

	/// The whole HTTP upgrade request to send.
	const std::string& request() const noexcept { return _request; }

	/// Feeds response bytes. Returns Done once the response head is complete and valid (then
	/// `consumed` says how many of these bytes belonged to it: the rest are WebSocket frames),
	/// Failed with error() set, or NeedMore. After a refusal's head (any status but 101) it
	/// returns NeedMore until the first line of its body came (or MaxBodyBytes of it, or its
	/// Content-Length), then Failed.
	Result feed(const char* data, std::size_t size, std::size_t& consumed);

	/// True while a refusal's body is being read: when the connection ends or the deadline
	/// passes now, call endOfResponse().
	bool readingRefusal() const noexcept { return _phase == Phase::Body; }
	/// Ends a refusal with the part of its body that came; sets error(). Returns Failed.
	Result endOfResponse();

	/// One line: "handshake refused: HTTP 403 Forbidden: origin https://x not allowed",
	/// "handshake failed: bad Sec-WebSocket-Accept", ...
	const std::string& error() const noexcept { return _error; }
	/// The server's answer: status, reason, a refusal's first body line, the selected subprotocol,
	/// whether permessage-deflate was negotiated and with which parameters.
	const HandshakeReply& reply() const noexcept { return _reply; }
	/// The subprotocol the server chose ("" if none).
	const std::string& protocol() const noexcept { return _reply.subprotocol; }

	/// Largest response head accepted.
	static constexpr std::size_t MaxResponseSize = 16 * 1024;
	/// Most bytes of a refusal's body read (for its first line).
	static constexpr std::size_t MaxBodyBytes = 4 * 1024;
	/// Most bytes of a refusal's body line shown.
	static constexpr std::size_t MaxMessageBytes = 200;

private:
	enum class Phase { Head, Body, Done };

	Result check();
	Result readBody();
	Result refused();

	std::string _request;
	std::string _key;
	std::vector<std::string> _offered;
	DeflateOptions _deflate;      // what was offered in Sec-WebSocket-Extensions (if enabled)
	std::string _buffer;
	std::string _error;
	HandshakeReply _reply;
	Phase _phase = Phase::Head;
	std::string _body;            // a refusal's body so far
	std::size_t _bodyLimit = 0;   // bytes of it to read at most
	bool _chunked = false;
};

} // namespace client
} // namespace parley

#endif
