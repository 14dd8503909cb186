//
// PluginRegistry.h — loads responder plugin libraries with Poco::ClassLoader, and replaces or
// retires them while the host runs.
//
#ifndef PARLEY_PLUGINREGISTRY_INCLUDED
#define PARLEY_PLUGINREGISTRY_INCLUDED

#include "parley/Pipeline.h"
#include "parley/Gate.h"
#include "parley/Responder.h"
#include <Poco/Logger.h>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace parley {

/// What the registry knows of a loaded plugin (copied out of the library).
struct PluginDescription
{
	std::string name;
	std::string kind;       ///< "responder" or "gate"
	std::string version;
	std::string description;
	std::string path;       ///< the library file it came from (in the plugin folder)
	std::vector<std::pair<std::string, std::pair<std::string, std::string>>> settings; ///< key → (default, meaning)
};

/// Loads plugin libraries (responders and gates). A file that is not a plugin, has no manifest, a mismatched API version,
/// or whose responder cannot be constructed and configured is refused with one log line naming
/// the file; the others load. Each file is loaded from a private copy under its own path, so a
/// newer file of a loaded plugin replaces it: create() then makes the new version, while the old
/// library stays loaded until the last responder created from it is destroyed (then one log line
/// says it was retired). Thread-safe.
class PluginRegistry
{
public:
	explicit PluginRegistry(Poco::Logger& logger);
	~PluginRegistry();

	PluginRegistry(const PluginRegistry&) = delete;
	PluginRegistry& operator=(const PluginRegistry&) = delete;

	/// Settings used for the trial instance made when a library is loaded (plugin name → settings).
	void setSettings(const std::map<std::string, Settings>& settings);

	/// Loads every *.so file of `dir` (sorted by name). Returns how many were loaded.
	/// Throws std::runtime_error naming plugins.dir if the folder does not exist or cannot be read.
	std::size_t loadDirectory(const std::string& dir);

	/// Loads one library, or replaces the plugin earlier loaded from the same path. Returns true if
	/// loaded; otherwise logs one line, stores the reason in *why (if given) and returns false
	/// (a plugin being replaced then stays as it was). Never throws.
	bool loadLibrary(const std::string& path, std::string* why = nullptr);

	/// Retires the plugin loaded from `path` (its file was removed): create() no longer knows it;
	/// its library is unloaded when its last responder is gone. Returns false if none was loaded from there.
	bool unloadLibrary(const std::string& path);

	/// True if a plugin of that name is loaded.
	bool has(const std::string& name) const;

	/// "responder" or "gate" for a loaded plugin, "" if none of that name is loaded.
	std::string kindOf(const std::string& name) const;

	/// Creates and configures a responder of the current version of a plugin. The responder keeps
	/// its library loaded. Throws std::invalid_argument for an unknown plugin, a gate, a
	/// constructor that throws or a bad setting (the message names the plugin and the key).
	std::unique_ptr<Responder> create(const std::string& name, const Settings& settings) const;

	/// The same for a gate (std::invalid_argument for a responder).
	std::unique_ptr<Gate> createGate(const std::string& name, const Settings& settings) const;

	/// The plugin's own object behind a responder made by create() (which wraps it to keep the
	/// library loaded), or `responder` itself if it did not come from create(). Calling the
	/// target saves one indirection per message; it lives as long as `responder`.
	static Responder& target(Responder& responder) noexcept;

	/// Descriptions of the loaded plugins, sorted by name.
	std::vector<PluginDescription> plugins() const;

	/// Increases with every load, replacement and removal: a user of create() that sees a new
	/// value makes its responders again.
	std::uint64_t generation() const;

	/// How many libraries are loaded, counting replaced ones still in use.
	std::size_t loadedLibraries() const;

	struct Library;
	struct Shared;

private:
	Poco::Logger& _logger;
	std::shared_ptr<Shared> _shared;
};

} // namespace parley

#endif
