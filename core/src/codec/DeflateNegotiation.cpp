//
// DeflateNegotiation.cpp — RFC 7692 permessage-deflate negotiation.
//
#include "parley/codec/DeflateNegotiation.h"
#include "parley/codec/Handshake.h"
#include <algorithm>
#include <vector>

namespace parley {
namespace codec {

namespace {

// --- RFC 6455 §9.1 extension list, with RFC 7230 §3.2.6 tokens and quoted strings ---

struct ExtensionParam
{
	std::string name;  // lower case
	bool hasValue = false;
	std::string value;  // unescaped
};

struct ExtensionElement
{
	std::string name;  // lower case
	std::vector<ExtensionParam> params;
	bool wellFormed = true;
};


char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

class ListParser
{
public:
	explicit ListParser(std::string_view text): _s(text)
	{
	}

	std::vector<ExtensionElement> parse()
	{
		std::vector<ExtensionElement> elements;
		while (true)
		{
			skipOws();
			if (atEnd())
				break;
			if (_s[_pos] == ',')  // empty list element (RFC 7230 §7)
			{
				++_pos;
				continue;
			}
			ExtensionElement element;
			element.wellFormed = parseElement(element);
			if (!element.wellFormed)
				resync();
			elements.push_back(std::move(element));
		}
		return elements;
	}

private:
	bool atEnd() const
	{
		return _pos >= _s.size();
	}

	void skipOws()
	{
		while (!atEnd() && (_s[_pos] == ' ' || _s[_pos] == '\t'))
			++_pos;
	}

	bool token(std::string& out)
	{
		const std::size_t start = _pos;
		while (!atEnd() && Handshake::isTokenChar(_s[_pos]))
			out += lower(_s[_pos++]);
		return _pos > start;
	}

	// RFC 7230 §3.2.6: DQUOTE *( qdtext / quoted-pair ) DQUOTE. _pos is at the opening quote.
	bool quotedString(std::string& out)
	{
		++_pos;
		bool ok = true;
		while (!atEnd())
		{
			const unsigned char c = static_cast<unsigned char>(_s[_pos++]);
			if (c == '"')
				return ok;
			if (c == '\\')
			{
				if (atEnd())
					return false;
				const unsigned char e = static_cast<unsigned char>(_s[_pos++]);
				if (e != '\t' && (e < 0x20 || e == 0x7f))
					ok = false;
				out += char(e);
				continue;
			}
			if (c != '\t' && (c < 0x20 || c == 0x7f))
				ok = false;
			out += char(c);
		}
		return false;  // unterminated
	}

	bool parseElement(ExtensionElement& element)
	{
		if (!token(element.name))
			return false;
		skipOws();
		while (!atEnd() && _s[_pos] == ';')
		{
			++_pos;
			skipOws();
			ExtensionParam param;
			if (!token(param.name))
				return false;
			skipOws();
			if (!atEnd() && _s[_pos] == '=')
			{
				++_pos;
				skipOws();
				param.hasValue = true;
				if (!atEnd() && _s[_pos] == '"')
				{
					if (!quotedString(param.value))
						return false;
				}
				else if (!token(param.value))
					return false;
				skipOws();
			}
			element.params.push_back(std::move(param));
		}
		return atEnd() || _s[_pos] == ',';
	}

	// Skips to the next ',' outside a quoted string (or the end).
	void resync()
	{
		bool quoted = false;
		while (!atEnd())
		{
			const char c = _s[_pos];
			if (quoted)
			{
				if (c == '\\')
					++_pos;
				else if (c == '"')
					quoted = false;
			}
			else if (c == '"')
				quoted = true;
			else if (c == ',')
				return;
			++_pos;
		}
	}

	std::string_view _s;
	std::size_t _pos = 0;
};

// --- permessage-deflate parameters (RFC 7692 §7.1) ---

struct PmdParams
{
	bool serverNoContextTakeover = false;
	bool clientNoContextTakeover = false;
	std::optional<int> serverMaxWindowBits;
	bool clientMaxWindowBitsPresent = false;
	std::optional<int> clientMaxWindowBits;  // empty when given without a value
};

// "8".."15", a decimal integer without leading zeros (RFC 7692 §7.1.2).
std::optional<int> windowBits(const std::string& v)
{
	if (v.empty() || v.size() > 2 || v[0] == '0')
		return std::nullopt;
	int n = 0;
	for (char c : v)
	{
		if (c < '0' || c > '9')
			return std::nullopt;
		n = n * 10 + (c - '0');
	}
	if (n < 8 || n > 15)
		return std::nullopt;
	return n;
}

bool readParams(const ExtensionElement& element, PmdParams& out, std::string& why)
{
	bool seenSnct = false, seenCnct = false, seenSbits = false;
	for (const auto& p : element.params)
	{
		if (p.name == "server_no_context_takeover" || p.name == "client_no_context_takeover")
		{
			bool& seen = p.name[0] == 's' ? seenSnct : seenCnct;
			if (seen)
				return why = "duplicated " + p.name, false;
			seen = true;
			if (p.hasValue)
				return why = p.name + " takes no value", false;
			(p.name[0] == 's' ? out.serverNoContextTakeover : out.clientNoContextTakeover) = true;
		}
		else if (p.name == "server_max_window_bits")
		{
			if (seenSbits)
				return why = "duplicated " + p.name, false;
			seenSbits = true;
			const auto bits = p.hasValue ? windowBits(p.value) : std::nullopt;
			if (!bits)
				return why = p.name + " needs a value in 8..15", false;
			out.serverMaxWindowBits = bits;
		}
		else if (p.name == "client_max_window_bits")
		{
			if (out.clientMaxWindowBitsPresent)
				return why = "duplicated " + p.name, false;
			out.clientMaxWindowBitsPresent = true;
			if (p.hasValue)
			{
				out.clientMaxWindowBits = windowBits(p.value);
				if (!out.clientMaxWindowBits)
					return why = p.name + " needs a value in 8..15", false;
			}
		}
		else
			return why = "unknown parameter " + p.name, false;
	}
	return true;
}

int clampBits(int bits, int lo)
{
	return std::clamp(bits, lo, 15);
}

} // namespace

std::optional<DeflateAgreement> DeflateNegotiation::negotiateServer(std::string_view headerValues, const DeflateServerConfig& config)
{
	const auto elements = ListParser(headerValues).parse();
	for (const auto& element : elements)
	{
		if (!element.wellFormed || element.name != ExtensionName)
			continue;
		PmdParams offer;
		std::string why;
		if (!readParams(element, offer, why))
			continue;

		DeflateAgreement agreed;
		DeflateParams& p = agreed.params;
		p.serverMaxWindowBits = clampBits(config.serverMaxWindowBits, 9);
		bool announceServerBits = p.serverMaxWindowBits < 15;
		if (offer.serverMaxWindowBits)
		{
			// zlib cannot compress raw deflate with an 8-bit window: decline rather than use 9.
			if (*offer.serverMaxWindowBits < 9)
				continue;
			p.serverMaxWindowBits = std::min(p.serverMaxWindowBits, *offer.serverMaxWindowBits);
			announceServerBits = true;  // must answer a requested limit (§7.1.2.1)
		}
		p.serverNoContextTakeover = config.serverNoContextTakeover || offer.serverNoContextTakeover;
		p.clientNoContextTakeover = offer.clientNoContextTakeover || config.requestClientNoContextTakeover;
		const bool answerClientBits = offer.clientMaxWindowBitsPresent && config.acceptClientMaxWindowBits;
		p.clientMaxWindowBits = offer.clientMaxWindowBits.value_or(15);
		if (answerClientBits)
			p.clientMaxWindowBits = std::min(clampBits(config.clientMaxWindowBits, 9), p.clientMaxWindowBits);

		agreed.response = ExtensionName;
		if (p.serverNoContextTakeover)
			agreed.response += "; server_no_context_takeover";
		if (p.clientNoContextTakeover)
			agreed.response += "; client_no_context_takeover";
		if (announceServerBits)
			agreed.response += "; server_max_window_bits=" + std::to_string(p.serverMaxWindowBits);
		if (answerClientBits)
			agreed.response += "; client_max_window_bits=" + std::to_string(p.clientMaxWindowBits);
		return agreed;
	}
	return std::nullopt;
}

std::string DeflateNegotiation::clientOffer(const DeflateClientConfig& config)
{
	std::string offer = ExtensionName;
	if (config.serverNoContextTakeover)
		offer += "; server_no_context_takeover";
	if (config.clientNoContextTakeover)
		offer += "; client_no_context_takeover";
	const int serverBits = clampBits(config.serverMaxWindowBits, 8);
	if (serverBits < 15)
		offer += "; server_max_window_bits=" + std::to_string(serverBits);
	if (config.offerClientMaxWindowBits)
	{
		offer += "; client_max_window_bits";
		const int clientBits = clampBits(config.clientMaxWindowBits, 9);
		if (clientBits < 15)
			offer += "=" + std::to_string(clientBits);
	}
	return offer;
}

DeflateResponse DeflateNegotiation::checkServerResponse(std::string_view response, const DeflateClientConfig& offered, DeflateParams& out, std::string* why)
{
	std::string reason;
	const auto fail = [&](const std::string& r) {
		if (why)
			*why = r;
		return DeflateResponse::Invalid;
	};
	const auto elements = ListParser(response).parse();
	if (elements.empty())
		return DeflateResponse::Declined;
	for (const auto& element : elements)
	{
		if (!element.wellFormed)
			return fail("malformed Sec-WebSocket-Extensions");
		if (element.name != ExtensionName)
			return fail("extension " + element.name + " was not offered");
	}
	if (elements.size() > 1)
		return fail("more than one permessage-deflate in the answer");
	PmdParams answer;
	if (!readParams(elements.front(), answer, reason))
		return fail(reason);

	const int offeredClientBits = offered.offerClientMaxWindowBits ? clampBits(offered.clientMaxWindowBits, 9) : 15;
	if (answer.clientMaxWindowBitsPresent)
	{
		if (!offered.offerClientMaxWindowBits)
			return fail("client_max_window_bits was not offered");
		if (!answer.clientMaxWindowBits)
			return fail("client_max_window_bits needs a value in an answer");
		if (*answer.clientMaxWindowBits > offeredClientBits)
			return fail("client_max_window_bits above the offered " + std::to_string(offeredClientBits));
		if (*answer.clientMaxWindowBits < 9)
			return fail("client_max_window_bits=8: zlib cannot compress with an 8-bit window");
	}
	const int requestedServerBits = clampBits(offered.serverMaxWindowBits, 8);
	if (requestedServerBits < 15)
	{
		if (!answer.serverMaxWindowBits)
			return fail("server_max_window_bits was requested but not answered");
		if (*answer.serverMaxWindowBits > requestedServerBits)
			return fail("server_max_window_bits above the requested " + std::to_string(requestedServerBits));
	}
	if (offered.serverNoContextTakeover && !answer.serverNoContextTakeover)
		return fail("server_no_context_takeover was requested but not answered");

	out.serverNoContextTakeover = answer.serverNoContextTakeover;
	out.clientNoContextTakeover = answer.clientNoContextTakeover || offered.clientNoContextTakeover;
	out.serverMaxWindowBits = answer.serverMaxWindowBits.value_or(15);
	out.clientMaxWindowBits = answer.clientMaxWindowBits.value_or(offeredClientBits);
	return DeflateResponse::Accepted;
}

bool DeflateNegotiation::acceptServerResponse(std::string_view response, const DeflateClientConfig& offered, DeflateParams& out, std::string* why)
{
	if (why)
		why->clear();
	return checkServerResponse(response, offered, out, why) == DeflateResponse::Accepted;
}

bool DeflateNegotiation::validate(const DeflateServerConfig& config, std::string* why)
{
	std::string reason;
	if (config.level < 0 || config.level > 9)
		reason = "level must be 0..9";
	else if (config.serverMaxWindowBits < 9 || config.serverMaxWindowBits > 15)
		reason = "server_max_window_bits must be 9..15 (zlib has no 8-bit raw deflate window)";
	else if (config.clientMaxWindowBits < 9 || config.clientMaxWindowBits > 15)
		reason = "client_max_window_bits must be 9..15";
	if (why)
		*why = reason;
	return reason.empty();
}

bool DeflateNegotiation::validate(const DeflateClientConfig& config, std::string* why)
{
	std::string reason;
	if (config.level < 0 || config.level > 9)
		reason = "level must be 0..9";
	else if (config.serverMaxWindowBits < 8 || config.serverMaxWindowBits > 15)
		reason = "server_max_window_bits must be 8..15";
	else if (config.clientMaxWindowBits < 9 || config.clientMaxWindowBits > 15)
		reason = "client_max_window_bits must be 9..15 (zlib has no 8-bit raw deflate window)";
	if (why)
		*why = reason;
	return reason.empty();
}

} // namespace codec
} // namespace parley
