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
	/// setting "plugin.<name>.<key> = <default>   <meaning>" (or "(no settings)").
	static std::string toText(const std::vector<PluginDescription>& plugins);

	/// Returns {"plugins":[{"name","kind","version","description","file","settings":[{"key","default",
	/// "description"}],"routes":[...]}]} with the routes of `config` using each (in their chain
	/// or, for a gate, in route.<path>.gates).
	static std::string toJson(const std::vector<PluginDescription>& plugins, const HostConfig& config);

	/// Returns `text` as a JSON string literal (quotes included; control characters escaped).
	static std::string quote(const std::string& text);
};

} // namespace host
} // namespace parley

#endif
