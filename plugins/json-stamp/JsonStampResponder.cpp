//
// JsonStampResponder.cpp — the `json-stamp` plugin: a JSON object comes back with two members
// added, "server_time" (ISO 8601, UTC, milliseconds) and "seq" (this connection's message
// number, from 1). Anything that is not a JSON object is answered with an error object, and the
// connection stays open.
//
#include "parley/Responder.h"
#include "../common/IsoTime.h"
#include <Poco/ClassLibrary.h>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <unordered_map>

namespace {

/// A strict RFC 8259 validator: returns the offset of the first error, or npos if `text` is one
/// JSON value with only white space around it.
class JsonValidator
{
public:
	explicit JsonValidator(std::string_view text): _s(text) {}

	bool object(std::string& error)
	{
		skipSpace();
		if (_i >= _s.size() || _s[_i] != '{') return fail(error, "expected a JSON object");
		if (!value(0)) return fail(error, _why);
		skipSpace();
		if (_i != _s.size()) return fail(error, "unexpected text after the object");
		return true;
	}

private:
	bool fail(std::string& error, const char* why)
	{
		error = std::string(why) + " at offset " + std::to_string(_i);
		return false;
	}
	bool bad(const char* why)
	{
		_why = why;
		return false;
	}
	void skipSpace()
	{
		while (_i < _s.size() && (_s[_i] == ' ' || _s[_i] == '\t' || _s[_i] == '\n' || _s[_i] == '\r')) ++_i;
	}
	bool literal(const char* word)
	{
		for (const char* p = word; *p; ++p, ++_i)
			if (_i >= _s.size() || _s[_i] != *p) return bad("invalid literal");
		return true;
	}
	bool digits()
	{
		const std::size_t start = _i;
		while (_i < _s.size() && _s[_i] >= '0' && _s[_i] <= '9') ++_i;
		return _i > start;
	}
	bool number()
	{
		if (_s[_i] == '-') ++_i;
		if (_i < _s.size() && _s[_i] == '0') ++_i;
		else if (!digits()) return bad("invalid number");
		if (_i < _s.size() && _s[_i] == '.')
		{
			++_i;
			if (!digits()) return bad("invalid number");
		}
		if (_i < _s.size() && (_s[_i] == 'e' || _s[_i] == 'E'))
		{
			++_i;
			if (_i < _s.size() && (_s[_i] == '+' || _s[_i] == '-')) ++_i;
			if (!digits()) return bad("invalid number");
		}
		return true;
	}
	bool string()
	{
		++_i; // opening quote
		while (_i < _s.size())
		{
			const unsigned char c = static_cast<unsigned char>(_s[_i]);
			if (c == '"')
			{
				++_i;
				return true;
			}
			if (c < 0x20) return bad("control character in string");
			if (c == '\\')
			{
				if (++_i >= _s.size()) break;
				const char e = _s[_i];
				if (e == 'u')
				{
					for (int k = 0; k < 4; ++k)
					{
						if (++_i >= _s.size() || !std::isxdigit(static_cast<unsigned char>(_s[_i]))) return bad("invalid \\u escape");
					}
				}
				else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos)
					return bad("invalid escape");
			}
			++_i;
		}
		return bad("unterminated string");
	}
	bool value(int depth)
	{
		if (depth > 64) return bad("nested too deeply");
		skipSpace();
		if (_i >= _s.size()) return bad("unexpected end");
		switch (_s[_i])
		{
		case '{':
		case '[':
		{
			const char close = _s[_i] == '{' ? '}' : ']';
			const bool isObject = close == '}';
			++_i;
			skipSpace();
			if (_i < _s.size() && _s[_i] == close)
			{
				++_i;
				return true;
			}
			for (;;)
			{
				if (isObject)
				{
					skipSpace();
					if (_i >= _s.size() || _s[_i] != '"') return bad("expected a member name");
					if (!string()) return false;
					skipSpace();
					if (_i >= _s.size() || _s[_i] != ':') return bad("expected ':'");
					++_i;
				}
				if (!value(depth + 1)) return false;
				skipSpace();
				if (_i >= _s.size()) return bad("unexpected end");
				if (_s[_i] == close)
				{
					++_i;
					return true;
				}
				if (_s[_i] != ',') return bad("expected ',' or a closing bracket");
				++_i;
			}
		}
		case '"': return string();
		case 't': return literal("true");
		case 'f': return literal("false");
		case 'n': return literal("null");
		default:
			if (_s[_i] == '-' || (_s[_i] >= '0' && _s[_i] <= '9')) return number();
			return bad("unexpected character");
		}
	}

	std::string_view _s;
	std::size_t _i = 0;
	const char* _why = "";
};


void appendEscaped(std::string& out, std::string_view text)
{
	for (char c : text)
	{
		if (c == '"' || c == '\\') out.push_back('\\');
		out.push_back(c);
	}
}

} // namespace

class JsonStampResponder: public parley::Responder
{
public:
	void onClose(parley::ConnectionId connection) override { _sequence.erase(connection); }

	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		const std::uint64_t seq = ++_sequence[message.connection];
		std::string error;
		if (message.kind != parley::PayloadKind::Text)
			error = "expected a JSON object in a text message";
		else
			JsonValidator(message.payload).object(error);
		if (!error.empty())
		{
			std::string& out = reply.send("{\"error\":\"invalid JSON: ");
			appendEscaped(out, error);
			out.append("\",\"seq\":").append(std::to_string(seq)).append("}");
			return;
		}
		// Insert the two members before the closing brace.
		const std::string_view body = message.payload;
		const std::size_t close = body.find_last_of('}');
		std::string_view head = body.substr(0, close);
		while (!head.empty() && (head.back() == ' ' || head.back() == '\n' || head.back() == '\r' || head.back() == '\t'))
			head.remove_suffix(1);
		std::string& out = reply.send(head);
		if (out.back() != '{') out.push_back(',');
		out.append("\"server_time\":\"").append(parley::plugins::isoTimeUtc()).append("\",\"seq\":").append(std::to_string(seq)).append("}");
	}

private:
	std::unordered_map<parley::ConnectionId, std::uint64_t> _sequence;
};

PARLEY_DECLARE_PLUGIN_NO_SETTINGS(JsonStampResponder, "json-stamp", "1.0.0",
	"Adds server_time and a per-connection seq to a JSON object")
