//
// PluginCatalog.cpp
//
#include "parley/host/PluginCatalog.h"
#include <cstdio>

namespace parley {
namespace host {

std::string PluginCatalog::toText(const std::vector<PluginDescription>& plugins, const HostConfig* config)
{
	std::string out;
	for (const PluginDescription& p : plugins)
	{
		out += p.name + " " + p.version + " (" + p.kind + ") - " + p.description + "\n";
		out += "    file: " + p.path + "\n";
		if (p.settings.empty()) out += "    (no settings)\n";
		for (const auto& s : p.settings)
		{
			const std::string* value = config ? configured(*config, p.name, s.first) : nullptr;
			out += "    plugin." + p.name + "." + s.first + " = " + (value ? *value + " (default " + s.second.first + ")" : s.second.first) +
				"    " + s.second.second + "\n";
		}
	}
	if (plugins.empty()) out += "(no plugins)\n";
	return out;
}

const std::string* PluginCatalog::configured(const HostConfig& config, const std::string& plugin, const std::string& key)
{
	const Settings& settings = config.settingsFor(plugin);
	auto it = settings.find(key);
	return it == settings.end() ? nullptr : &it->second;
}

std::string PluginCatalog::quote(const std::string& text)
{
	std::string out = "\"";
	for (const char ch : text)
	{
		const unsigned char c = static_cast<unsigned char>(ch);
		switch (c)
		{
		case '"': out += "\\\""; break;
		case '\\': out += "\\\\"; break;
		case '\n': out += "\\n"; break;
		case '\r': out += "\\r"; break;
		case '\t': out += "\\t"; break;
		case '\b': out += "\\b"; break;
		case '\f': out += "\\f"; break;
		default:
			if (c < 0x20)
			{
				char buf[8];
				std::snprintf(buf, sizeof(buf), "\\u%04x", c);
				out += buf;
			}
			else
			{
				out += ch; // UTF-8 passes through unchanged
			}
		}
	}
	out += '"';
	return out;
}

std::string PluginCatalog::toJson(const std::vector<PluginDescription>& plugins, const HostConfig& config)
{
	std::string out = "{\"plugins\":[";
	bool firstPlugin = true;
	for (const PluginDescription& p : plugins)
	{
		if (!firstPlugin) out += ',';
		firstPlugin = false;
		out += "{\"name\":" + quote(p.name) + ",\"kind\":" + quote(p.kind) + ",\"version\":" + quote(p.version) + ",\"description\":" +
			quote(p.description) + ",\"file\":" + quote(p.path) + ",\"settings\":[";
		bool first = true;
		for (const auto& s : p.settings)
		{
			if (!first) out += ',';
			first = false;
			const std::string* value = configured(config, p.name, s.first);
			out += "{\"key\":" + quote(s.first) + ",\"default\":" + quote(s.second.first) + ",\"value\":" +
				quote(value ? *value : s.second.first) + ",\"configured\":" + (value ? "true" : "false") + ",\"description\":" +
				quote(s.second.second) + "}";
		}
		out += "],\"routes\":[";
		first = true;
		for (const auto& route : config.routes)
		{
			bool uses = false;
			for (const auto& name : route.second) uses = uses || name == p.name;
			for (const auto& name : config.optionsFor(route.first).gates) uses = uses || name == p.name;
			if (!uses) continue;
			if (!first) out += ',';
			first = false;
			out += quote(route.first);
		}
		out += "]}";
	}
	out += "]}\n";
	return out;
}

} // namespace host
} // namespace parley
