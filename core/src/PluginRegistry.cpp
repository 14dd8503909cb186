//
// PluginRegistry.cpp
//
#include "parley/PluginRegistry.h"
#include <Poco/DirectoryIterator.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/SharedLibrary.h>
#include <algorithm>
#include <stdexcept>

namespace parley {

namespace {

using ApiVersionFunc = int (*)();
using PluginInfoFunc = const PluginInfo* (*)();

std::string safe(const char* s)
{
	return s ? std::string(s) : std::string();
}

} // namespace

PluginRegistry::PluginRegistry(Poco::Logger& logger): _logger(logger)
{
}

PluginRegistry::~PluginRegistry()
{
	std::lock_guard<std::mutex> lock(_mutex);
	for (const auto& entry : _byName)
	{
		try
		{
			_loader.unloadLibrary(entry.second.description.path);
		}
		catch (const Poco::Exception&)
		{
		}
	}
}

std::size_t PluginRegistry::loadDirectory(const std::string& dir)
{
	Poco::File folder(dir);
	if (!folder.exists()) throw std::runtime_error("plugins.dir: plugin folder '" + dir + "' does not exist");
	if (!folder.isDirectory()) throw std::runtime_error("plugins.dir: '" + dir + "' is not a folder");
	std::vector<std::string> files;
	try
	{
		for (Poco::DirectoryIterator it(dir), end; it != end; ++it)
		{
			const std::string name = it.name();
			if (name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0 && it->isFile()) files.push_back(it->path());
		}
	}
	catch (const Poco::Exception& e)
	{
		throw std::runtime_error("plugins.dir: cannot read plugin folder '" + dir + "': " + e.displayText());
	}
	std::sort(files.begin(), files.end());
	std::size_t loaded = 0;
	for (const auto& file : files)
	{
		if (loadLibrary(file)) ++loaded;
	}
	return loaded;
}

bool PluginRegistry::loadLibrary(const std::string& path, std::string* why)
{
	auto refuse = [&](const std::string& reason) {
		_logger.error("plugin %s refused: %s", path, reason);
		if (why) *why = reason;
		return false;
	};

	// Read the API version through a plain handle first: a library built against another
	// contract must not be asked for its manifest or have its classes instantiated.
	Poco::SharedLibrary probe;
	PluginDescription description;
	std::string className;
	try
	{
		probe.load(path);
	}
	catch (const Poco::Exception& e)
	{
		return refuse("not a loadable library (" + e.displayText() + ")");
	}
	try
	{
		if (!probe.hasSymbol("parleyApiVersion") || !probe.hasSymbol("parleyPluginInfo"))
		{
			probe.unload();
			return refuse("not a Parley plugin (no parleyApiVersion; use PARLEY_DECLARE_PLUGIN)");
		}
		const int version = reinterpret_cast<ApiVersionFunc>(probe.getSymbol("parleyApiVersion"))();
		if (version != PARLEY_API_VERSION)
		{
			probe.unload();
			return refuse("API version " + std::to_string(version) + ", this host speaks " + std::to_string(PARLEY_API_VERSION));
		}
		const PluginInfo* info = reinterpret_cast<PluginInfoFunc>(probe.getSymbol("parleyPluginInfo"))();
		if (!info || !info->name || !*info->name || !info->className)
		{
			probe.unload();
			return refuse("plugin metadata incomplete (name and class are required)");
		}
		description.name = info->name;
		description.version = safe(info->version);
		description.description = safe(info->description);
		description.path = path;
		for (std::size_t i = 0; info->settings && i < info->settingCount; ++i)
		{
			const SettingInfo& s = info->settings[i];
			description.settings.push_back({safe(s.key), {safe(s.defaultValue), safe(s.description)}});
		}
		className = info->className;
	}
	catch (const Poco::Exception& e)
	{
		probe.unload();
		return refuse(e.displayText());
	}

	std::lock_guard<std::mutex> lock(_mutex);
	auto existing = _byName.find(description.name);
	if (existing != _byName.end())
	{
		probe.unload();
		return refuse("plugin name '" + description.name + "' is already loaded from " + existing->second.description.path);
	}
	try
	{
		_loader.loadLibrary(path);
	}
	catch (const Poco::Exception& e)
	{
		probe.unload();
		return refuse(e.displayText());
	}
	probe.unload(); // the class loader holds its own reference
	const auto* manifest = _loader.findManifest(path);
	if (!manifest || manifest->find(className) == manifest->end())
	{
		_loader.unloadLibrary(path);
		return refuse("manifest does not export class " + className);
	}
	_logger.information("plugin %s %s loaded from %s", description.name, description.version, path);
	const std::string name = description.name;
	_byName[name] = Loaded{std::move(description), std::move(className)};
	return true;
}

bool PluginRegistry::has(const std::string& name) const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _byName.count(name) != 0;
}

std::unique_ptr<Responder> PluginRegistry::create(const std::string& name, const Settings& settings) const
{
	std::unique_ptr<Responder> responder;
	{
		std::lock_guard<std::mutex> lock(_mutex);
		auto it = _byName.find(name);
		if (it == _byName.end()) throw std::invalid_argument("unknown plugin '" + name + "'");
		const auto* manifest = _loader.findManifest(it->second.description.path);
		if (!manifest || manifest->find(it->second.className) == manifest->end())
			throw std::invalid_argument("plugin '" + name + "' lost its class " + it->second.className);
		try
		{
			responder.reset(manifest->find(it->second.className)->create());
		}
		catch (const std::exception& e)
		{
			throw std::invalid_argument("plugin '" + name + "': constructor failed: " + e.what());
		}
	}
	try
	{
		responder->configure(settings);
	}
	catch (const std::exception& e)
	{
		throw std::invalid_argument("plugin." + name + ": " + e.what());
	}
	return responder;
}

std::vector<PluginDescription> PluginRegistry::plugins() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	std::vector<PluginDescription> result;
	for (const auto& entry : _byName) result.push_back(entry.second.description);
	return result;
}

} // namespace parley
