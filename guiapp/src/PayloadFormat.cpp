//
// PayloadFormat.cpp
//
#include "PayloadFormat.h"
#include <cstdio>

namespace parley {
namespace gui {

namespace {

const char* const kHexDigits = "0123456789abcdef";

int hexValue(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

bool isSeparator(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ':' || c == ',' || c == '-';
}

/// Length of the UTF-8 sequence starting at data[i], or 0 if it is malformed.
std::size_t utf8SequenceLength(std::string_view data, std::size_t i)
{
	const auto b0 = static_cast<unsigned char>(data[i]);
	if (b0 < 0x80) return 1;
	std::size_t len = 0;
	std::uint32_t cp = 0;
	if ((b0 & 0xE0) == 0xC0) { len = 2; cp = b0 & 0x1F; }
	else if ((b0 & 0xF0) == 0xE0) { len = 3; cp = b0 & 0x0F; }
	else if ((b0 & 0xF8) == 0xF0) { len = 4; cp = b0 & 0x07; }
	else return 0;
	if (i + len > data.size()) return 0;
	for (std::size_t k = 1; k < len; ++k)
	{
		const auto b = static_cast<unsigned char>(data[i + k]);
		if ((b & 0xC0) != 0x80) return 0;
		cp = (cp << 6) | (b & 0x3F);
	}
	// Overlong forms, surrogates and code points beyond U+10FFFF are not UTF-8.
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return 0;
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
	return len;
}

} // namespace

std::string toHex(std::string_view data, std::size_t maxBytes)
{
	const std::size_t n = data.size() < maxBytes ? data.size() : maxBytes;
	std::string out;
	out.reserve(n * 3 + 4);
	for (std::size_t i = 0; i < n; ++i)
	{
		if (i) out += ' ';
		const auto b = static_cast<unsigned char>(data[i]);
		out += kHexDigits[b >> 4];
		out += kHexDigits[b & 0x0F];
	}
	if (n < data.size()) out += " \xE2\x80\xA6";
	return out;
}

std::string hexDump(std::string_view data, std::size_t maxBytes)
{
	const std::size_t n = data.size() < maxBytes ? data.size() : maxBytes;
	std::string out;
	out.reserve((n / 16 + 1) * 78);
	char offset[32];
	for (std::size_t line = 0; line < n; line += 16)
	{
		std::snprintf(offset, sizeof offset, "%08zx  ", line);
		out += offset;
		for (std::size_t k = 0; k < 16; ++k)
		{
			if (line + k < n)
			{
				const auto b = static_cast<unsigned char>(data[line + k]);
				out += kHexDigits[b >> 4];
				out += kHexDigits[b & 0x0F];
				out += ' ';
			}
			else
			{
				out += "   ";
			}
			if (k == 7) out += ' ';
		}
		out += " |";
		for (std::size_t k = 0; k < 16 && line + k < n; ++k)
		{
			const auto b = static_cast<unsigned char>(data[line + k]);
			out += (b >= 0x20 && b < 0x7F) ? static_cast<char>(b) : '.';
		}
		out += "|\n";
	}
	if (n < data.size())
		out += "… " + groupDigits(data.size() - n) + " more bytes not shown\n";
	return out;
}

bool parseHex(std::string_view text, std::string& out, std::string& error)
{
	out.clear();
	const std::size_t n = text.size();
	std::size_t i = 0;
	auto fail = [&](const std::string& what, std::size_t at) {
		error = "hex: " + what + " at position " + std::to_string(at + 1);
		out.clear();
		return false;
	};
	while (i < n)
	{
		if (isSeparator(text[i]))
		{
			++i;
			continue;
		}
		if (text[i] == '0' && i + 1 < n && (text[i + 1] == 'x' || text[i + 1] == 'X'))
		{
			i += 2;
			if (i >= n || isSeparator(text[i])) return fail("'0x' without digits", i - 2);
		}
		const int hi = hexValue(text[i]);
		if (hi < 0) return fail("'" + std::string(1, text[i]) + "' is not a hex digit", i);
		if (i + 1 >= n || isSeparator(text[i + 1])) return fail("a lone digit (bytes need two)", i);
		const int lo = hexValue(text[i + 1]);
		if (lo < 0) return fail("'" + std::string(1, text[i + 1]) + "' is not a hex digit", i + 1);
		out += static_cast<char>((hi << 4) | lo);
		i += 2;
	}
	error.clear();
	return true;
}

bool isUtf8(std::string_view data)
{
	for (std::size_t i = 0; i < data.size();)
	{
		const std::size_t len = utf8SequenceLength(data, i);
		if (len == 0) return false;
		i += len;
	}
	return true;
}

std::string previewText(std::string_view text, std::size_t maxChars)
{
	if (!isUtf8(text))
		return "(not UTF-8) " + toHex(text, maxChars / 3);
	std::string out;
	std::size_t chars = 0;
	for (std::size_t i = 0; i < text.size();)
	{
		if (chars == maxChars)
		{
			out += "\xE2\x80\xA6";  // …
			break;
		}
		const std::size_t len = utf8SequenceLength(text, i);
		const auto c = static_cast<unsigned char>(text[i]);
		if (c == '\n') out += "\xE2\x8F\x8E";      // ⏎
		else if (c == '\t') out += "\xE2\x87\xA5"; // ⇥
		else if (c == '\r') { /* dropped */ }
		else if (c < 0x20 || c == 0x7F) out += "\xC2\xB7";  // ·
		else out.append(text.substr(i, len));
		i += len;
		++chars;
	}
	return out;
}

const char* closeCodeName(std::uint16_t code)
{
	switch (code)
	{
	case 1000: return "Normal closure";
	case 1001: return "Going away";
	case 1002: return "Protocol error";
	case 1003: return "Unsupported data";
	case 1005: return "No status received";
	case 1006: return "Abnormal closure";
	case 1007: return "Invalid payload data";
	case 1008: return "Policy violation";
	case 1009: return "Message too big";
	case 1010: return "Mandatory extension";
	case 1011: return "Internal error";
	case 1012: return "Service restart";
	case 1013: return "Try again later";
	case 1015: return "TLS handshake";
	default: return "";
	}
}

std::string describeClose(std::uint16_t code, std::string_view reason)
{
	std::string out = std::to_string(code);
	const char* name = closeCodeName(code);
	if (*name)
	{
		out += ' ';
		out += name;
	}
	if (!reason.empty())
	{
		out += ": ";
		out.append(reason);
	}
	return out;
}

std::string groupDigits(std::uint64_t n)
{
	const std::string digits = std::to_string(n);
	std::string out;
	out.reserve(digits.size() + digits.size() / 3);
	for (std::size_t i = 0; i < digits.size(); ++i)
	{
		out += digits[i];
		const std::size_t left = digits.size() - i - 1;
		if (left && left % 3 == 0) out += ',';
	}
	return out;
}

} // namespace gui
} // namespace parley
