//
// Admission.h — decides what a request head on the public port gets: the 101 that makes it a
// WebSocket on a route, or a short HTTP refusal. No I/O; evaluated on the event loop.
//
#ifndef PARLEY_HOST_ADMISSION_INCLUDED
#define PARLEY_HOST_ADMISSION_INCLUDED

#include <cstdint>
#include "parley/codec/DeflateNegotiation.h"
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley {
namespace host {

class HostContext;

/// The outcome of one request head.
struct Verdict
{
	using Headers = std::vector<std::pair<std::string, std::string>>;

	int status = 0;              ///< 101, or the refusal's status (400, 403, 404, 405, 426, 429, 431, 503)
	std::uint16_t route = 0;     ///< 101: the route id
	std::string response;        ///< the bytes to send: the 101 head, or a whole HTTP answer
	std::string reason;          ///< a refusal's reason, for logs ("missing Host header", ...)
	enum class Cause : std::uint8_t { Other, Origin, Subprotocol };
	Cause cause = Cause::Other;  ///< a refusal's rule, for the counters
	// 101:
	std::string path;            ///< the route path
	std::string query;           ///< what followed '?' in the target
	std::string subprotocol;     ///< the selected one ("" if none)
	std::optional<codec::DeflateParams> deflate; ///< permessage-deflate was agreed (route.<path>.deflate)
	bool gated = false;          ///< the route has gates: they decide before the 101 is sent
	std::shared_ptr<const Headers> headers; ///< gated: the request's header fields, in order
};

/// Refusals, checked in this order: a malformed head (400) or one with too many or too long
/// fields (431); no Host or two (400); a target that is not a path (400); a path that is no
/// route (404, any method); not GET (405, Allow: GET); two Sec-WebSocket-Key or
/// Sec-WebSocket-Version fields, or an upgrade request with a body (Content-Length > 0,
/// Transfer-Encoding) (400); then RFC 6455 §4.2.1 through codec::Handshake: HTTP/1.0 or a bad key
/// (400), no upgrade or a version other than 13 (426, with Upgrade and Sec-WebSocket-Version);
/// then the route's options: an Origin outside the route's origins (or server.origins), or two
/// Origin fields (403); subprotocol offers none of which the route speaks, or any offer on a
/// route without subprotocols, or a malformed offer (400, the reason lists the route's list).
/// On a route with deflate on, the first acceptable permessage-deflate offer is answered in the
/// 101 (RFC 7692); offers that cannot be accepted are declined, never refused.
class Admission
{
public:
	explicit Admission(const HostContext& context) : _context(context) {}

	/// Evaluates a complete request head (as HttpHead::findEnd delimited it). Never throws for
	/// bad input: that is a refusal.
	Verdict evaluate(std::string_view head) const;

	/// The answer to a request beyond engine.max_connections: 503.
	static Verdict overCapacity();

	/// The answer to a client past a per-address limit: 429 (PeerLimits).
	static Verdict overPeerLimit(bool tooFast);

	/// A refusal: `status`, the reason as the body (one line), extra header fields.
	static Verdict refusal(int status, const std::string& reason, const Verdict::Headers& headers = {});

private:
	const HostContext& _context;
};

} // namespace host
} // namespace parley

#endif
