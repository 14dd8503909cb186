// Plugin.h — what every Parley plugin shares: settings, the connection a plugin hears about, the
// metadata a library declares. Standard headers only. A plugin includes Responder.h or Gate.h
// (which include this file) and <Poco/ClassLibrary.h> for the manifest PARLEY_DECLARE_PLUGIN emits.
#ifndef PARLEY_PLUGIN_INCLUDED
#define PARLEY_PLUGIN_INCLUDED

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>

/// The version of this contract. The host loads plugins built against PARLEY_API_OLDEST_VERSION
/// up to this one (4 added Outbox::connectionCount at the end of Outbox: a plugin built against 3
/// works unchanged) and refuses any other.
#define PARLEY_API_VERSION 4
#define PARLEY_API_OLDEST_VERSION 3
#define PARLEY_PLUGIN_EXPORT __attribute__((visibility("default")))

namespace parley {

using ConnectionId = std::uint64_t;                     ///< unique for the life of the host; in a cluster, across its hosts (the high 16 bits name the node)
using Settings = std::map<std::string, std::string>;    ///< plugin.<name>.* keys, prefix removed
using Attributes = std::map<std::string, std::string>;  ///< what gates say about a connection

/// What the host knows of a connection: its upgrade request and what admission decided. The
/// views stay valid while the connection is open (in respond(), onOpen() and a blocking job).
struct ConnectionInfo
{
	ConnectionId id = 0;
	std::string_view path;            ///< the route path, e.g. "/chat"
	std::string_view query;           ///< what followed '?' in the request, undecoded ("" if none)
	std::string_view subprotocol;     ///< the selected Sec-WebSocket-Protocol ("" if none)
	std::string_view identity;        ///< whom the route's gates admitted ("" without gates)
	const Attributes* attributes = nullptr;  ///< what the gates added (never null from the host)
	std::string_view remoteAddress;   ///< the client's IP address, e.g. "203.0.113.7" or "2001:db8::1"
	std::uint16_t remotePort = 0;
	bool tls = false;                 ///< it came over wss://

	/// An attribute's value, or "".
	std::string_view attribute(const std::string& key) const
	{
		if (!attributes) return {};
		auto it = attributes->find(key);
		return it == attributes->end() ? std::string_view() : std::string_view(it->second);
	}
};

class Responder;
class Gate;

/// The base of both plugin kinds. configure() runs once, first; throw std::invalid_argument
/// naming the key to refuse a setting.
class PARLEY_PLUGIN_EXPORT Plugin
{
public:
	virtual ~Plugin() = default;
	virtual void configure(const Settings& settings) { (void)settings; }
	virtual Responder* asResponder() noexcept { return nullptr; }
	virtual Gate* asGate() noexcept { return nullptr; }
};

struct SettingInfo { const char* key; const char* defaultValue; const char* description; };

/// What a plugin library says about itself (name as used in routes, own version, one line).
struct PluginInfo
{
	int apiVersion;
	const char* name;
	const char* version;
	const char* description;
	const char* className;
	const SettingInfo* settings;
	std::size_t settingCount;
	const char* kind;                 ///< "responder" or "gate"
};

template <typename T>
constexpr const char* pluginKind()
{
	return std::is_base_of<Gate, T>::value ? "gate" : "responder";
}

} // namespace parley

/// Declares the plugin of a library, once, at namespace scope: exports the API version and the
/// metadata beside the Poco manifest. CLASS derives from parley::Responder or parley::Gate.
/// SETTINGS: a parley::SettingInfo array, or use the _NO_SETTINGS form.
#define PARLEY_DECLARE_PLUGIN_IMPL(CLASS, NAME, VERSION, DESCRIPTION, SETTINGS, COUNT) \
	extern "C" PARLEY_PLUGIN_EXPORT int parleyApiVersion() { return PARLEY_API_VERSION; } \
	extern "C" PARLEY_PLUGIN_EXPORT const parley::PluginInfo* parleyPluginInfo() \
	{ static const parley::PluginInfo info{PARLEY_API_VERSION, NAME, VERSION, DESCRIPTION, #CLASS, SETTINGS, COUNT, \
	      parley::pluginKind<CLASS>()}; \
	  return &info; } \
	POCO_BEGIN_MANIFEST(parley::Plugin) POCO_EXPORT_CLASS(CLASS) POCO_END_MANIFEST
#define PARLEY_DECLARE_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION, SETTINGS) \
	PARLEY_DECLARE_PLUGIN_IMPL(CLASS, NAME, VERSION, DESCRIPTION, SETTINGS, sizeof(SETTINGS) / sizeof(SETTINGS[0]))
#define PARLEY_DECLARE_PLUGIN_NO_SETTINGS(CLASS, NAME, VERSION, DESCRIPTION) \
	PARLEY_DECLARE_PLUGIN_IMPL(CLASS, NAME, VERSION, DESCRIPTION, nullptr, 0)

#endif // PARLEY_PLUGIN_INCLUDED
