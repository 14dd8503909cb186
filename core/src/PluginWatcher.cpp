//
// PluginWatcher.cpp
//
#include "parley/PluginWatcher.h"
#include <Poco/Delegate.h>
#include <Poco/DirectoryIterator.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#include <sys/stat.h>

namespace parley {

namespace {

bool isLibraryName(const std::string& path)
{
	const std::string name = Poco::Path(path).getFileName();
	return name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0 && name[0] != '.';
}

} // namespace

PluginWatcher::PluginWatcher(PluginRegistry& registry, const std::string& dir, Poco::Logger& logger,
	std::chrono::milliseconds debounce)
	: _registry(registry), _dir(dir), _logger(logger), _debounce(debounce)
{
	// Files already present were loaded at start-up: remember their state so that only real
	// changes reload them.
	for (Poco::DirectoryIterator it(dir), end; it != end; ++it)
	{
		FileState state;
		if (isLibraryName(it->path()) && stateOf(it->path(), state)) _loadedState[it->path()] = state;
	}
	_worker = std::thread([this] { run(); });
	try
	{
		_watcher.reset(new Poco::DirectoryWatcher(dir, Poco::DirectoryWatcher::DW_FILTER_ENABLE_ALL, 1));
	}
	catch (...)
	{
		{
			std::lock_guard<std::mutex> lock(_mutex);
			_stop = true;
		}
		_wake.notify_all();
		_worker.join();
		throw;
	}
	_watcher->itemAdded += Poco::delegate(this, &PluginWatcher::onChange);
	_watcher->itemModified += Poco::delegate(this, &PluginWatcher::onChange);
	_watcher->itemRemoved += Poco::delegate(this, &PluginWatcher::onChange);
	_watcher->itemMovedTo += Poco::delegate(this, &PluginWatcher::onChange);
	_watcher->itemMovedFrom += Poco::delegate(this, &PluginWatcher::onChange);
	_watcher->scanError += Poco::delegate(this, &PluginWatcher::onError);
}

PluginWatcher::~PluginWatcher()
{
	_watcher->itemAdded -= Poco::delegate(this, &PluginWatcher::onChange);
	_watcher->itemModified -= Poco::delegate(this, &PluginWatcher::onChange);
	_watcher->itemRemoved -= Poco::delegate(this, &PluginWatcher::onChange);
	_watcher->itemMovedTo -= Poco::delegate(this, &PluginWatcher::onChange);
	_watcher->itemMovedFrom -= Poco::delegate(this, &PluginWatcher::onChange);
	_watcher->scanError -= Poco::delegate(this, &PluginWatcher::onError);
	_watcher.reset();
	{
		std::lock_guard<std::mutex> lock(_mutex);
		_stop = true;
	}
	_wake.notify_all();
	_worker.join();
}

bool PluginWatcher::stateOf(const std::string& path, FileState& state)
{
	struct stat st;
	if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
	state.inode = st.st_ino;
	state.size = static_cast<unsigned long long>(st.st_size);
	state.mtimeNs = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
	return true;
}

std::uint64_t PluginWatcher::processed() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _processed;
}

void PluginWatcher::onChange(const Poco::DirectoryWatcher::DirectoryEvent& event)
{
	const std::string path = event.item.path();
	if (!isLibraryName(path)) return;
	{
		std::lock_guard<std::mutex> lock(_mutex);
		Pending& pending = _pending[path];
		pending.lastEvent = std::chrono::steady_clock::now();
		pending.seen = false;
	}
	_wake.notify_all();
}

void PluginWatcher::onError(const Poco::Exception& error)
{
	_logger.error("plugin folder %s: %s", _dir, error.displayText());
}

void PluginWatcher::run()
{
	std::unique_lock<std::mutex> lock(_mutex);
	while (!_stop)
	{
		if (_pending.empty())
			_wake.wait_for(lock, RescanInterval);
		else
			_wake.wait_for(lock, std::chrono::milliseconds(50));
		if (_stop) break;
		const auto now = std::chrono::steady_clock::now();
		if (now - _lastScan >= RescanInterval)
		{
			// inotify misses what happens before its watch is set up (and some file systems have no
			// events at all): compare the folder with what is loaded now and then.
			_lastScan = now;
			lock.unlock();
			std::map<std::string, FileState> present;
			try
			{
				for (Poco::DirectoryIterator it(_dir), end; it != end; ++it)
				{
					FileState state;
					if (isLibraryName(it->path()) && stateOf(it->path(), state)) present[it->path()] = state;
				}
			}
			catch (const Poco::Exception&)
			{
			}
			lock.lock();
			for (const auto& file : present)
			{
				auto known = _loadedState.find(file.first);
				if ((known == _loadedState.end() || known->second != file.second) && !_pending.count(file.first))
					_pending[file.first].lastEvent = now - _debounce;
			}
			for (const auto& known : _loadedState)
			{
				if (!present.count(known.first) && !_pending.count(known.first)) _pending[known.first].lastEvent = now - _debounce;
			}
		}
		for (auto it = _pending.begin(); it != _pending.end() && !_stop;)
		{
			const std::string path = it->first;
			Pending& pending = it->second;
			if (now - pending.lastEvent < _debounce)
			{
				++it;
				continue;
			}
			// Quiet for the debounce time: the file must also look the same twice in a row.
			FileState state;
			const bool exists = stateOf(path, state);
			if (exists && (!pending.seen || pending.state != state))
			{
				pending.seen = true;
				pending.state = state;
				pending.lastEvent = now;
				++it;
				continue;
			}
			it = _pending.erase(it);
			auto known = _loadedState.find(path);
			if (exists && known != _loadedState.end() && known->second == state) continue; // no real change
			lock.unlock();
			if (exists)
				_registry.loadLibrary(path);
			else
				_registry.unloadLibrary(path);
			lock.lock();
			if (exists)
				_loadedState[path] = state; // a refused file is tried again when it changes
			else
				_loadedState.erase(path);
			++_processed;
			it = _pending.begin(); // the map may have changed while unlocked
		}
	}
}

} // namespace parley
