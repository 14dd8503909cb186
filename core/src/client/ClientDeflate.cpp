//
// ClientDeflate.cpp
//
#include "ClientDeflate.h"
#include "parley/codec/FrameEncoder.h"
#include "parley/codec/Opcode.h"
#include "parley/codec/Utf8Validator.h"
#include <algorithm>

namespace parley {
namespace client {

namespace {

codec::DeflaterSettings deflaterSettings(const codec::DeflateParams& params, const DeflateOptions& options)
{
	codec::DeflaterSettings s;
	s.level = options.offer.level;
	s.windowBits = std::max(9, params.clientMaxWindowBits);
	s.contextTakeover = !params.clientNoContextTakeover;
	return s;
}

codec::InflaterSettings inflaterSettings(const codec::DeflateParams& params)
{
	codec::InflaterSettings s;
	s.windowBits = params.serverMaxWindowBits;
	s.contextTakeover = !params.serverNoContextTakeover;
	return s;
}

} // namespace

ClientDeflate::ClientDeflate(const codec::DeflateParams& params, const DeflateOptions& options) :
	_params(params),
	_minSize(options.minSize),
	_deflater(deflaterSettings(params, options)),
	_inflater(inflaterSettings(params))
{
}

bool ClientDeflate::compress(std::string_view payload, std::string& out)
{
	if (payload.size() < _minSize)
		return false;
	out.clear();
	return _deflater.compress(payload, out);
}

std::size_t ClientDeflate::appendFrame(std::string& out, codec::Opcode opcode, std::string_view payload,
	const std::uint8_t* mask, bool& compressed)
{
	compressed = compress(payload, _packed);
	const std::string_view wire = compressed ? std::string_view(_packed) : payload;
	codec::FrameEncoder::appendFrame(out, compressed ? codec::FrameEncoder::compressed(opcode) : opcode, wire, true, mask);
	return wire.size();
}

std::uint16_t ClientDeflate::inflate(std::string_view compressed, bool text, std::uint64_t maxSize, std::string& out,
	std::string& why)
{
	using Error = codec::MessageInflater::Error;
	out.clear();
	Error error = Error::None;
	if (!_inflater.feed(compressed, out, maxSize, error) || !_inflater.finish(out, maxSize, error))
	{
		switch (error)
		{
		case Error::TooBig:
			why = "a compressed message inflates to more than " + std::to_string(maxSize) + " bytes";
			break;
		case Error::Corrupt:
			why = "a compressed message is not valid deflate data";
			break;
		case Error::NoMemory:
		case Error::None:
			why = "no memory to inflate a compressed message";
			break;
		}
		const std::uint16_t code = codec::MessageInflater::closeCodeFor(error);
		return code ? code : codec::CloseCode::InternalError;
	}
	if (text && !codec::Utf8Validator::isValid(out))
	{
		why = "invalid UTF-8 in a compressed text message";
		return codec::CloseCode::InvalidPayload;
	}
	return 0;
}

} // namespace client
} // namespace parley
