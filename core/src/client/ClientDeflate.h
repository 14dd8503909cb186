//
// ClientDeflate.h — permessage-deflate (RFC 7692) for one client connection once it was
// negotiated: compresses outgoing messages and inflates incoming ones with the agreed parameters,
// through the codec's MessageDeflater / MessageInflater. No I/O.
//
#ifndef PARLEY_CLIENT_CLIENTDEFLATE_INCLUDED
#define PARLEY_CLIENT_CLIENTDEFLATE_INCLUDED

#include "parley/client/Session.h"
#include "parley/codec/Deflate.h"
#include "parley/codec/DeflateNegotiation.h"
#include "parley/codec/Opcode.h"
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley {
namespace client {

class ClientDeflate
{
public:
	/// Sets up both directions for an agreement: the client compresses with the agreed
	/// client_max_window_bits (at least 9: zlib has no 8-bit raw deflate window; negotiation
	/// refuses 8 anyway), keeps its window unless client_no_context_takeover, and uses the
	/// configured level; it inflates with server_max_window_bits, keeping the window unless
	/// server_no_context_takeover. No zlib memory is taken before the first message.
	ClientDeflate(const codec::DeflateParams& params, const DeflateOptions& options);

	/// Compresses one whole message into `out` (replacing its contents) and returns true when it
	/// goes compressed. Returns false, `out` unspecified, when it should be sent as it is: shorter
	/// than the minimum size, or zlib failed (RSV1 is per message, so that is always allowed).
	bool compress(std::string_view payload, std::string& out);

	/// Appends one whole message to `out` as a single masked client frame (RFC 6455 §5.3):
	/// compressed with RSV1 set (RFC 7692 §6) when compress() says so, else as it is. Returns its
	/// payload bytes on the wire; `compressed` says which way it went.
	std::size_t appendFrame(std::string& out, codec::Opcode opcode, std::string_view payload, const std::uint8_t* mask,
		bool& compressed);

	/// Inflates one whole compressed message (the payloads of its frames, as the decoder gathers
	/// them) into `out` (replacing its contents). Returns 0, or the close code that fails the
	/// connection with `why` set to one line: 1009 it inflates past maxSize, 1002 it is not valid
	/// deflate data, 1011 zlib has no memory, 1007 a text message that is not UTF-8 once inflated.
	/// After a failure the connection is over: nothing more is inflated.
	std::uint16_t inflate(std::string_view compressed, bool text, std::uint64_t maxSize, std::string& out, std::string& why);

	/// The agreed parameters.
	const codec::DeflateParams& params() const noexcept { return _params; }

private:
	codec::DeflateParams _params;
	std::size_t _minSize;
	codec::MessageDeflater _deflater;
	codec::MessageInflater _inflater;
	std::string _packed;  // the message being compressed
};

} // namespace client
} // namespace parley

#endif
