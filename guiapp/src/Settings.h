//
// Settings.h — what parley-gui remembers between runs, read from and written to a wxConfigBase
// (the user's ~/.config/parley-gui.conf; tests pass a throwaway wxFileConfig).
//
#ifndef PARLEY_GUI_SETTINGS_INCLUDED
#define PARLEY_GUI_SETTINGS_INCLUDED

#include <cstdint>
#include <string>
#include <vector>

class wxConfigBase;

namespace parley {
namespace gui {

struct SavedMessage
{
	std::string name;
	std::string payload;  ///< as typed: text, or hex when binary
	bool binary = false;
};

struct Settings
{
	// Connection
	std::string url = "ws://127.0.0.1:8080/ws";
	std::vector<std::string> urlHistory;  ///< most recent first
	std::string subprotocol;              ///< offered subprotocols as typed: "chat.v2, chat.v1"
	std::string origin;                   ///< sent as Origin ("" = none)
	std::string headers;                  ///< "Name: value" per line
	bool autoReconnect = false;
	int reconnectAttempts = 3;
	int reconnectIntervalMs = 2000;
	int closeCode = 1000;
	std::string closeReason;
	bool insecure = false;                ///< wss://: accept self-signed / untrusted certificates
	std::string caFile;                   ///< wss://: a PEM file of certificates to trust too ("" = none)
	bool deflate = false;                 ///< offer permessage-deflate (compress messages when the server agrees)

	// Composer
	std::string composerText = "hello parley";
	bool composerBinary = false;
	std::vector<SavedMessage> savedMessages;

	// Load run
	std::uint64_t loadCount = 10000;
	int loadWindow = 64;
	int loadConnections = 1;
	int loadSize = 0;
	int loadExpect = 0;  ///< index of client::Expect
	bool loadBinary = false;

	// Local host
	std::string hostConfig;  ///< "" = the default etc/parley-host.properties
	int hostPort = 0;        ///< 0 = the port in the configuration file

	// Window
	int x = -1, y = -1, width = 1280, height = 820;
	bool maximized = false;
	int mainSash = 480;   ///< width of the left column
	int logSash = 220;    ///< the payload pane's height below the message list

	/// Returns the settings stored in config, defaults for anything missing.
	static Settings load(wxConfigBase& config);
	/// Writes every setting to config and flushes it.
	void save(wxConfigBase& config) const;
	/// Puts url first in the history (no duplicates, at most 15 entries).
	void rememberUrl(const std::string& url);
};

} // namespace gui
} // namespace parley

#endif
