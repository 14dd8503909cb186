//
// Url.cpp
//
#include "parley/client/Url.h"
#include <cctype>
#include <stdexcept>

namespace parley {
namespace client {

namespace {

[[noreturn]] void fail(std::string_view text, const std::string& why)
{
	std::string shown;
	for (char c : text)
	{
		unsigned char u = static_cast<unsigned char>(c);
		if (u < 0x20 || u == 0x7F)
		{
			static const char hex[] = "0123456789abcdef";
			shown += "\\x";
			shown += hex[u >> 4];
			shown += hex[u & 0xF];
		}
		else
		{
			shown += c;
		}
	}
	throw std::invalid_argument("bad URL '" + shown + "': " + why);
}

bool startsWithNoCase(std::string_view text, std::string_view prefix)
{
	if (text.size() < prefix.size())
		return false;
	for (std::size_t i = 0; i < prefix.size(); ++i)
	{
		if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
			return false;
	}
	return true;
}

bool isHostChar(char c)
{
	unsigned char u = static_cast<unsigned char>(c);
	return std::isalnum(u) || c == '-' || c == '.' || c == '_';
}

} // namespace

Url Url::parse(std::string_view text)
{
	static const char expected[] = "expected ws://host[:port][/path] or wss://host[:port][/path]";
	if (text.empty())
		fail(text, std::string("empty (") + expected + ")");
	for (char c : text)
	{
		unsigned char u = static_cast<unsigned char>(c);
		if (u <= 0x20 || u == 0x7F)
			fail(text, "contains a space or control character");
	}
	Url url;
	std::size_t schemeLength = 0;
	if (startsWithNoCase(text, "wss://"))
	{
		url.secure = true;
		url.port = 443;
		schemeLength = 6;
	}
	else if (startsWithNoCase(text, "ws://"))
		schemeLength = 5;
	else
	{
		std::size_t colon = text.find("://");
		if (colon != std::string_view::npos)
			fail(text, "scheme '" + std::string(text.substr(0, colon)) + "' is not supported (" + expected + ")");
		fail(text, expected);
	}

	std::string_view rest = text.substr(schemeLength);
	std::size_t authorityEnd = rest.find_first_of("/?#");
	std::string_view authority = rest.substr(0, authorityEnd);
	std::string_view tail = authorityEnd == std::string_view::npos ? std::string_view() : rest.substr(authorityEnd);

	if (authority.find('@') != std::string_view::npos)
		fail(text, "user information (user@host) is not supported");
	if (tail.find('#') != std::string_view::npos)
		fail(text, "fragments (#...) are not allowed in WebSocket URLs");

	std::string_view portText;
	bool hasPort = false;
	if (!authority.empty() && authority.front() == '[')
	{
		std::size_t close = authority.find(']');
		if (close == std::string_view::npos)
			fail(text, "unterminated '[' in the host");
		std::string_view host = authority.substr(1, close - 1);
		if (host.empty())
			fail(text, "empty host");
		for (char c : host)
		{
			if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
				fail(text, "bad character '" + std::string(1, c) + "' in the IPv6 address");
		}
		url.host = std::string(host);
		std::string_view after = authority.substr(close + 1);
		if (!after.empty())
		{
			if (after.front() != ':')
				fail(text, "unexpected text after ']'");
			hasPort = true;
			portText = after.substr(1);
		}
	}
	else
	{
		std::size_t colon = authority.find(':');
		std::string_view host = authority.substr(0, colon);
		if (host.empty())
			fail(text, std::string("no host (") + expected + ")");
		for (char c : host)
		{
			if (!isHostChar(c))
				fail(text, "bad character '" + std::string(1, c) + "' in the host");
		}
		url.host = std::string(host);
		if (colon != std::string_view::npos)
		{
			hasPort = true;
			portText = authority.substr(colon + 1);
		}
	}

	if (hasPort)
	{
		if (portText.empty())
			fail(text, "empty port after ':'");
		unsigned long port = 0;
		for (char c : portText)
		{
			if (!std::isdigit(static_cast<unsigned char>(c)))
				fail(text, "port '" + std::string(portText) + "' is not a number");
			port = port * 10 + static_cast<unsigned long>(c - '0');
			if (port > 65535)
				fail(text, "port '" + std::string(portText) + "' is out of range (1-65535)");
		}
		if (port == 0)
			fail(text, "port 0 is not allowed (1-65535)");
		url.port = static_cast<std::uint16_t>(port);
	}

	if (tail.empty())
		url.path = "/";
	else if (tail.front() == '?')
		url.path = "/" + std::string(tail);
	else
		url.path = std::string(tail);
	return url;
}

std::string Url::str() const
{
	std::string out = secure ? "wss://" : "ws://";
	if (host.find(':') != std::string::npos)
		out += "[" + host + "]";
	else
		out += host;
	out += ':';
	out += std::to_string(port);
	out += path.empty() ? std::string("/") : path;
	return out;
}

} // namespace client
} // namespace parley
