//
// Origins.h — the allowed browser origins of a route (server.origins, route.<path>.origins):
// exact origins, "*." subdomain and ":*" port wildcards, "null" by name, "*" for any.
//
#ifndef PARLEY_CONFIG_ORIGINS_INCLUDED
#define PARLEY_CONFIG_ORIGINS_INCLUDED

#include <string>
#include <string_view>
#include <vector>

namespace parley {

/// One entry of an origin list.
struct OriginRule
{
	enum class Kind { Exact, AnyOrigin, Null };
	Kind kind = Kind::Exact;
	std::string scheme;          ///< lower case, e.g. "https"
	std::string host;            ///< lower case; with `subdomains`, the parent domain ("example.com")
	bool subdomains = false;     ///< "*.example.com": any subdomain (not the domain itself)
	int port = 0;                ///< the port; the scheme's default port if none was written; -1 = any (":*")
	std::string text;            ///< as written, for messages

	/// Parses one entry. Returns false (and why) if it is not "null", "*" or scheme://host[:port]
	/// with an optional "*." before the host and ":*" as the port (no path, no user info).
	static bool parse(std::string_view entry, OriginRule& rule, std::string* why);
};

class OriginList
{
public:
	/// Parses a comma-separated list; throws std::invalid_argument (the bad entry and why).
	static OriginList parse(std::string_view list);

	/// True if the value of an Origin header is allowed. A malformed Origin is never allowed.
	bool allows(std::string_view origin) const;

	bool empty() const { return _rules.empty(); }
	const std::vector<OriginRule>& rules() const { return _rules; }
	/// The entries as written, comma-separated.
	std::string describe() const;

private:
	std::vector<OriginRule> _rules;
};

} // namespace parley

#endif
