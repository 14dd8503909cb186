//
// ClientSettings.h — parley-client's settings: defaults, then a client.* properties file, then
// the command line, each value checked with a one-line error naming where it came from.
//
#ifndef PARLEY_CLIENTAPP_CLIENTSETTINGS_INCLUDED
#define PARLEY_CLIENTAPP_CLIENTSETTINGS_INCLUDED

#include "parley/client/LoadRun.h"
#include <string>

namespace parley {
namespace clientapp {

class ClientSettings
{
public:
	/// The keys of a client.* file, without the prefix, in the order --help lists them.
	static const char* const Keys[];

	/// Sets one setting by key ("url", "count", "window", "conns", "size", "binary", "expect",
	/// "separator", "min", "max", "timeout_ms", "insecure", "ca"). `source` names the origin for
	/// errors, e.g. "--count" or "client.count in etc/parley-client.properties". Throws
	/// std::invalid_argument with one line for a bad value (a "ca" file that does not exist or
	/// cannot be read, too) or an unknown key.
	void set(const std::string& key, const std::string& value, const std::string& source);

	/// Reads the client.* keys of a .properties file. Throws std::invalid_argument naming the
	/// file (missing, unreadable) or the key (bad value).
	void loadFile(const std::string& path);

	/// Returns the load options built so far.
	const client::LoadOptions& options() const noexcept { return _options; }
	client::LoadOptions& options() noexcept { return _options; }

	/// Parses "prefix", "echo", "random-suffix". Throws std::invalid_argument.
	static client::Expect parseExpect(const std::string& text);

private:
	client::LoadOptions _options;
};

} // namespace clientapp
} // namespace parley

#endif
