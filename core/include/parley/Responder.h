//
// Responder.h
//
// The Parley plugin contract. Standard headers only; a plugin needs this file
// and <Poco/ClassLibrary.h> (for the manifest that PARLEY_DECLARE_PLUGIN emits).
//
#ifndef PARLEY_RESPONDER_INCLUDED
#define PARLEY_RESPONDER_INCLUDED

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

/// The version of this contract. A plugin built against another version is refused.
#define PARLEY_API_VERSION 1

#define PARLEY_PLUGIN_EXPORT __attribute__((visibility("default")))

namespace parley {

/// Kind of a data message: UTF-8 text or binary.
enum class PayloadKind : std::uint8_t { Text = 1, Binary = 2 };

/// A whole message as it arrived (or as the previous responder of a chain produced it).
/// The payload view is valid only during the call to Responder::respond().
struct Message
{
	PayloadKind kind = PayloadKind::Text;
	std::string_view payload;
};

/// What a responder answers: nothing, one message, or a close of the connection.
/// The connection reuses Reply objects, so assigning to `payload` allocates only while it grows.
struct Reply
{
	enum class Action : std::uint8_t { None, Send, Close };

	Action action = Action::None;
	PayloadKind kind = PayloadKind::Text;
	std::string payload;          ///< the message to send (Send) or the close reason (Close)
	std::uint16_t closeCode = 1000;

	/// Answers with a message of the given kind; returns the payload string to fill further.
	std::string& send(std::string_view data, PayloadKind k = PayloadKind::Text)
	{
		action = Action::Send; kind = k; payload.assign(data.data(), data.size()); return payload;
	}
	/// Closes the connection with the given code (1000, or 4000-4999 for applications) and reason.
	void close(std::uint16_t code, std::string_view reason = {})
	{
		action = Action::Close; closeCode = code; payload.assign(reason.data(), reason.size());
	}
	/// Answers nothing; a chain stops here.
	void none() { action = Action::None; payload.clear(); }
};

/// Plugin settings: the keys plugin.<name>.* of the host configuration, without that prefix.
using Settings = std::map<std::string, std::string>;

/// A setting a plugin understands, with its default and meaning (for --list-plugins and GET /plugins).
struct SettingInfo
{
	const char* key;
	const char* defaultValue;
	const char* description;
};

/// What a plugin library says about itself.
struct PluginInfo
{
	int apiVersion;               ///< PARLEY_API_VERSION the plugin was built with
	const char* name;             ///< the name used in routes, e.g. "random-suffix"
	const char* version;          ///< the plugin's own version, e.g. "1.0.0"
	const char* description;      ///< one line
	const char* className;        ///< the class exported in the Poco manifest
	const SettingInfo* settings;  ///< settings with defaults
	std::size_t settingCount;
};

/// A responder turns a message into a reply. The host makes one instance per event loop,
/// so respond() is never called concurrently on one instance and needs no locks.
class PARLEY_PLUGIN_EXPORT Responder
{
public:
	virtual ~Responder() = default;

	/// Called once after construction with the plugin's settings.
	/// Throws std::invalid_argument (with a message naming the key) for a bad setting.
	virtual void configure(const Settings& settings) { (void)settings; }

	/// Answers one message. The reply starts as Action::None with an empty payload buffer
	/// that may keep capacity from earlier calls. Exceptions close only this connection (1011).
	virtual void respond(const Message& message, Reply& reply) = 0;
};

} // namespace parley

/// Declares a plugin library: exports the API version and the plugin's metadata next to the
/// Poco manifest for `parley::Responder`. Use once per library, at namespace scope, after
/// including <Poco/ClassLibrary.h>. SETTINGS is a `static const parley::SettingInfo[]` array
/// (or use PARLEY_DECLARE_PLUGIN_NO_SETTINGS).
#define PARLEY_DECLARE_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION, SETTINGS) \
	extern "C" PARLEY_PLUGIN_EXPORT int parleyApiVersion() { return PARLEY_API_VERSION; } \
	extern "C" PARLEY_PLUGIN_EXPORT const parley::PluginInfo* parleyPluginInfo() \
	{ \
		static const parley::PluginInfo info{PARLEY_API_VERSION, NAME, VERSION, DESCRIPTION, #CLASS, \
			SETTINGS, sizeof(SETTINGS) / sizeof(SETTINGS[0])}; \
		return &info; \
	} \
	POCO_BEGIN_MANIFEST(parley::Responder) \
		POCO_EXPORT_CLASS(CLASS) \
	POCO_END_MANIFEST

#define PARLEY_DECLARE_PLUGIN_NO_SETTINGS(CLASS, NAME, VERSION, DESCRIPTION) \
	extern "C" PARLEY_PLUGIN_EXPORT int parleyApiVersion() { return PARLEY_API_VERSION; } \
	extern "C" PARLEY_PLUGIN_EXPORT const parley::PluginInfo* parleyPluginInfo() \
	{ \
		static const parley::PluginInfo info{PARLEY_API_VERSION, NAME, VERSION, DESCRIPTION, #CLASS, \
			nullptr, 0}; \
		return &info; \
	} \
	POCO_BEGIN_MANIFEST(parley::Responder) \
		POCO_EXPORT_CLASS(CLASS) \
	POCO_END_MANIFEST

#endif // PARLEY_RESPONDER_INCLUDED
