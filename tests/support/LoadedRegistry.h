//
// LoadedRegistry.h — a PluginRegistry holding the real plugins of the build, with a captured log.
//
#ifndef PARLEY_TESTS_LOADEDREGISTRY_INCLUDED
#define PARLEY_TESTS_LOADEDREGISTRY_INCLUDED

#include "parley/PluginRegistry.h"
#include "support/LogCapture.h"
#include "support/TestEnv.h"

namespace parley {
namespace test {

class LoadedRegistry
{
public:
	LoadedRegistry(): _registry(_log.logger()) { _registry.loadDirectory(pluginDir()); }
	PluginRegistry& registry() { return _registry; }
	LogCapture& log() { return _log; }

private:
	LogCapture _log;          // declared first: outlives the registry
	PluginRegistry _registry;
};

} // namespace test
} // namespace parley

#endif
