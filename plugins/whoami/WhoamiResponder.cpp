//
// WhoamiResponder.cpp — the `whoami` plugin: answers every message with a JSON object of what the
// host knows of the connection (path, query, subprotocol, identity and attributes from the gates,
// remote address and port, TLS) and the message itself. Handy to try gates.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>
#include <string>

namespace {

/// Appends `text` as a JSON string (quotes included): '"', '\\' and control characters escaped,
/// valid UTF-8 passed through as it is, every byte that is not part of valid UTF-8 replaced by
/// U+FFFD (the maximal-subpart rule of the Unicode standard), so the reply is always valid JSON.
void appendJsonString(std::string& out, std::string_view text)
{
	static const char hex[] = "0123456789abcdef";
	static const char replacement[] = "\xEF\xBF\xBD";
	out.push_back('"');
	std::size_t i = 0;
	const std::size_t n = text.size();
	auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
	while (i < n)
	{
		const unsigned char c = byte(i);
		if (c < 0x80)
		{
			switch (c)
			{
			case '"': out += "\\\""; break;
			case '\\': out += "\\\\"; break;
			case '\n': out += "\\n"; break;
			case '\r': out += "\\r"; break;
			case '\t': out += "\\t"; break;
			case '\b': out += "\\b"; break;
			case '\f': out += "\\f"; break;
			default:
				if (c < 0x20)
				{
					out += "\\u00";
					out.push_back(hex[c >> 4]);
					out.push_back(hex[c & 0xF]);
				}
				else out.push_back(static_cast<char>(c));
			}
			++i;
			continue;
		}
		// The length of the sequence and the range its second byte must lie in (RFC 3629).
		std::size_t length = 0;
		unsigned char low = 0x80, high = 0xBF;
		if (c >= 0xC2 && c <= 0xDF) length = 2;
		else if (c >= 0xE0 && c <= 0xEF)
		{
			length = 3;
			if (c == 0xE0) low = 0xA0;        // no overlong forms
			else if (c == 0xED) high = 0x9F;  // no surrogates
		}
		else if (c >= 0xF0 && c <= 0xF4)
		{
			length = 4;
			if (c == 0xF0) low = 0x90;        // no overlong forms
			else if (c == 0xF4) high = 0x8F;  // nothing above U+10FFFF
		}
		if (length == 0)
		{
			out += replacement;  // a continuation byte alone, C0, C1, F5..FF
			++i;
			continue;
		}
		std::size_t good = 1;  // bytes of the sequence that are valid so far
		while (good < length && i + good < n)
		{
			const unsigned char next = byte(i + good);
			const unsigned char lo = good == 1 ? low : 0x80, hi = good == 1 ? high : 0xBF;
			if (next < lo || next > hi) break;
			++good;
		}
		if (good == length) out.append(text.data() + i, length);
		else out += replacement;  // a truncated or broken sequence: one U+FFFD for its valid start
		i += good;
	}
	out.push_back('"');
}

} // namespace

class WhoamiResponder: public parley::Responder
{
public:
	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		const parley::ConnectionInfo none;
		const parley::ConnectionInfo& info = message.info ? *message.info : none;
		std::string& out = reply.send("{\"id\":");
		out += std::to_string(message.info ? info.id : message.connection);
		out += ",\"path\":";
		appendJsonString(out, info.path);
		out += ",\"query\":";
		appendJsonString(out, info.query);
		out += ",\"subprotocol\":";
		appendJsonString(out, info.subprotocol);
		out += ",\"identity\":";
		appendJsonString(out, info.identity);
		out += ",\"attributes\":{";
		if (info.attributes)
		{
			bool first = true;
			for (const auto& [key, value] : *info.attributes)
			{
				if (!first) out.push_back(',');
				first = false;
				appendJsonString(out, key);
				out.push_back(':');
				appendJsonString(out, value);
			}
		}
		out += "},\"remote_address\":";
		appendJsonString(out, info.remoteAddress);
		out += ",\"remote_port\":";
		out += std::to_string(info.remotePort);
		out += info.tls ? ",\"tls\":true" : ",\"tls\":false";
		out += ",\"message\":";
		appendJsonString(out, message.payload);
		out.push_back('}');
	}
};

PARLEY_DECLARE_PLUGIN_NO_SETTINGS(WhoamiResponder, "whoami", "1.0.0",
	"Replies with what the host knows of the connection (identity, attributes, path, address...) as JSON")
