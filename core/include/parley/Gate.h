// Gate.h — the gate plugin contract: an upgrade request in, "admit, as whom" or "refuse, with
// which status" out, before the 101. Standard headers only (plus <Poco/ClassLibrary.h> for the
// manifest, as for responders).
#ifndef PARLEY_GATE_INCLUDED
#define PARLEY_GATE_INCLUDED

#include "parley/Plugin.h"
#include <cctype>
#include <utility>
#include <vector>

namespace parley {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// An upgrade request as a gate sees it; the views are valid during Gate::check().
struct GateRequest
{
	std::string_view method;           ///< "GET"
	std::string_view path;             ///< the route path
	std::string_view query;            ///< what followed '?', undecoded
	std::string_view subprotocol;      ///< the one the host selected ("" if none)
	std::string_view identity;         ///< whom the route's earlier gates admitted ("" for the first)
	std::string_view remoteAddress;    ///< the client's IP address
	std::uint16_t remotePort = 0;
	bool tls = false;
	const Headers* headers = nullptr;  ///< as received, in order

	/// The first header of that name (case-insensitive), or "".
	std::string_view header(std::string_view name) const
	{
		for (const auto& h : *headers)
			if (same(h.first, name)) return h.second;
		return {};
	}

	/// A cookie's value from the Cookie headers, or "".
	std::string_view cookie(std::string_view name) const
	{
		for (const auto& h : *headers)
		{
			if (!same(h.first, "Cookie")) continue;
			std::string_view rest = h.second;
			while (!rest.empty())
			{
				std::string_view item = rest.substr(0, rest.find(';'));
				rest = item.size() < rest.size() ? rest.substr(item.size() + 1) : std::string_view();
				while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
				const std::size_t eq = item.find('=');
				if (eq != std::string_view::npos && item.substr(0, eq) == name) return item.substr(eq + 1);
			}
		}
		return {};
	}

	/// A query parameter's first value, percent-decoded ('+' is a space), or "".
	std::string parameter(std::string_view name) const
	{
		std::string_view rest = query;
		while (!rest.empty())
		{
			std::string_view item = rest.substr(0, rest.find('&'));
			rest = item.size() < rest.size() ? rest.substr(item.size() + 1) : std::string_view();
			const std::size_t eq = item.find('=');
			if (item.substr(0, eq) != name) continue;
			std::string value;
			const std::string_view raw = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
			for (std::size_t i = 0; i < raw.size(); ++i)
			{
				if (raw[i] == '+') value += ' ';
				else if (raw[i] == '%' && i + 2 < raw.size() && std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
					std::isxdigit(static_cast<unsigned char>(raw[i + 2])))
				{
					value += static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 2)), nullptr, 16));
					i += 2;
				}
				else value += raw[i];
			}
			return value;
		}
		return {};
	}

private:
	static bool same(std::string_view a, std::string_view b)
	{
		if (a.size() != b.size()) return false;
		for (std::size_t i = 0; i < a.size(); ++i)
			if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
		return true;
	}
};

/// A gate's answer. It starts as a refusal (401, no reason): a gate admits explicitly.
struct GateVerdict
{
	bool admitted = false;
	std::string identity;              ///< admitted: who it is ("" keeps what earlier gates said)
	Attributes attributes;             ///< admitted: added to the connection's attributes
	std::int64_t expiresAt = 0;        ///< admitted: Unix time (s) at which the host closes with 1008; 0 = never
	int status = 401;                  ///< refused: 401, 403 or 429 (anything else goes out as 403)
	std::string reason;                ///< refused: one line for the client (the answer's body)
	Headers headers;                   ///< refused: extra response headers (WWW-Authenticate, Retry-After)

	void admit(std::string who = {}) { admitted = true; identity = std::move(who); }
	void refuse(int code, std::string why) { admitted = false; status = code; reason = std::move(why); }
};

/// Admits or refuses upgrade requests of the routes that name it (route.<path>.gates). check()
/// runs on the host's worker threads, so it may block (a database, a remote service); one
/// instance per worker, so never concurrently on one instance. The handshake deadline
/// (engine.handshake_timeout_ms) covers it; an exception or the deadline refuses with 503.
class PARLEY_PLUGIN_EXPORT Gate : public Plugin
{
public:
	Gate* asGate() noexcept final { return this; }
	virtual void check(const GateRequest& request, GateVerdict& verdict) = 0;
};

} // namespace parley

#endif // PARLEY_GATE_INCLUDED
