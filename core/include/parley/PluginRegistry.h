//
// PluginRegistry.h — loads responder plugin libraries with Poco::ClassLoader.
//
#ifndef PARLEY_PLUGINREGISTRY_INCLUDED
#define PARLEY_PLUGINREGISTRY_INCLUDED

#include "parley/Pipeline.h"
#include "parley/Responder.h"
#include <Poco/ClassLoader.h>
#include <Poco/Logger.h>
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
	std::string version;
	std::string description;
	std::string path;       ///< the library file it came from
	std::vector<std::pair<std::string, std::pair<std::string, std::string>>> settings; ///< key → (default, meaning)
};

/// Loads every plugin library of a folder. A library that is not a plugin, has no manifest or
/// a mismatched API version is refused with one log line naming the file; the others load.
/// Thread-safe. Destroy every responder before the registry.
class PluginRegistry
{
public:
	explicit PluginRegistry(Poco::Logger& logger);
	~PluginRegistry();

	PluginRegistry(const PluginRegistry&) = delete;
	PluginRegistry& operator=(const PluginRegistry&) = delete;

	/// Loads every *.so file of `dir` (sorted by name). Returns how many were loaded.
	/// Throws std::runtime_error if the folder does not exist or cannot be read.
	std::size_t loadDirectory(const std::string& dir);

	/// Loads one library. Returns true if loaded; otherwise logs one line, stores it in *why (if
	/// given) and returns false. Never throws.
	bool loadLibrary(const std::string& path, std::string* why = nullptr);

	/// True if a plugin of that name is loaded.
	bool has(const std::string& name) const;

	/// Creates and configures a responder. Throws std::invalid_argument for an unknown plugin
	/// or a bad setting (the message names the plugin and the key).
	std::unique_ptr<Responder> create(const std::string& name, const Settings& settings) const;

	/// Descriptions of the loaded plugins, sorted by name.
	std::vector<PluginDescription> plugins() const;

private:
	struct Loaded
	{
		PluginDescription description;
		std::string className;
	};
	using Loader = Poco::ClassLoader<Responder>;

	Poco::Logger& _logger;
	mutable std::mutex _mutex;
	Loader _loader;
	std::map<std::string, Loaded> _byName;
};

} // namespace parley

#endif
