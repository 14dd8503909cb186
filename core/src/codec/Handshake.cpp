//
// Handshake.cpp — RFC 6455 §4 opening handshake helpers.
//
#include "parley/codec/Handshake.h"
#include <Poco/SHA1Engine.h>
#include <cstdint>
#include <random>

namespace parley {
namespace codec {

namespace {

constexpr const char* Base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(const unsigned char* data, std::size_t size)
{
	std::string out;
	out.reserve((size + 2) / 3 * 4);
	std::size_t i = 0;
	for (; i + 3 <= size; i += 3)
	{
		const std::uint32_t v = (std::uint32_t(data[i]) << 16) | (std::uint32_t(data[i + 1]) << 8) | data[i + 2];
		out += Base64Alphabet[(v >> 18) & 63];
		out += Base64Alphabet[(v >> 12) & 63];
		out += Base64Alphabet[(v >> 6) & 63];
		out += Base64Alphabet[v & 63];
	}
	const std::size_t rest = size - i;
	if (rest != 0)
	{
		std::uint32_t v = std::uint32_t(data[i]) << 16;
		if (rest == 2)
			v |= std::uint32_t(data[i + 1]) << 8;
		out += Base64Alphabet[(v >> 18) & 63];
		out += Base64Alphabet[(v >> 12) & 63];
		out += rest == 2 ? Base64Alphabet[(v >> 6) & 63] : '=';
		out += '=';
	}
	return out;
}

bool isBase64Char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

bool isSpace(char c)
{
	return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s)
{
	while (!s.empty() && isSpace(s.front()))
		s.remove_prefix(1);
	while (!s.empty() && isSpace(s.back()))
		s.remove_suffix(1);
	return s;
}

char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
	if (a.size() != b.size())
		return false;
	for (std::size_t i = 0; i < a.size(); ++i)
	{
		if (lower(a[i]) != lower(b[i]))
			return false;
	}
	return true;
}

/// Calls f(item) for each trimmed, non-empty item of a comma-separated list until f returns true;
/// returns whether it did.
template <typename F>
bool anyItem(std::string_view list, F f)
{
	while (!list.empty())
	{
		const std::size_t comma = list.find(',');
		const std::string_view item = trim(list.substr(0, comma));
		if (!item.empty() && f(item))
			return true;
		if (comma == std::string_view::npos)
			break;
		list.remove_prefix(comma + 1);
	}
	return false;
}

/// True for "HTTP/1.1", "HTTP/1.2", "HTTP/2.0" ...: at least HTTP/1.1.
bool isHttp11OrLater(std::string_view v)
{
	constexpr std::string_view prefix = "HTTP/";
	if (v.size() < prefix.size() + 3 || v.substr(0, prefix.size()) != prefix)
		return false;
	v.remove_prefix(prefix.size());
	const std::size_t dot = v.find('.');
	if (dot == 0 || dot == std::string_view::npos || dot + 1 == v.size())
		return false;
	unsigned long major = 0;
	unsigned long minor = 0;
	for (std::size_t i = 0; i < v.size(); ++i)
	{
		if (i == dot)
			continue;
		const char c = v[i];
		if (c < '0' || c > '9')
			return false;
		unsigned long& part = i < dot ? major : minor;
		if (part > 1000)
			return false;
		part = part * 10 + static_cast<unsigned long>(c - '0');
	}
	return major > 1 || (major == 1 && minor >= 1);
}

} // namespace

std::string Handshake::acceptFor(std::string_view key)
{
	Poco::SHA1Engine sha1;
	sha1.update(key.data(), static_cast<unsigned>(key.size()));
	sha1.update(Guid);
	const Poco::DigestEngine::Digest& digest = sha1.digest();
	return base64(digest.data(), digest.size());
}

bool Handshake::isValidKey(std::string_view key)
{
	// 16 bytes encode as 22 significant characters plus "==".
	if (key.size() != 24 || key[22] != '=' || key[23] != '=')
		return false;
	for (std::size_t i = 0; i < 22; ++i)
	{
		if (!isBase64Char(key[i]))
			return false;
	}
	return true;
}

std::string Handshake::generateKey()
{
	std::random_device device;
	unsigned char bytes[16];
	for (std::size_t i = 0; i < sizeof(bytes); i += 4)
	{
		const std::uint32_t r = device();
		for (std::size_t k = 0; k < 4; ++k)
			bytes[i + k] = static_cast<unsigned char>(r >> (8 * k));
	}
	return base64(bytes, sizeof(bytes));
}

bool Handshake::isTokenChar(char c) noexcept
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
	return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool Handshake::isToken(std::string_view s) noexcept
{
	if (s.empty()) return false;
	for (char c : s)
		if (!isTokenChar(c)) return false;
	return true;
}

bool Handshake::hasToken(std::string_view headerValue, std::string_view token)
{
	return anyItem(headerValue, [token](std::string_view item) { return equalsIgnoreCase(item, token); });
}

UpgradeVerdict Handshake::evaluate(const UpgradeRequest& request, const std::vector<std::string>& supported)
{
	UpgradeVerdict verdict;
	auto refuse = [&verdict](int status, const char* reason) {
		verdict.status = status;
		verdict.reason = reason;
		return verdict;
	};
	if (request.method != "GET")
		return refuse(405, "WebSocket upgrade requires GET");
	if (!isHttp11OrLater(request.httpVersion))
		return refuse(400, "WebSocket upgrade requires HTTP/1.1 or later");
	if (!hasToken(request.upgrade, "websocket"))
		return refuse(426, "missing Upgrade: websocket");
	if (!hasToken(request.connection, "upgrade"))
		return refuse(426, "missing Connection: Upgrade");
	if (trim(request.version) != "13")
		return refuse(426, "unsupported Sec-WebSocket-Version (13 required)");
	const std::string_view key = trim(request.key);
	if (!isValidKey(key))
		return refuse(400, "missing or invalid Sec-WebSocket-Key");
	verdict.accept = acceptFor(key);
	anyItem(request.protocols, [&](std::string_view offer) {
		for (const std::string& s : supported)
		{
			if (offer == s)
			{
				verdict.protocol = s;
				return true;
			}
		}
		return false;
	});
	return verdict;
}

} // namespace codec
} // namespace parley
