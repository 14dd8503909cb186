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
	/// "separator", "min", "max", "timeout_ms", "insecure", "ca", "subprotocol", "origin",
	/// "token", "header", "deflate", "deflate_level" (0..9), "deflate_window_bits" (9..15, both
	/// ways), "deflate_no_context_takeover" (both ways), "deflate_min_size"). "subprotocol" (a name or a comma-separated list) and "header"
	/// ("Name: value") add to a list. `source` names the origin for errors, e.g. "--count" or
	/// "client.count in etc/parley-client.properties". Throws std::invalid_argument with one
	/// line for a bad value (a "ca" file that does not exist or cannot be read, a header without
	/// a colon or with CR/LF, a subprotocol that is not a token, too) or an unknown key.
	void set(const std::string& key, const std::string& value, const std::string& source);

	/// Empties a list setting ("subprotocol", "header"); other keys are left alone.
	void clear(const std::string& key);

	/// Splits "Name: value" (both trimmed). Throws std::invalid_argument naming source for a
	/// text without a colon, with an empty name, or with CR/LF.
	static void parseHeader(const std::string& text, const std::string& source, std::string& name, std::string& value);

	/// Reads the client.* keys of a .properties file (headers as client.header.<Name> = value). Throws std::invalid_argument naming the
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
