//
// Settings.cpp
//
#include "Settings.h"
#include <algorithm>
#include <wx/confbase.h>
#include <wx/log.h>
#include <wx/string.h>

namespace parley {
namespace gui {

namespace {

std::string readString(wxConfigBase& config, const char* key, const std::string& fallback)
{
	wxString value;
	if (!config.Read(wxString::FromUTF8(key), &value)) return fallback;
	return value.utf8_string();
}

void writeString(wxConfigBase& config, const char* key, const std::string& value)
{
	config.Write(wxString::FromUTF8(key), wxString::FromUTF8(value));
}

int readInt(wxConfigBase& config, const char* key, int fallback)
{
	long value = fallback;
	config.Read(wxString::FromUTF8(key), &value, static_cast<long>(fallback));
	return static_cast<int>(value);
}

bool readBool(wxConfigBase& config, const char* key, bool fallback)
{
	bool value = fallback;
	config.Read(wxString::FromUTF8(key), &value, fallback);
	return value;
}

} // namespace

Settings Settings::load(wxConfigBase& config)
{
	Settings s;
	s.url = readString(config, "/Connection/Url", s.url);
	for (int i = 0; i < 15; ++i)
	{
		const std::string key = "/Connection/History/" + std::to_string(i);
		const std::string url = readString(config, key.c_str(), "");
		if (url.empty()) break;
		s.urlHistory.push_back(url);
	}
	s.subprotocol = readString(config, "/Connection/Subprotocol", s.subprotocol);
	s.origin = readString(config, "/Connection/Origin", s.origin);
	s.headers = readString(config, "/Connection/Headers", s.headers);
	s.autoReconnect = readBool(config, "/Connection/AutoReconnect", s.autoReconnect);
	s.reconnectAttempts = readInt(config, "/Connection/ReconnectAttempts", s.reconnectAttempts);
	s.reconnectIntervalMs = readInt(config, "/Connection/ReconnectIntervalMs", s.reconnectIntervalMs);
	s.closeCode = readInt(config, "/Connection/CloseCode", s.closeCode);
	s.closeReason = readString(config, "/Connection/CloseReason", s.closeReason);
	s.insecure = readBool(config, "/Connection/Insecure", s.insecure);
	s.caFile = readString(config, "/Connection/CaFile", s.caFile);
	s.deflate = readBool(config, "/Connection/Deflate", s.deflate);

	s.composerText = readString(config, "/Composer/Text", s.composerText);
	s.composerBinary = readBool(config, "/Composer/Binary", s.composerBinary);
	const int saved = readInt(config, "/Composer/Saved/Count", 0);
	for (int i = 0; i < saved; ++i)
	{
		const std::string base = "/Composer/Saved/" + std::to_string(i) + "/";
		SavedMessage m;
		m.name = readString(config, (base + "Name").c_str(), "");
		m.payload = readString(config, (base + "Payload").c_str(), "");
		m.binary = readBool(config, (base + "Binary").c_str(), false);
		if (!m.name.empty()) s.savedMessages.push_back(std::move(m));
	}

	const std::string count = readString(config, "/Load/Count", std::to_string(s.loadCount));
	try
	{
		s.loadCount = std::max<std::uint64_t>(1, std::stoull(count));
	}
	catch (const std::exception&)
	{
		// keep the default
	}
	s.loadWindow = std::max(1, readInt(config, "/Load/Window", s.loadWindow));
	s.loadConnections = std::max(1, readInt(config, "/Load/Connections", s.loadConnections));
	s.loadSize = std::max(0, readInt(config, "/Load/Size", s.loadSize));
	s.loadExpect = std::clamp(readInt(config, "/Load/Expect", s.loadExpect), 0, 2);
	s.loadBinary = readBool(config, "/Load/Binary", s.loadBinary);

	s.hostConfig = readString(config, "/Host/Config", s.hostConfig);
	s.hostPort = readInt(config, "/Host/Port", s.hostPort);

	s.x = readInt(config, "/Window/X", s.x);
	s.y = readInt(config, "/Window/Y", s.y);
	s.width = readInt(config, "/Window/Width", s.width);
	s.height = readInt(config, "/Window/Height", s.height);
	s.maximized = readBool(config, "/Window/Maximized", s.maximized);
	s.mainSash = readInt(config, "/Window/MainSash", s.mainSash);
	s.logSash = std::clamp(readInt(config, "/Window/DetailHeight", s.logSash), 120, 2000);
	return s;
}

void Settings::save(wxConfigBase& config) const
{
	writeString(config, "/Connection/Url", url);
	config.DeleteGroup("/Connection/History");
	for (std::size_t i = 0; i < urlHistory.size(); ++i)
		writeString(config, ("/Connection/History/" + std::to_string(i)).c_str(), urlHistory[i]);
	writeString(config, "/Connection/Subprotocol", subprotocol);
	writeString(config, "/Connection/Origin", origin);
	writeString(config, "/Connection/Headers", headers);
	config.Write("/Connection/AutoReconnect", autoReconnect);
	config.Write("/Connection/ReconnectAttempts", reconnectAttempts);
	config.Write("/Connection/ReconnectIntervalMs", reconnectIntervalMs);
	config.Write("/Connection/CloseCode", closeCode);
	writeString(config, "/Connection/CloseReason", closeReason);
	config.Write("/Connection/Insecure", insecure);
	writeString(config, "/Connection/CaFile", caFile);
	config.Write("/Connection/Deflate", deflate);

	writeString(config, "/Composer/Text", composerText);
	config.Write("/Composer/Binary", composerBinary);
	config.DeleteGroup("/Composer/Saved");
	config.Write("/Composer/Saved/Count", static_cast<long>(savedMessages.size()));
	for (std::size_t i = 0; i < savedMessages.size(); ++i)
	{
		const std::string base = "/Composer/Saved/" + std::to_string(i) + "/";
		writeString(config, (base + "Name").c_str(), savedMessages[i].name);
		writeString(config, (base + "Payload").c_str(), savedMessages[i].payload);
		config.Write(wxString::FromUTF8(base + "Binary"), savedMessages[i].binary);
	}

	writeString(config, "/Load/Count", std::to_string(loadCount));
	config.Write("/Load/Window", loadWindow);
	config.Write("/Load/Connections", loadConnections);
	config.Write("/Load/Size", loadSize);
	config.Write("/Load/Expect", loadExpect);
	config.Write("/Load/Binary", loadBinary);

	writeString(config, "/Host/Config", hostConfig);
	config.Write("/Host/Port", hostPort);

	config.Write("/Window/X", x);
	config.Write("/Window/Y", y);
	config.Write("/Window/Width", width);
	config.Write("/Window/Height", height);
	config.Write("/Window/Maximized", maximized);
	config.Write("/Window/MainSash", mainSash);
	config.Write("/Window/DetailHeight", logSash);
	if (!config.Flush()) wxLogWarning("could not write the settings file");
}

void Settings::rememberUrl(const std::string& newUrl)
{
	url = newUrl;
	urlHistory.erase(std::remove(urlHistory.begin(), urlHistory.end(), newUrl), urlHistory.end());
	urlHistory.insert(urlHistory.begin(), newUrl);
	if (urlHistory.size() > 15) urlHistory.resize(15);
}

} // namespace gui
} // namespace parley
