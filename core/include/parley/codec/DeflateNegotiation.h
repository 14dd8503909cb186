//
// DeflateNegotiation.h — RFC 7692 permessage-deflate negotiation (Sec-WebSocket-Extensions), no I/O.
//
#ifndef PARLEY_CODEC_DEFLATENEGOTIATION_INCLUDED
#define PARLEY_CODEC_DEFLATENEGOTIATION_INCLUDED

#include <optional>
#include <string>
#include <string_view>

namespace parley {
namespace codec {

/// What both ends agreed for one connection (RFC 7692 §7.1).
struct DeflateParams
{
	bool serverNoContextTakeover = false;  ///< the server resets its compressor after every message
	bool clientNoContextTakeover = false;  ///< the client resets its compressor after every message
	int serverMaxWindowBits = 15;          ///< LZ77 window (bits) the server compresses with at most (9..15)
	int clientMaxWindowBits = 15;          ///< LZ77 window (bits) the client compresses with at most (8..15)
};

/// The server's settings (`engine.deflate.*`). Window bits outside 9..15 are clamped into it;
/// validate() says which values a configuration loader should refuse.
struct DeflateServerConfig
{
	/// zlib compression level 0..9 (not used by the negotiation; carried for the codec).
	int level = 1;
	/// The largest window the server compresses with (9..15). Below 15 it is always announced as
	/// `server_max_window_bits`; a client's smaller `server_max_window_bits=N` lowers it to N.
	/// zlib cannot compress raw deflate with an 8-bit window, so an offer that demands
	/// `server_max_window_bits=8` is declined (the next offer is tried).
	int serverMaxWindowBits = 15;
	/// The server resets its compressor after every message and says so
	/// (`server_no_context_takeover`) even when the client did not ask: no per-connection window
	/// to keep, so an idle connection costs no zlib memory. When false the server keeps its
	/// context unless the client asks otherwise (a client's request is always honoured).
	bool serverNoContextTakeover = true;
	/// When the client offers `client_max_window_bits`, answer it with
	/// `client_max_window_bits=min(clientMaxWindowBits, offered value)`, limiting the window
	/// the server needs to inflate the client's messages. When false the parameter is left out
	/// of the answer and the client uses up to the value it offered (15 when it gave none).
	bool acceptClientMaxWindowBits = true;
	/// The client window the server asks for (9..15) when acceptClientMaxWindowBits applies.
	int clientMaxWindowBits = 15;
	/// Ask every client to reset its compressor after each message (`client_no_context_takeover`
	/// in the answer even when not offered), so the server's inflater keeps no window between
	/// messages. A client that offers `client_no_context_takeover` itself always gets it echoed.
	bool requestClientNoContextTakeover = false;
};

/// The client's offer (`parley-client --deflate`, the GUI option).
struct DeflateClientConfig
{
	/// zlib compression level 0..9 (not used by the negotiation; carried for the codec).
	int level = 1;
	/// Offer `client_max_window_bits` (the server may then limit the client's window).
	bool offerClientMaxWindowBits = true;
	/// The client's own window limit (9..15); below 15 it is sent as `client_max_window_bits=N`.
	int clientMaxWindowBits = 15;
	/// Below 15, ask the server for `server_max_window_bits=N` (8..15).
	int serverMaxWindowBits = 15;
	/// Declare that the client resets its compressor after every message.
	bool clientNoContextTakeover = false;
	/// Ask the server to reset its compressor after every message.
	bool serverNoContextTakeover = false;
};

/// The server's accepted configuration and the exact Sec-WebSocket-Extensions value to send.
struct DeflateAgreement
{
	DeflateParams params;
	std::string response;  ///< e.g. "permessage-deflate; server_no_context_takeover; client_max_window_bits=15"
};

/// How a client judges the server's Sec-WebSocket-Extensions answer.
enum class DeflateResponse
{
	Declined,  ///< no extension in the answer: go on without compression
	Accepted,  ///< exactly one valid permessage-deflate element: compress with the agreed params
	Invalid    ///< the answer breaks RFC 6455 §9.1 / RFC 7692 §7: the client must fail the connection
};

class DeflateNegotiation
{
public:
	/// The registered extension token.
	static constexpr const char* ExtensionName = "permessage-deflate";

	/// Server side. `headerValues` is the Sec-WebSocket-Extensions value (several header fields
	/// joined with ", "). Parses every extension element (RFC 6455 §9.1: parameters with and
	/// without values, quoted-string values with escapes, case-insensitive names), ignores other
	/// extensions, declines each permessage-deflate offer that has an unknown or duplicated
	/// parameter or an invalid value, and accepts the first acceptable one. Returns nothing when
	/// no offer is acceptable (then send no Sec-WebSocket-Extensions). Never throws.
	static std::optional<DeflateAgreement> negotiateServer(std::string_view headerValues, const DeflateServerConfig& config);

	/// Client side: the Sec-WebSocket-Extensions value to send, e.g.
	/// "permessage-deflate; client_max_window_bits". Never throws.
	static std::string clientOffer(const DeflateClientConfig& config);

	/// Client side: judges the server's answer to clientOffer(offered) (RFC 7692 §5, §7.1): only
	/// permessage-deflate, at most one element, no unknown or duplicated parameter,
	/// `client_max_window_bits` only if offered and never above the offered value,
	/// `server_max_window_bits` in 8..15 and never above a requested value. On Accepted, `out`
	/// holds the agreement; on Invalid, `*why` (if given) says why. Never throws.
	static DeflateResponse checkServerResponse(std::string_view response, const DeflateClientConfig& offered, DeflateParams& out, std::string* why = nullptr);

	/// Returns true only when checkServerResponse() says Accepted. On false, `*why` is empty when
	/// the server simply declined (go on uncompressed) and holds the reason when the client must
	/// fail the connection.
	static bool acceptServerResponse(std::string_view response, const DeflateClientConfig& offered, DeflateParams& out, std::string* why = nullptr);

	/// True if a configuration is usable as is: level 0..9 and window bits 9..15. On false,
	/// `*why` (if given) names the first bad field. Never throws.
	static bool validate(const DeflateServerConfig& config, std::string* why = nullptr);

	/// Same for a client configuration (serverMaxWindowBits may be 8..15).
	static bool validate(const DeflateClientConfig& config, std::string* why = nullptr);
};

} // namespace codec
} // namespace parley

#endif
