//
// Origins.cpp
//
#include "parley/config/Origins.h"
#include <cctype>
#include <stdexcept>

namespace parley {

namespace {

std::string lower(std::string_view s)
{
	std::string r(s);
	for (char& ch : r) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
	return r;
}

std::string_view trim(std::string_view s)
{
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
	return s;
}

int defaultPort(const std::string& scheme)
{
	if (scheme == "http" || scheme == "ws") return 80;
	if (scheme == "https" || scheme == "wss") return 443;
	return 0;
}

bool validScheme(std::string_view s)
{
	if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
	for (char ch : s)
		if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '+' && ch != '-' && ch != '.') return false;
	return true;
}

/// A host name, an IPv4 address or a bracketed IPv6 address.
bool validHost(std::string_view h)
{
	if (h.empty()) return false;
	if (h.front() == '[')
	{
		if (h.size() < 3 || h.back() != ']') return false;
		for (char ch : h.substr(1, h.size() - 2))
			if (!std::isxdigit(static_cast<unsigned char>(ch)) && ch != ':' && ch != '.') return false;
		return true;
	}
	for (char ch : h)
		if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '.' && ch != '_') return false;
	return h.front() != '.' && h.back() != '.';
}

/// Splits scheme://host[:port]. `allowWildcards`: "*." before the host, "*" as the port.
bool split(std::string_view entry, bool allowWildcards, OriginRule& rule, std::string* why)
{
	auto fail = [why](const char* text) {
		if (why) *why = text;
		return false;
	};
	const std::size_t sep = entry.find("://");
	if (sep == std::string_view::npos || !validScheme(entry.substr(0, sep)))
		return fail("expected scheme://host[:port], e.g. https://example.com");
	rule.scheme = lower(entry.substr(0, sep));
	std::string_view rest = entry.substr(sep + 3);
	if (rest.find_first_of("/?#@") != std::string_view::npos) return fail("an origin has no path, query or user name");
	std::string_view port;
	const std::size_t colon = rest.rfind(':');
	if (colon != std::string_view::npos && rest.find(']', colon) == std::string_view::npos)
	{
		port = rest.substr(colon + 1);
		rest = rest.substr(0, colon);
		if (port.empty()) return fail("empty port");
	}
	if (allowWildcards && rest.substr(0, 2) == "*.")
	{
		rule.subdomains = true;
		rest.remove_prefix(2);
	}
	if (!validHost(rest)) return fail("not a host name or address");
	rule.host = lower(rest);
	if (port.empty())
		rule.port = defaultPort(rule.scheme);
	else if (allowWildcards && port == "*")
		rule.port = -1;
	else
	{
		if (port.size() > 5) return fail("port out of range");
		int value = 0;
		for (char ch : port)
		{
			if (!std::isdigit(static_cast<unsigned char>(ch))) return fail("the port is not a number (or *)");
			value = value * 10 + (ch - '0');
		}
		if (value < 1 || value > 65535) return fail("port out of range");
		rule.port = value;
	}
	return true;
}

} // namespace

bool OriginRule::parse(std::string_view entry, OriginRule& rule, std::string* why)
{
	rule = OriginRule();
	entry = trim(entry);
	rule.text = std::string(entry);
	if (entry == "null")
	{
		rule.kind = Kind::Null;
		return true;
	}
	if (entry == "*")
	{
		rule.kind = Kind::AnyOrigin;
		return true;
	}
	return split(entry, true, rule, why);
}

OriginList OriginList::parse(std::string_view list)
{
	OriginList result;
	while (!list.empty())
	{
		const std::size_t comma = list.find(',');
		const std::string_view item = trim(list.substr(0, comma));
		list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
		if (item.empty()) continue;
		OriginRule rule;
		std::string why;
		if (!OriginRule::parse(item, rule, &why)) throw std::invalid_argument("'" + std::string(item) + "': " + why);
		result._rules.push_back(std::move(rule));
	}
	return result;
}

bool OriginList::allows(std::string_view origin) const
{
	origin = trim(origin);
	if (origin == "null")
	{
		for (const OriginRule& r : _rules)
			if (r.kind == OriginRule::Kind::Null || r.kind == OriginRule::Kind::AnyOrigin) return true;
		return false;
	}
	OriginRule seen;
	if (!split(origin, false, seen, nullptr)) return false;
	for (const OriginRule& r : _rules)
	{
		if (r.kind == OriginRule::Kind::AnyOrigin) return true;
		if (r.kind != OriginRule::Kind::Exact || r.scheme != seen.scheme) continue;
		if (r.port != -1 && r.port != seen.port) continue;
		if (!r.subdomains)
		{
			if (r.host == seen.host) return true;
			continue;
		}
		// "*.example.com": "a.example.com" and "a.b.example.com", not "example.com" or "badexample.com".
		if (seen.host.size() > r.host.size() + 1 &&
			seen.host.compare(seen.host.size() - r.host.size(), r.host.size(), r.host) == 0 &&
			seen.host[seen.host.size() - r.host.size() - 1] == '.')
			return true;
	}
	return false;
}

std::string OriginList::describe() const
{
	std::string out;
	for (const OriginRule& r : _rules)
	{
		if (!out.empty()) out += ", ";
		out += r.text;
	}
	return out;
}

} // namespace parley
