//
// LoggingSetup.h — the host's logging: a console default, then Poco's logging.* keys of the
// host's .properties file (logging.formatters.*, logging.channels.*, logging.loggers.*).
//
#ifndef PARLEY_HOST_LOGGINGSETUP_INCLUDED
#define PARLEY_HOST_LOGGINGSETUP_INCLUDED

#include <Poco/Util/AbstractConfiguration.h>
#include <string>

namespace parley {
namespace host {

/// The console format of every logger when logging.* says nothing else.
constexpr const char* DefaultLogPattern = "%Y-%m-%d %H:%M:%S.%i [%p] %t";

/// Routes every logger to the console with `pattern`.
void useConsoleLogging(const std::string& pattern = DefaultLogPattern);

/// Applies the logging.* keys of `config` with Poco::Util::LoggingConfigurator on top of what is
/// in place (the console default), after checking each key: a channel or formatter class that
/// does not exist, a property the class does not have or a value it refuses, a logger naming a
/// channel that is not defined, a level that is not one, an unknown logging.* key, a channel that
/// cannot open (a FileChannel's folder that does not exist). Throws parley::ConfigError naming
/// the key ("logging.channels.file.rotation: ...") and changes nothing then.
void configureLogging(const Poco::Util::AbstractConfiguration::Ptr& config);

/// Checks the logging.* keys of `config` as configureLogging() does, without applying them or
/// opening any channel (for a configuration check). Throws parley::ConfigError naming the key.
void checkLogging(const Poco::Util::AbstractConfiguration& config);

/// Loads the .properties file `path` and applies its logging.* keys (configureLogging), or with
/// `checkOnly` only checks them (checkLogging). Throws parley::ConfigError "<path>: <key>: <what>".
void configureLoggingFromFile(const std::string& path, bool checkOnly = false);

} // namespace host
} // namespace parley

#endif
