//
// PluginCatalog.h — what `parley-host --list-plugins` prints and `GET /plugins` serves.
//
#ifndef PARLEY_HOST_PLUGINCATALOG_INCLUDED
#define PARLEY_HOST_PLUGINCATALOG_INCLUDED

#include "parley/PluginRegistry.h"
#include "parley/config/HostConfig.h"
#include <map>
#include <string>
#include <vector>

namespace parley {
namespace host {

/// Formats plugin descriptions for people and for programs.
class PluginCatalog
{
public:
	/// Returns one block per plugin: "name version — description", then one indented line per
	/// setting "plugin.<name>.<key> = <default>   <meaning>" (or "(no settings)"); a setting that
	/// `config` (if given) sets reads "= <value> (default <default>)".
	static std::string toText(const std::vector<PluginDescription>& plugins, const HostConfig* config = nullptr);

	/// Returns {"plugins":[{"name","kind","version","description","file","settings":[{"key","default",
	/// "value","configured","description"}],"routes":[...]}]}: "value" is the one in force (what
	/// `config` sets under plugin.<name>.<key>, else the default; "configured" says which), and the
	/// routes of `config` using each plugin (in their chain or, for a gate, in route.<path>.gates).
	static std::string toJson(const std::vector<PluginDescription>& plugins, const HostConfig& config);

	/// Returns the value `config` sets for plugin.<plugin>.<key>, or null.
	static const std::string* configured(const HostConfig& config, const std::string& plugin, const std::string& key);

	/// Returns `text` as a JSON string literal (quotes included; control characters escaped).
	static std::string quote(const std::string& text);
};

} // namespace host
} // namespace parley

#endif
