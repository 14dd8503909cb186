//
// FrameDecoder.h — resumable RFC 6455 decoder: frames, message assembly across fragments
// with interleaved control frames, UTF-8 checks, size limit. No I/O, no exceptions, no logging.
//
#ifndef PARLEY_CODEC_FRAMEDECODER_INCLUDED
#define PARLEY_CODEC_FRAMEDECODER_INCLUDED

#include "parley/codec/Opcode.h"
#include "parley/codec/Utf8Validator.h"
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace parley {
namespace codec {

/// Which side decodes: a Server requires masked frames from its client, a Client requires
/// unmasked frames from its server (RFC 6455 §5.1).
enum class Role : std::uint8_t { Server, Client };

class FrameDecoder
{
public:
	enum class EventType : std::uint8_t
	{
		NeedMore,  ///< all input consumed (or none usable): read more and call again
		Text,      ///< a whole text message (valid UTF-8)
		Binary,    ///< a whole binary message
		Ping,      ///< a ping with its payload (≤ 125 bytes)
		Pong,      ///< a pong with its payload
		Close,     ///< a valid close frame: closeCode (NoStatus if empty) and payload = reason
		Error      ///< a protocol violation: closeCode says which (1002, 1007, 1009); final
	};

	struct Event
	{
		EventType type = EventType::NeedMore;
		std::string_view payload;     ///< message / control payload / close reason; valid until the next call
		std::uint16_t closeCode = 0;  ///< Close and Error only
		const char* error = "";       ///< Error only: short static description, e.g. "unmasked client frame"
		bool compressed = false;      ///< Text/Binary: RSV1 was set (permessage-deflate); the payload is
		                              ///< compressed and a text message's UTF-8 is not checked yet
	};

	/// maxMessageSize: largest message (sum of its fragments) accepted; larger → Error 1009.
	explicit FrameDecoder(Role role, std::uint64_t maxMessageSize = 16u * 1024u * 1024u);

	/// Decodes from data[0..size). Returns how many bytes were consumed and sets `event`.
	/// Call repeatedly, advancing by the returned count, until the event is NeedMore; a frame
	/// may be cut anywhere between calls. The buffer is modified (payload unmasked in place);
	/// a payload that lies wholly in one call's input is returned as a view into `data`,
	/// otherwise it is gathered into an internal buffer. After an Error, every call returns
	/// the same Error and consumes nothing.
	std::size_t decode(char* data, std::size_t size, Event& event) noexcept
	{
		if (_state == State::Header && _headerHave == 0 && _role == Role::Server && size >= 6 &&
			_messageOpcode == Opcode::Continuation)
		{
			// Hot path, inline: a whole small (7-bit length), final, masked text or binary frame
			// from a client, outside a fragmented message. Same checks and results as the general
			// path, which handles everything else.
			const auto* u = reinterpret_cast<const unsigned char*>(data);
			const unsigned b0 = u[0];
			const unsigned b1 = u[1];
			const std::size_t n = b1 & 0x7F;
			if ((b0 == 0x81 || b0 == 0x82) && (b1 & 0x80) && n < 126 && size - 6 >= n && n <= _maxMessageSize)
			{
				char* p = data + 6;
				std::uint32_t m4;
				std::memcpy(&m4, u + 2, 4);
				const std::uint64_t m8 = (std::uint64_t(m4) << 32) | m4;
				std::uint64_t high = 0;
				std::size_t i = 0;
				for (; i + 16 <= n; i += 16)
				{
					std::uint64_t w[2];
					std::memcpy(w, p + i, 16);
					w[0] ^= m8;
					w[1] ^= m8;
					std::memcpy(p + i, w, 16);
					high |= w[0] | w[1];
				}
				if (i + 8 <= n)
				{
					std::uint64_t w;
					std::memcpy(&w, p + i, 8);
					w ^= m8;
					std::memcpy(p + i, &w, 8);
					high |= w;
					i += 8;
				}
				for (; i < n; ++i)
				{
					const auto c = static_cast<unsigned char>(p[i] ^ u[2 + (i & 3)]);
					p[i] = static_cast<char>(c);
					high |= c;
				}
				const std::string_view payload(p, n);
				if (b0 == 0x81 && (high & 0x8080808080808080ull) && !Utf8Validator::isValid(payload))
					return failInvalidUtf8(6 + n, event);
				event.type = b0 == 0x81 ? EventType::Text : EventType::Binary;
				event.payload = payload;
				event.closeCode = 0;
				event.error = "";
				event.compressed = false;
				return 6 + n;
			}
		}
		return decodeGeneral(data, size, event);
	}

	/// Forgets all state (for reusing the decoder on a new connection).
	void reset() noexcept;

	/// True while a fragmented data message is being assembled.
	bool inMessage() const noexcept { return _messageOpcode != Opcode::Continuation; }

	/// Returns the bytes of buffer memory the decoder holds (for a large message, its size).
	std::size_t memoryHeld() const noexcept { return _message.capacity() + _control.capacity(); }

	/// permessage-deflate was negotiated (RFC 7692): RSV1 marks the first frame of a compressed
	/// message (reported as Event::compressed). Without it, or on a control or continuation
	/// frame, RSV1 is an error (1002), as RSV2 and RSV3 always are.
	void allowCompression(bool allowed) noexcept { _rsv1Allowed = allowed; }

	std::uint64_t maxMessageSize() const noexcept { return _maxMessageSize; }
	void setMaxMessageSize(std::uint64_t n) noexcept { _maxMessageSize = n; }

private:
	enum class State : std::uint8_t { Header, Payload, Failed };

	/// decode() for everything but the inline hot path.
	std::size_t decodeGeneral(char* data, std::size_t size, Event& event) noexcept;
	/// Fails with 1007 for a text payload that is not UTF-8; returns `consumed`.
	std::size_t failInvalidUtf8(std::size_t consumed, Event& event) noexcept;
	/// Checks the first two header bytes; returns the whole header's size, or 0 after fail().
	std::size_t startHeader(unsigned b0, unsigned b1) noexcept;
	/// Reads length and mask from a whole header; sets up the frame; false after fail().
	bool finishHeader(const unsigned char* h) noexcept;
	/// Handles a whole frame's payload; returns true if it produced an event (maybe an Error).
	bool completeFrame(std::string_view payload, Event& event) noexcept;
	/// Enters the sticky Failed state and reports it in event; returns false.
	bool fail(std::uint16_t code, const char* what) noexcept;
	bool textMessage() const noexcept
	{
		return _opcode == Opcode::Text || (_opcode == Opcode::Continuation && _messageOpcode == Opcode::Text);
	}

	Role _role;
	std::uint64_t _maxMessageSize;
	State _state = State::Header;
	unsigned char _header[14];
	std::size_t _headerHave = 0;   // header bytes gathered (only when a header is cut across calls)
	std::size_t _headerNeed = 2;   // header size once the first two bytes are known
	bool _fin = false;
	Opcode _opcode = Opcode::Continuation;          // opcode of the current frame
	Opcode _messageOpcode = Opcode::Continuation;   // opcode of the fragmented message being assembled
	bool _masked = false;
	bool _rsv1 = false;            // the current frame has RSV1
	bool _rsv1Allowed = false;     // allowCompression()
	bool _compressed = false;      // the data message being read is compressed
	std::uint8_t _mask[4] = {0, 0, 0, 0};
	std::size_t _maskOffset = 0;
	std::uint64_t _payloadLength = 0;
	std::uint64_t _payloadRead = 0;
	std::string _message;   // assembled data message (fragments or frames cut across calls)
	std::string _control;   // control frame payload cut across calls
	Utf8Validator _utf8;    // incremental check of the text message being gathered
	Event _failure;
};

} // namespace codec
} // namespace parley

#endif
