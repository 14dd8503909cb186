//
// PluginCatalog.h — what `parley-host --list-plugins` prints and `GET /plugins` serves.
//
#ifndef PARLEY_HOST_PLUGINCATALOG_INCLUDED
#define PARLEY_HOST_PLUGINCATALOG_INCLUDED

#include "parley/PluginRegistry.h"
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

	/// Returns {"plugins":[{"name","version","description","file","settings":[{"key","default",
	/// "description"}],"routes":[...]}]} with the routes (from `routes`: path → chain) using each.
	static std::string toJson(const std::vector<PluginDescription>& plugins,
		const std::map<std::string, std::vector<std::string>>& routes);

	/// Returns `text` as a JSON string literal (quotes included; control characters escaped).
	static std::string quote(const std::string& text);
};

} // namespace host
} // namespace parley

#endif
