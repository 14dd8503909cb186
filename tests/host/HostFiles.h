//
// HostFiles.h — the temporary folders of the tests that run the real parley-host binary: HostFiles
// (a plugins/ folder filled with named plugin files, and configuration files on free ports) and,
// for the tests whose host watches its folders, Folder with writeFile and deploy.
//
#ifndef PARLEY_TESTS_HOST_HOSTFILES_INCLUDED
#define PARLEY_TESTS_HOST_HOSTFILES_INCLUDED

#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/Process.h>
#include <Poco/TemporaryFile.h>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <string>

namespace parley {
namespace test {

/// Owns Poco::Path::temp() + "parley-<name>-test-<pid>/": created by the constructor, removed
/// (with everything in it) by the destructor. A fixture makes one in setUp and drops it in tearDown.
class HostFiles
{
public:
	/// Creates the folder "parley-`name`-test-<pid>/" in the system's temporary folder.
	explicit HostFiles(const std::string& name)
		: _dir(Poco::Path::temp() + "parley-" + name + "-test-" + std::to_string(Poco::Process::id()) + "/")
	{
		Poco::File(_dir).createDirectories();
	}

	~HostFiles()
	{
		try
		{
			Poco::File(_dir).remove(true);
		}
		catch (...)
		{
		}
	}

	HostFiles(const HostFiles&) = delete;
	HostFiles& operator=(const HostFiles&) = delete;

	/// The folder, ending with "/".
	const std::string& dir() const { return _dir; }

	/// The plugins/ folder inside it (ending with "/"), which writeConfig names as plugins.dir.
	std::string plugins() const { return _dir + "plugins/"; }

	/// Copies the files `names` of folder `from` (pluginDir() or testPluginDir()) into plugins/,
	/// creating it if needed.
	void copyPlugins(const std::string& from, std::initializer_list<const char*> names) const
	{
		Poco::File(plugins()).createDirectories();
		for (const char* name : names) Poco::File(from + "/" + name).copyTo(plugins());
	}

	/// The keys every configuration of these tests starts with: loopback, free ports, no watching,
	/// plugins from `pluginsDir`.
	static std::string commonKeys(const std::string& pluginsDir)
	{
		return "server.address = 127.0.0.1\nserver.port = 0\nadmin.port = 0\nplugins.watch = false\nplugins.dir = " +
			pluginsDir + "\n";
	}

	/// Writes commonKeys(plugins()) then `body` into a new configuration file; returns its path.
	std::string writeConfig(const std::string& body) { return write(commonKeys(plugins()) + body); }

	/// Writes `text` as it is into a new file host-<n>.properties (n counts the calls); returns its path.
	std::string write(const std::string& text)
	{
		const std::string path = _dir + "host-" + std::to_string(_files++) + ".properties";
		std::ofstream out(path);
		out << text;
		return path;
	}

private:
	std::string _dir;
	int _files = 0;
};

/// A folder of its own (Poco::TemporaryFile::tempName(), so a test may have several), removed with
/// everything in it at the end; for the tests whose host watches the plugin and configuration folders.
struct Folder
{
	Folder() : path(Poco::TemporaryFile::tempName()) { Poco::File(path).createDirectories(); }
	~Folder()
	{
		try
		{
			Poco::File(path).remove(true);
		}
		catch (...)
		{
		}
	}
	std::string file(const std::string& name) const { return path + "/" + name; }
	std::string path;
};

/// Writes `text` to `path` through a rename, so that the host never reads half a configuration.
inline void writeFile(const std::string& path, const std::string& text)
{
	{
		std::ofstream out(path + ".new");
		out << text;
	}
	std::rename((path + ".new").c_str(), path.c_str());
}

/// Copies the plugin file `from` into `dir` as `name` through a rename, so that a watching host
/// never loads half a file.
inline void deploy(const std::string& from, const Folder& dir, const std::string& name)
{
	const std::string temp = dir.file("." + name + ".tmp");
	Poco::File(from).copyTo(temp);
	std::rename(temp.c_str(), dir.file(name).c_str());
}

} // namespace test
} // namespace parley

#endif
