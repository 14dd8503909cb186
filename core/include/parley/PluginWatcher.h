//
// PluginWatcher.h — watches the plugin folder and loads, replaces and retires plugins while the
// host runs (hot drop-in).
//
#ifndef PARLEY_PLUGINWATCHER_INCLUDED
#define PARLEY_PLUGINWATCHER_INCLUDED

#include "parley/PluginRegistry.h"
#include <Poco/DirectoryWatcher.h>
#include <Poco/Logger.h>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace parley {

/// Watches a folder with Poco::DirectoryWatcher. A *.so file that appears or changes is loaded
/// (or replaces the plugin loaded from it) once it has stayed unchanged for the debounce time; a
/// removed file retires its plugin. Deploy by copying to a temporary name and renaming into the
/// folder; a half-written file is refused (one log line) and tried again when it changes. The
/// folder is also compared with what is loaded once a second, for changes inotify did not report.
class PluginWatcher
{
public:
	/// Starts watching at once. Throws Poco::Exception if the folder cannot be watched.
	PluginWatcher(PluginRegistry& registry, const std::string& dir, Poco::Logger& logger,
		std::chrono::milliseconds debounce = std::chrono::milliseconds(300));
	/// Stops watching and joins the worker thread.
	~PluginWatcher();

	PluginWatcher(const PluginWatcher&) = delete;
	PluginWatcher& operator=(const PluginWatcher&) = delete;

	/// How many files were processed (loaded, refused or retired) so far.
	std::uint64_t processed() const;

private:
	/// What identifies one version of a file: inode, size and modification time (ns).
	struct FileState
	{
		unsigned long long inode = 0, size = 0;
		long long mtimeNs = 0;
		bool operator==(const FileState& o) const { return inode == o.inode && size == o.size && mtimeNs == o.mtimeNs; }
		bool operator!=(const FileState& o) const { return !(*this == o); }
	};

	struct Pending
	{
		std::chrono::steady_clock::time_point lastEvent;
		FileState state;
		bool seen = false;
	};

	/// Returns false if the path is not a regular file.
	static bool stateOf(const std::string& path, FileState& state);

	void onChange(const Poco::DirectoryWatcher::DirectoryEvent& event);
	void onError(const Poco::Exception& error);
	void run();

	PluginRegistry& _registry;
	std::string _dir;
	Poco::Logger& _logger;
	std::chrono::milliseconds _debounce;
	mutable std::mutex _mutex;
	std::condition_variable _wake;
	std::map<std::string, Pending> _pending;
	std::map<std::string, FileState> _loadedState;
	std::uint64_t _processed = 0;
	bool _stop = false;
	std::chrono::steady_clock::time_point _lastScan = std::chrono::steady_clock::now();
	static constexpr std::chrono::milliseconds RescanInterval{1000};
	std::thread _worker;
	std::unique_ptr<Poco::DirectoryWatcher> _watcher;
};

} // namespace parley

#endif
