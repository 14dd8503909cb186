//
// PluginRegistry.cpp
//
#include "parley/PluginRegistry.h"
#include "parley/Gate.h"
#include <Poco/ClassLoader.h>
#include <Poco/DirectoryIterator.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/Process.h>
#include <Poco/SharedLibrary.h>
#include <Poco/TemporaryFile.h>
#include <algorithm>
#include <cstring>
#include <atomic>
#include <elf.h>
#include <fstream>
#include <stdexcept>

namespace parley {

namespace {

using ApiVersionFunc = int (*)();
using PluginInfoFunc = const PluginInfo* (*)();
using Loader = Poco::ClassLoader<Plugin>;

std::string safe(const char* s)
{
	return s ? std::string(s) : std::string();
}

/// Checks that a file is a whole 64-bit ELF shared object: every segment and the section header
/// table lie inside the file. dlopen() accepts a truncated library (a file still being written)
/// and the process then dies on the first access past its end, so this runs before it.
/// Returns "" if complete, else why not.
std::string checkElf(const std::string& path)
{
	std::ifstream in(path, std::ios::binary);
	if (!in) return "cannot open the file";
	in.seekg(0, std::ios::end);
	const auto fileSize = static_cast<std::uint64_t>(in.tellg());
	in.seekg(0);
	Elf64_Ehdr header{};
	if (!in.read(reinterpret_cast<char*>(&header), sizeof(header)) || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0)
		return "not an ELF file";
	if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_type != ET_DYN) return "not a 64-bit shared object";
	if (header.e_shoff + std::uint64_t(header.e_shnum) * header.e_shentsize > fileSize)
		return "the file is truncated (still being written?)";
	for (unsigned i = 0; i < header.e_phnum; ++i)
	{
		Elf64_Phdr segment{};
		in.seekg(static_cast<std::streamoff>(header.e_phoff + std::uint64_t(i) * header.e_phentsize));
		if (!in.read(reinterpret_cast<char*>(&segment), sizeof(segment))) return "the file is truncated (still being written?)";
		if (segment.p_type == PT_LOAD && segment.p_offset + segment.p_filesz > fileSize)
			return "the file is truncated (still being written?)";
	}
	return "";
}

} // namespace

/// What the registry and every library share; outlives the registry while responders live.
struct PluginRegistry::Shared
{
	explicit Shared(Poco::Logger& l): logger(l) {}
	Poco::Logger& logger;
	std::mutex mutex;
	Loader loader;
	std::string shadowDir;
	std::uint64_t nextCopy = 0;
	std::atomic<std::uint64_t> generation{0};
	std::map<std::string, std::shared_ptr<Library>> byName;   // current version of each plugin
	std::map<std::string, Settings> settings;
	std::size_t libraries = 0;
};

/// One loaded library file (a private copy). Unloaded when the registry and every responder let go.
struct PluginRegistry::Library
{
	std::shared_ptr<Shared> shared;
	PluginDescription description;
	std::string className;
	std::string copyPath;
	bool replaced = false;

	~Library()
	{
		std::lock_guard<std::mutex> lock(shared->mutex);
		try
		{
			shared->loader.unloadLibrary(copyPath);
		}
		catch (const Poco::Exception&)
		{
		}
		--shared->libraries;
		try
		{
			Poco::File(copyPath).remove();
		}
		catch (const Poco::Exception&)
		{
		}
		if (replaced)
			shared->logger.information("plugin %s %s retired (from %s)", description.name, description.version, description.path);
	}
};

namespace {

/// Keeps a responder's library loaded for as long as the responder lives.
class BoundResponder: public Responder
{
public:
	BoundResponder(std::shared_ptr<PluginRegistry::Library> library, std::unique_ptr<Plugin> plugin)
		: _library(std::move(library)), _plugin(std::move(plugin)), _inner(_plugin->asResponder())
	{
	}
	void configure(const Settings& settings) override { _inner->configure(settings); }
	void attach(Outbox& outbox) override { _inner->attach(outbox); }
	void onOpen(const ConnectionInfo& connection) override { _inner->onOpen(connection); }
	void onClose(ConnectionId connection) override { _inner->onClose(connection); }
	bool blocking() const override { return _inner->blocking(); }
	void respond(const Message& message, Reply& reply) override { _inner->respond(message, reply); }
	Responder& inner() noexcept { return *_inner; }

private:
	std::shared_ptr<PluginRegistry::Library> _library; // destroyed after _plugin
	std::unique_ptr<Plugin> _plugin;
	Responder* _inner;
};

/// Keeps a gate's library loaded for as long as the gate lives.
class BoundGate: public Gate
{
public:
	BoundGate(std::shared_ptr<PluginRegistry::Library> library, std::unique_ptr<Plugin> plugin)
		: _library(std::move(library)), _plugin(std::move(plugin)), _inner(_plugin->asGate())
	{
	}
	void configure(const Settings& settings) override { _inner->configure(settings); }
	void check(const GateRequest& request, GateVerdict& verdict) override { _inner->check(request, verdict); }

private:
	std::shared_ptr<PluginRegistry::Library> _library; // destroyed after _plugin
	std::unique_ptr<Plugin> _plugin;
	Gate* _inner;
};

} // namespace

Responder& PluginRegistry::target(Responder& responder) noexcept
{
	if (auto* bound = dynamic_cast<BoundResponder*>(&responder)) return bound->inner();
	return responder;
}

namespace {

std::unique_ptr<Plugin> instantiate(const std::shared_ptr<PluginRegistry::Library>& library)
{
	std::unique_ptr<Plugin> raw;
	{
		std::lock_guard<std::mutex> lock(library->shared->mutex);
		const auto* manifest = library->shared->loader.findManifest(library->copyPath);
		if (!manifest || manifest->find(library->className) == manifest->end())
			throw std::invalid_argument("plugin '" + library->description.name + "' lost its class " + library->className);
		raw.reset(manifest->find(library->className)->create());
	}
	if (raw->asResponder()) return std::unique_ptr<Plugin>(new BoundResponder(library, std::move(raw)));
	if (raw->asGate()) return std::unique_ptr<Plugin>(new BoundGate(library, std::move(raw)));
	throw std::invalid_argument("plugin '" + library->description.name + "' is neither a responder nor a gate");
}

/// Makes and configures a plugin of `library`, bound to it.
std::unique_ptr<Plugin> createConfigured(const std::shared_ptr<PluginRegistry::Library>& library, const Settings& settings)
{
	const std::string& name = library->description.name;
	std::unique_ptr<Plugin> responder;
	try
	{
		responder = instantiate(library);
	}
	catch (const std::invalid_argument&)
	{
		throw;
	}
	catch (const std::exception& e)
	{
		throw std::invalid_argument("plugin '" + name + "': constructor failed: " + e.what());
	}
	catch (...)
	{
		throw std::invalid_argument("plugin '" + name + "': constructor failed");
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

} // namespace

PluginRegistry::PluginRegistry(Poco::Logger& logger): _logger(logger), _shared(std::make_shared<Shared>(logger))
{
	_shared->shadowDir = Poco::Path::forDirectory(Poco::TemporaryFile::tempName()).toString();
	Poco::File(_shared->shadowDir).createDirectories();
}

PluginRegistry::~PluginRegistry()
{
	std::map<std::string, std::shared_ptr<Library>> current;
	{
		std::lock_guard<std::mutex> lock(_shared->mutex);
		current.swap(_shared->byName);
	}
	current.clear(); // unloads what no responder holds any more
	try
	{
		Poco::File(_shared->shadowDir).remove(true);
	}
	catch (const Poco::Exception&)
	{
	}
}

void PluginRegistry::setSettings(const std::map<std::string, Settings>& settings)
{
	std::lock_guard<std::mutex> lock(_shared->mutex);
	_shared->settings = settings;
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
		_logger.error("plugin file %s refused: %s", path, reason);
		if (why) *why = reason;
		return false;
	};

	// A private copy under its own path: Poco keys libraries by path, the file in the plugin folder
	// may be overwritten while we run, and the old version must stay mapped until it is retired.
	std::string copyPath;
	{
		std::lock_guard<std::mutex> lock(_shared->mutex);
		copyPath = _shared->shadowDir + Poco::Path(path).getBaseName() + "." + std::to_string(++_shared->nextCopy) + ".so";
	}
	try
	{
		Poco::File(path).copyTo(copyPath);
	}
	catch (const Poco::Exception& e)
	{
		return refuse("cannot read the file (" + e.displayText() + ")");
	}
	auto discardCopy = [&]() {
		try
		{
			Poco::File(copyPath).remove();
		}
		catch (const Poco::Exception&)
		{
		}
	};

	// Read the API version through a plain handle first: a library built against another
	// contract must not be asked for its manifest or have its classes instantiated.
	PluginDescription description;
	std::string className;
	const std::string elfProblem = checkElf(copyPath);
	if (!elfProblem.empty())
	{
		discardCopy();
		return refuse("not a loadable library (" + elfProblem + ")");
	}
	{
		Poco::SharedLibrary probe;
		try
		{
			probe.load(copyPath);
		}
		catch (const Poco::Exception& e)
		{
			discardCopy();
			return refuse("not a loadable library (" + (e.message().empty() ? e.displayText() : e.message()) + ")");
		}
		std::string reason;
		if (!probe.hasSymbol("parleyApiVersion") || !probe.hasSymbol("parleyPluginInfo"))
		{
			reason = "not a Parley plugin (no parleyApiVersion; declare it with PARLEY_DECLARE_PLUGIN)";
		}
		else
		{
			const int version = reinterpret_cast<ApiVersionFunc>(probe.getSymbol("parleyApiVersion"))();
			const PluginInfo* info = reinterpret_cast<PluginInfoFunc>(probe.getSymbol("parleyPluginInfo"))();
			if (version < PARLEY_API_OLDEST_VERSION || version > PARLEY_API_VERSION)
				reason = "API version " + std::to_string(version) + ", this host speaks " +
					std::to_string(PARLEY_API_OLDEST_VERSION) + " to " + std::to_string(PARLEY_API_VERSION);
			else if (!info || !info->name || !*info->name || !info->className)
				reason = "plugin metadata incomplete (name and class are required)";
			else
			{
				description.name = info->name;
				description.kind = safe(info->kind) == "gate" ? "gate" : "responder";
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
		}
		if (reason.empty())
		{
			// Load through the class loader while the probe still holds the library.
			std::lock_guard<std::mutex> lock(_shared->mutex);
			try
			{
				_shared->loader.loadLibrary(copyPath);
				++_shared->libraries;
			}
			catch (const Poco::Exception& e)
			{
				reason = e.displayText();
			}
		}
		probe.unload();
		if (!reason.empty())
		{
			discardCopy();
			return refuse(reason);
		}
	}
	// From here on, dropping `library` unloads the class loader's copy.
	auto library = std::make_shared<Library>();
	library->shared = _shared;
	library->copyPath = copyPath;
	library->description = std::move(description);
	library->className = std::move(className);
	const std::string name = library->description.name;
	{
		bool exported = false;
		{
			std::lock_guard<std::mutex> lock(_shared->mutex);
			const auto* manifest = _shared->loader.findManifest(copyPath);
			exported = manifest && manifest->find(library->className) != manifest->end();
		}
		if (!exported) return refuse("its manifest does not export class " + library->className);
	}
	// A trial instance, configured with the plugin's settings: a library whose constructor or
	// configure() throws is refused here, not when a connection needs it.
	Settings settings;
	std::shared_ptr<Library> previous;
	{
		std::lock_guard<std::mutex> lock(_shared->mutex);
		auto it = _shared->settings.find(name);
		if (it != _shared->settings.end()) settings = it->second;
		auto existing = _shared->byName.find(name);
		if (existing != _shared->byName.end())
		{
			previous = existing->second;
			if (previous->description.path != path)
				return refuse("plugin name '" + name + "' is already loaded from " + previous->description.path);
		}
	}
	try
	{
		createConfigured(library, settings);
	}
	catch (const std::exception& e)
	{
		return refuse(e.what());
	}
	{
		std::lock_guard<std::mutex> lock(_shared->mutex);
		_shared->byName[name] = library;
		if (previous) previous->replaced = true;
		++_shared->generation;
	}
	if (previous)
		_logger.information("plugin %s %s replaced by %s from %s", name, previous->description.version, library->description.version, path);
	else
		_logger.information("plugin %s %s loaded from %s", name, library->description.version, path);
	return true;
}

bool PluginRegistry::unloadLibrary(const std::string& path)
{
	std::shared_ptr<Library> removed;
	{
		std::lock_guard<std::mutex> lock(_shared->mutex);
		for (auto it = _shared->byName.begin(); it != _shared->byName.end(); ++it)
		{
			if (it->second->description.path == path)
			{
				removed = it->second;
				removed->replaced = true;
				_shared->byName.erase(it);
				++_shared->generation;
				break;
			}
		}
	}
	if (!removed) return false;
	_logger.information("plugin %s %s removed (file %s is gone)", removed->description.name, removed->description.version, path);
	return true;
}

bool PluginRegistry::has(const std::string& name) const
{
	std::lock_guard<std::mutex> lock(_shared->mutex);
	return _shared->byName.count(name) != 0;
}

std::string PluginRegistry::kindOf(const std::string& name) const
{
	std::lock_guard<std::mutex> lock(_shared->mutex);
	auto it = _shared->byName.find(name);
	return it == _shared->byName.end() ? std::string() : it->second->description.kind;
}

namespace {

std::shared_ptr<PluginRegistry::Library> find(const std::shared_ptr<PluginRegistry::Shared>& shared, const std::string& name,
	const char* kind)
{
	std::lock_guard<std::mutex> lock(shared->mutex);
	auto it = shared->byName.find(name);
	if (it == shared->byName.end()) throw std::invalid_argument("unknown plugin '" + name + "'");
	if (it->second->description.kind != kind)
		throw std::invalid_argument("plugin '" + name + "' is a " + it->second->description.kind + ", not a " + kind);
	return it->second;
}

} // namespace

std::unique_ptr<Responder> PluginRegistry::create(const std::string& name, const Settings& settings) const
{
	std::unique_ptr<Plugin> plugin = createConfigured(find(_shared, name, "responder"), settings);
	if (!plugin->asResponder())
		throw std::invalid_argument("plugin '" + name + "' declares itself a responder but its class is not a parley::Responder");
	return std::unique_ptr<Responder>(plugin.release()->asResponder());
}

std::unique_ptr<Gate> PluginRegistry::createGate(const std::string& name, const Settings& settings) const
{
	std::unique_ptr<Plugin> plugin = createConfigured(find(_shared, name, "gate"), settings);
	if (!plugin->asGate())
		throw std::invalid_argument("plugin '" + name + "' declares itself a gate but its class is not a parley::Gate");
	return std::unique_ptr<Gate>(plugin.release()->asGate());
}

std::vector<PluginDescription> PluginRegistry::plugins() const
{
	std::lock_guard<std::mutex> lock(_shared->mutex);
	std::vector<PluginDescription> result;
	for (const auto& entry : _shared->byName) result.push_back(entry.second->description);
	return result;
}

std::uint64_t PluginRegistry::generation() const
{
	return _shared->generation.load();
}

std::size_t PluginRegistry::loadedLibraries() const
{
	std::lock_guard<std::mutex> lock(_shared->mutex);
	return _shared->libraries;
}

} // namespace parley
