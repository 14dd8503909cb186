//
// Admission.h — decides what a request head on the public port gets: the 101 that makes it a
// WebSocket on a route, or a short HTTP refusal. No I/O; evaluated on the event loop.
//
#ifndef PARLEY_HOST_ADMISSION_INCLUDED
#define PARLEY_HOST_ADMISSION_INCLUDED

#include <cstdint>
#include <string>
#include <string_view>

namespace parley {
namespace host {

class HostContext;

/// The outcome of one request head.
struct Verdict
{
	int status = 0;              ///< 101, or the refusal's status (400, 404, 405, 426, 431, 503)
	std::uint16_t route = 0;     ///< 101: the route id
	std::string response;        ///< the bytes to send: the 101 head, or a whole HTTP answer
	std::string reason;          ///< a refusal's reason, for logs ("missing Host header", ...)
};

/// Refusals, checked in this order: a malformed head (400) or one with too many or too long
/// fields (431); no Host or two (400); a target that is not a path (400); a path that is no
/// route (404, any method); not GET (405, Allow: GET); two Sec-WebSocket-Key or
/// Sec-WebSocket-Version fields, or an upgrade request with a body (Content-Length > 0,
/// Transfer-Encoding) (400); then RFC 6455 §4.2.1 through codec::Handshake: HTTP/1.0 or a bad key
/// (400), no upgrade or a version other than 13 (426, with Upgrade and Sec-WebSocket-Version).
class Admission
{
public:
	explicit Admission(const HostContext& context) : _context(context) {}

	/// Evaluates a complete request head (as HttpHead::findEnd delimited it). Never throws for
	/// bad input: that is a refusal.
	Verdict evaluate(std::string_view head) const;

	/// The answer to a request beyond engine.max_connections: 503.
	static Verdict overCapacity();

private:
	const HostContext& _context;
};

} // namespace host
} // namespace parley

#endif
