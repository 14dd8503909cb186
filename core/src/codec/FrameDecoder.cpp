//
// FrameDecoder.cpp — resumable RFC 6455 frame decoder and message assembler.
//
#include "parley/codec/FrameDecoder.h"
#include "parley/codec/FrameEncoder.h"
#include <cstring>

namespace parley {
namespace codec {

FrameDecoder::FrameDecoder(Role role, std::uint64_t maxMessageSize):
	_role(role),
	_maxMessageSize(maxMessageSize)
{
}

void FrameDecoder::reset() noexcept
{
	_state = State::Header;
	_headerHave = 0;
	_headerNeed = 2;
	_fin = false;
	_opcode = Opcode::Continuation;
	_messageOpcode = Opcode::Continuation;
	_masked = false;
	_rsv1 = false;
	_compressed = false;
	std::memset(_mask, 0, sizeof(_mask));
	_maskOffset = 0;
	_payloadLength = 0;
	_payloadRead = 0;
	_message.clear();
	_control.clear();
	_utf8.reset();
	_failure = Event();
}

bool FrameDecoder::fail(std::uint16_t code, const char* what) noexcept
{
	_state = State::Failed;
	_failure.type = EventType::Error;
	_failure.payload = std::string_view();
	_failure.closeCode = code;
	_failure.error = what;
	return false;
}

std::size_t FrameDecoder::startHeader(unsigned b0, unsigned b1) noexcept
{
	const bool fin = (b0 & 0x80) != 0;
	const bool masked = (b1 & 0x80) != 0;
	const unsigned op = b0 & 0x0F;
	const unsigned len7 = b1 & 0x7F;
	const char* error = nullptr;
	if ((b0 & 0x30) || ((b0 & 0x40) && !_rsv1Allowed))
		error = "reserved bits set without an extension";
	else if ((b0 & 0x40) && (op & 0x8))
		error = "RSV1 on a control frame";
	else if ((b0 & 0x40) && op == 0x0)
		error = "RSV1 on a continuation frame";
	else if (masked != (_role == Role::Server))
		error = masked ? "masked server frame" : "unmasked client frame";
	else if (op == 0x0)
	{
		if (!inMessage())
			error = "continuation frame without a message";
	}
	else if (op == 0x1 || op == 0x2)
	{
		if (inMessage())
			error = "new data frame inside a fragmented message";
	}
	else if (op == 0x8 || op == 0x9 || op == 0xA)
	{
		if (!fin)
			error = "fragmented control frame";
		else if (len7 > 125)
			error = "control frame payload over 125 bytes";
		else if (op == 0x8 && len7 == 1)
			error = "close frame with a 1-byte payload";
	}
	else
	{
		error = "unknown opcode";
	}
	if (error)
	{
		fail(CloseCode::ProtocolError, error);
		return 0;
	}
	_fin = fin;
	_masked = masked;
	_rsv1 = (b0 & 0x40) != 0;
	_opcode = static_cast<Opcode>(op);
	std::size_t size = masked ? 6 : 2;
	if (len7 == 126)
		size += 2;
	else if (len7 == 127)
		size += 8;
	return size;
}

bool FrameDecoder::finishHeader(const unsigned char* h) noexcept
{
	const unsigned len7 = h[1] & 0x7F;
	std::size_t i = 2;
	if (len7 < 126)
	{
		_payloadLength = len7;
	}
	else if (len7 == 126)
	{
		_payloadLength = (std::uint64_t(h[2]) << 8) | h[3];
		i = 4;
	}
	else
	{
		std::uint64_t v = 0;
		for (std::size_t k = 2; k < 10; ++k)
			v = (v << 8) | h[k];
		if (v >> 63)
			return fail(CloseCode::ProtocolError, "64-bit payload length with the high bit set");
		_payloadLength = v;
		i = 10;
	}
	if (_masked)
		std::memcpy(_mask, h + i, 4);
	_maskOffset = 0;
	_payloadRead = 0;
	const unsigned op = static_cast<unsigned>(_opcode);
	if (op & 0x8)
	{
		_control.clear();
		return true;
	}
	const std::uint64_t before = _opcode == Opcode::Continuation ? _message.size() : 0;
	if (_payloadLength > _maxMessageSize || before > _maxMessageSize - _payloadLength)
		return fail(CloseCode::MessageTooBig, "message too big");
	if (_opcode != Opcode::Continuation)
	{
		_message.clear();
		_utf8.reset();
		_compressed = _rsv1;
		if (!_fin)
			_messageOpcode = _opcode;
	}
	return true;
}

bool FrameDecoder::completeFrame(std::string_view payload, Event& event) noexcept
{
	event.closeCode = 0;
	event.error = "";
	event.compressed = false;
	switch (_opcode)
	{
	case Opcode::Ping:
		event.type = EventType::Ping;
		break;
	case Opcode::Pong:
		event.type = EventType::Pong;
		break;
	case Opcode::Close:
		if (payload.empty())
		{
			event.type = EventType::Close;
			event.closeCode = CloseCode::NoStatus;
			event.payload = payload;
			return true;
		}
		else
		{
			const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
			const std::uint16_t code = static_cast<std::uint16_t>((p[0] << 8) | p[1]);
			if (!CloseCode::isValidOnWire(code))
			{
				fail(CloseCode::ProtocolError, "invalid close code");
				event = _failure;
				return true;
			}
			payload.remove_prefix(2);
			if (!Utf8Validator::isValid(payload))
			{
				fail(CloseCode::InvalidPayload, "invalid UTF-8 in close reason");
				event = _failure;
				return true;
			}
			event.type = EventType::Close;
			event.closeCode = code;
			event.payload = payload;
			return true;
		}
	default:
		// Data frame: payload is either the whole unfragmented frame or the whole of _message.
		if (!_fin)
			return false;
		event.compressed = _compressed;
		if (textMessage() && !_compressed)
		{
			if (!_utf8.complete())
			{
				fail(CloseCode::InvalidPayload, "invalid UTF-8 in text message");
				event = _failure;
				return true;
			}
			event.type = EventType::Text;
		}
		else
		{
			event.type = textMessage() ? EventType::Text : EventType::Binary;
		}
		_messageOpcode = Opcode::Continuation;
		break;
	}
	event.payload = payload;
	return true;
}

std::size_t FrameDecoder::failInvalidUtf8(std::size_t consumed, Event& event) noexcept
{
	fail(CloseCode::InvalidPayload, "invalid UTF-8 in text message");
	event = _failure;
	return consumed;
}

std::size_t FrameDecoder::decodeGeneral(char* data, std::size_t size, Event& event) noexcept
{
	if (_state == State::Failed)
	{
		event = _failure;
		return 0;
	}
	std::size_t pos = 0;
	for (;;)
	{
		if (_state == State::Header)
		{
			const unsigned char* h = nullptr;
			const std::size_t avail = size - pos;
			if (_headerHave == 0 && avail >= 2)
			{
				// Fast path: the header lies wholly in the input.
				const auto* p = reinterpret_cast<const unsigned char*>(data + pos);
				const std::size_t need = startHeader(p[0], p[1]);
				if (need == 0)
				{
					event = _failure;
					return pos;
				}
				if (avail >= need)
				{
					h = p;
					pos += need;
				}
				else
				{
					_headerNeed = need;
				}
			}
			if (h == nullptr)
			{
				// Gather a header cut across calls.
				for (;;)
				{
					const std::size_t want = _headerNeed - _headerHave;
					const std::size_t n = want < size - pos ? want : size - pos;
					if (n != 0)
						std::memcpy(_header + _headerHave, data + pos, n);
					_headerHave += n;
					pos += n;
					if (_headerHave < _headerNeed)
					{
						event = Event();
						return pos;
					}
					if (_headerHave != 2 || _headerNeed != 2)
						break;
					const std::size_t need = startHeader(_header[0], _header[1]);
					if (need == 0)
					{
						event = _failure;
						return pos;
					}
					_headerNeed = need;
					if (need == 2)
						break;
				}
				h = _header;
				_headerHave = 0;
				_headerNeed = 2;
			}
			if (!finishHeader(h))
			{
				event = _failure;
				return pos;
			}
			_state = State::Payload;
		}

		// Payload.
		const std::uint64_t remaining = _payloadLength - _payloadRead;
		const std::size_t avail = size - pos;
		const bool control = (static_cast<unsigned>(_opcode) & 0x8) != 0;
		if (_payloadRead == 0 && remaining <= avail && (control || (_fin && _opcode != Opcode::Continuation)))
		{
			// Zero-copy: a whole unfragmented frame in this input.
			char* p = data + pos;
			const std::size_t n = static_cast<std::size_t>(remaining);
			pos += n;
			if (_masked)
				FrameEncoder::applyMask(p, n, _mask, 0);
			_state = State::Header;
			if (_opcode == Opcode::Text && !_rsv1 && !Utf8Validator::isValid(std::string_view(p, n)))
			{
				fail(CloseCode::InvalidPayload, "invalid UTF-8 in text message");
				event = _failure;
				return pos;
			}
			completeFrame(std::string_view(p, n), event);
			return pos;
		}
		if (remaining != 0 && avail == 0)
		{
			event = Event();
			return pos;
		}
		const std::size_t n = remaining < avail ? static_cast<std::size_t>(remaining) : avail;
		char* p = data + pos;
		pos += n;
		if (_masked)
			_maskOffset = FrameEncoder::applyMask(p, n, _mask, _maskOffset);
		std::string& buffer = control ? _control : _message;
		if (n != 0)
			buffer.append(p, n);
		_payloadRead += n;
		if (!control && textMessage() && !_compressed && !_utf8.feed(p, n))
		{
			fail(CloseCode::InvalidPayload, "invalid UTF-8 in text message");
			event = _failure;
			return pos;
		}
		if (_payloadRead < _payloadLength)
		{
			event = Event();
			return pos;
		}
		_state = State::Header;
		if (completeFrame(buffer, event))
			return pos;
	}
}

} // namespace codec
} // namespace parley
