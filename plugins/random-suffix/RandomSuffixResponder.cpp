//
// RandomSuffixResponder.cpp — the default plugin: replies with the message, a separator and a
// random integer in [min, max]. Each instance (one per event loop) owns its generator.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>

namespace {

const parley::SettingInfo kSettings[] = {
	{"separator", "\" \"", "text between the message and the number; quote it to keep spaces"},
	{"min", "0", "smallest number (a 64-bit integer)"},
	{"max", "999999", "largest number (>= min)"},
};

std::int64_t parseInteger(const parley::Settings& settings, const std::string& key, std::int64_t def)
{
	auto it = settings.find(key);
	if (it == settings.end()) return def;
	const std::string& text = it->second;
	std::int64_t value = 0;
	auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
	if (ec != std::errc() || end != text.data() + text.size() || text.empty())
		throw std::invalid_argument(key + ": '" + text + "' is not an integer");
	return value;
}

/// A value written "like this" keeps its spaces (properties files trim values); unquoted text is
/// taken as it is.
std::string unquote(const std::string& text)
{
	if (text.size() >= 2 && text.front() == '"' && text.back() == '"') return text.substr(1, text.size() - 2);
	return text;
}

} // namespace

class RandomSuffixResponder: public parley::Responder
{
public:
	RandomSuffixResponder(): _engine(std::random_device{}()), _distribution(0, 999999)
	{
	}

	void configure(const parley::Settings& settings) override
	{
		auto sep = settings.find("separator");
		if (sep != settings.end()) _separator = unquote(sep->second);
		const std::int64_t min = parseInteger(settings, "min", 0);
		const std::int64_t max = parseInteger(settings, "max", 999999);
		if (min > max) throw std::invalid_argument("max: " + std::to_string(max) + " is below min " + std::to_string(min));
		_distribution = std::uniform_int_distribution<std::int64_t>(min, max);
	}

	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		char digits[24];
		auto result = std::to_chars(digits, digits + sizeof(digits), _distribution(_engine));
		const std::size_t digitCount = static_cast<std::size_t>(result.ptr - digits);
		const std::size_t total = message.payload.size() + _separator.size() + digitCount;
		if (total <= SmallReply)
		{
			// Small reply: put it together on the stack and hand it over with one copy.
			char buffer[SmallReply];
			char* p = buffer;
			if (!message.payload.empty()) std::memcpy(p, message.payload.data(), message.payload.size());
			p += message.payload.size();
			if (!_separator.empty()) std::memcpy(p, _separator.data(), _separator.size());
			p += _separator.size();
			std::memcpy(p, digits, digitCount);
			reply.send(std::string_view(buffer, total), message.kind);
			return;
		}
		std::string& out = reply.send(message.payload, message.kind);
		out.append(_separator);
		out.append(digits, result.ptr);
	}

private:
	static constexpr std::size_t SmallReply = 256;

	std::mt19937_64 _engine;
	std::uniform_int_distribution<std::int64_t> _distribution;
	std::string _separator = " ";
};

PARLEY_DECLARE_PLUGIN(RandomSuffixResponder, "random-suffix", "1.0.0",
	"Replies with the message, a separator and a random integer", kSettings)
