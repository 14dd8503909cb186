//
// TestEnv.h — paths of the build that tests use (real plugins, binaries, Debian's python3).
//
#ifndef PARLEY_TESTS_TESTENV_INCLUDED
#define PARLEY_TESTS_TESTENV_INCLUDED

#include <string>

namespace parley {
namespace test {

inline std::string sourceDir() { return PARLEY_SOURCE_DIR; }
inline std::string binDir() { return PARLEY_BIN_DIR; }
inline std::string pluginDir() { return PARLEY_PLUGIN_DIR; }
inline std::string testPluginDir() { return PARLEY_TEST_PLUGIN_DIR; }
/// Where plugins go under an install prefix (lib/parley/plugins).
inline std::string pluginSubdir() { return PARLEY_PLUGIN_SUBDIR; }
/// Debian's /usr/bin/python3 (which has python3-websocket and python3-websockets).
inline std::string python() { return PARLEY_PYTHON; }

} // namespace test
} // namespace parley

#endif
