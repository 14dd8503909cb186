//
// LoopDeflate.cpp
//
#include "LoopDeflate.h"
#include "LoopState.h"
#include "parley/codec/FrameEncoder.h"
#include "parley/codec/Opcode.h"
#include "parley/codec/Utf8Validator.h"

namespace parley {
namespace host {

namespace {

/// A scratch buffer larger than this is given back after use.
constexpr std::size_t KeepScratch = 256u * 1024u;

codec::DeflaterSettings deflaterSettings(const DeflateConfig& config, int windowBits, bool takeover)
{
	codec::DeflaterSettings s;
	s.level = config.negotiation.level;
	s.memLevel = config.memLevel;
	s.windowBits = windowBits;
	s.contextTakeover = takeover;
	return s;
}

} // namespace

LoopDeflate::LoopDeflate(const DeflateConfig& config, std::uint64_t* counters)
	: _config(config), _minSize(config.minSize), _counters(counters),
	  _sharedInflater(codec::InflaterSettings{15, false})
{
}

std::unique_ptr<ConnectionDeflate> LoopDeflate::open(const codec::DeflateParams& params) const
{
	auto d = std::make_unique<ConnectionDeflate>();
	d->params = params;
	// zlib cannot raw-deflate with an 8-bit window; the negotiation never agrees to it for the
	// server, and 9 is within any limit of 9 or more.
	if (!params.serverNoContextTakeover)
		d->deflater = std::make_unique<codec::MessageDeflater>(deflaterSettings(_config, params.serverMaxWindowBits, true));
	if (!params.clientNoContextTakeover)
		d->inflater = std::make_unique<codec::MessageInflater>(codec::InflaterSettings{params.clientMaxWindowBits, true});
	return d;
}

void LoopDeflate::appendCompressed(ConnectionDeflate& d, OutputBuffer& out, std::uint8_t opcode, std::string_view head,
	std::string_view tail)
{
	const std::size_t size = head.size() + tail.size();
	const std::string* compressed = &_compressed;
	if (d.deflater)
	{
		_compressed.clear();
		if (!d.deflater->compress(head, tail, _compressed))
		{
			out.appendFrame(opcode, head, tail);
			return;
		}
	}
	else
	{
		const std::size_t slot = static_cast<std::size_t>(d.params.serverMaxWindowBits < 9 ? 0 : d.params.serverMaxWindowBits - 9);
		if (_sharing && _sharedReady[slot])
		{
			compressed = &_sharedOut[slot];
		}
		else
		{
			std::unique_ptr<codec::MessageDeflater>& shared = _shared[slot];
			if (!shared)
				shared = std::make_unique<codec::MessageDeflater>(
					deflaterSettings(_config, static_cast<int>(slot) + 9, false));
			std::string& target = _sharing ? _sharedOut[slot] : _compressed;
			target.clear();
			if (!shared->compress(head, tail, target))
			{
				out.appendFrame(opcode, head, tail);
				return;
			}
			_sharedReady[slot] = _sharing;
			compressed = &target;
		}
	}
	out.appendFrame(static_cast<std::uint8_t>(opcode | codec::FrameEncoder::Rsv1), *compressed);
	++_counters[DeflateMessagesOut];
	_counters[DeflatePayloadBytesOut] += size;
	_counters[DeflateWireBytesOut] += compressed->size();
	if (_compressed.capacity() > KeepScratch) std::string().swap(_compressed);
}

void LoopDeflate::endShared() noexcept
{
	_sharing = false;
	for (std::size_t i = 0; i < _sharedOut.size(); ++i)
	{
		_sharedReady[i] = false;
		if (_sharedOut[i].capacity() > KeepScratch) std::string().swap(_sharedOut[i]);
	}
}

std::uint16_t LoopDeflate::inflate(ConnectionDeflate& d, bool text, std::string_view wire, std::uint64_t maxSize,
	std::string_view& plain, const char*& why)
{
	codec::MessageInflater& inflater = d.inflater ? *d.inflater : _sharedInflater;
	_plain.clear();
	codec::MessageInflater::Error error = codec::MessageInflater::Error::None;
	if (!inflater.feed(wire, _plain, maxSize, error) || !inflater.finish(_plain, maxSize, error))
	{
		// The shared decompressor serves the next connection from a clean state.
		inflater.reset();
		switch (error)
		{
		case codec::MessageInflater::Error::TooBig:
			why = "inflated message too big";
			break;
		case codec::MessageInflater::Error::NoMemory:
			why = "no memory to inflate the message";
			break;
		default:
			why = "invalid compressed data";
			break;
		}
		return codec::MessageInflater::closeCodeFor(error);
	}
	if (text && !codec::Utf8Validator::isValid(_plain))
	{
		why = "invalid UTF-8 in a compressed text message";
		return codec::CloseCode::InvalidPayload;
	}
	++_counters[InflateMessagesIn];
	_counters[InflateWireBytesIn] += wire.size();
	_counters[InflatePayloadBytesIn] += _plain.size();
	plain = _plain;
	return 0;
}

void LoopDeflate::trim()
{
	if (_plain.capacity() > KeepScratch) std::string().swap(_plain);
	if (_compressed.capacity() > KeepScratch) std::string().swap(_compressed);
}

std::size_t LoopDeflate::sharedMemory() const noexcept
{
	std::size_t n = _sharedInflater.memoryHeld() + _plain.capacity() + _compressed.capacity();
	for (const auto& d : _shared)
		if (d) n += d->memoryHeld();
	for (const auto& s : _sharedOut) n += s.capacity();
	return n;
}

} // namespace host
} // namespace parley
