// Responder.h — the Parley plugin contract. Standard headers only; a plugin includes this file and
// <Poco/ClassLibrary.h> (for the manifest that PARLEY_DECLARE_PLUGIN emits).
#ifndef PARLEY_RESPONDER_INCLUDED
#define PARLEY_RESPONDER_INCLUDED

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

/// The version of this contract. The host refuses a plugin built against another one.
#define PARLEY_API_VERSION 2
#define PARLEY_PLUGIN_EXPORT __attribute__((visibility("default")))

namespace parley {

enum class PayloadKind : std::uint8_t { Text = 1, Binary = 2 };
using ConnectionId = std::uint64_t;                   ///< unique for the life of the host
using Settings = std::map<std::string, std::string>;  ///< plugin.<name>.* keys, prefix removed

/// A whole message as it arrived, or as the previous responder of a chain produced it.
/// The payload view is valid only during Responder::respond().
struct Message
{
	PayloadKind kind = PayloadKind::Text;
	std::string_view payload;
	ConnectionId connection = 0;  ///< the connection it came from
};

/// A responder's answer: nothing (ends a chain), one message, or a close. Reused by the host,
/// so filling `payload` allocates only while it grows.
///
/// Two ways to send: send() copies the bytes given; echo() answers with the message itself,
/// which the host writes to the wire from where it already lies (no copy), followed by whatever
/// is appended to the string echo() returns. "The message plus a suffix" costs only the suffix.
struct Reply
{
	enum class Action : std::uint8_t { None, Send, Close };
	Action action = Action::None;
	PayloadKind kind = PayloadKind::Text;
	/// Send only: the reply begins with the bytes of the message being answered (echo()), and
	/// `payload` holds what follows them.
	bool quotesMessage = false;
	std::uint16_t closeCode = 1000;
	std::string payload;           ///< the message (Send) or the close reason (Close)

	/// Answers with a copy of `data`; returns the payload to append to.
	std::string& send(std::string_view data, PayloadKind k = PayloadKind::Text)
	{
		action = Action::Send; kind = k; quotesMessage = false;
		payload.assign(data.data(), data.size());
		return payload;
	}
	/// Answers with `message` (the one passed to respond()) as it is, without copying it; returns
	/// an empty string whose contents are sent right after the message's bytes.
	std::string& echo(const Message& message)
	{
		action = Action::Send; kind = message.kind; quotesMessage = true;
		payload.clear();
		return payload;
	}
	/// Closes the connection (code 1000, 1008 or 4000-4999) after earlier replies went out.
	void close(std::uint16_t code, std::string_view reason = {})
	{
		action = Action::Close; closeCode = code; quotesMessage = false;
		payload.assign(reason.data(), reason.size());
	}
	void none() { action = Action::None; quotesMessage = false; payload.clear(); }

	/// The whole reply as it goes on the wire, for the message it answers (a copy; for tests and
	/// tools — the host never needs it).
	std::string bytes(const Message& answered) const
	{
		if (!quotesMessage) return payload;
		std::string all(answered.payload);
		all += payload;
		return all;
	}
};

/// Sends without being asked. Thread-safe: callable from any thread, also from respond().
class Outbox
{
public:
	virtual ~Outbox() = default;
	/// Queues a message to one connection of the route; false if it is gone.
	virtual bool send(ConnectionId connection, PayloadKind kind, std::string_view payload) = 0;
	/// Queues a message to every open connection of the route.
	virtual void broadcast(PayloadKind kind, std::string_view payload) = 0;
};

/// Turns messages into replies. One instance per event loop (per worker if blocking()), so no
/// method is ever called concurrently on one instance. Exceptions close only that connection (1011).
class PARLEY_PLUGIN_EXPORT Responder
{
public:
	virtual ~Responder() = default;
	/// Once, first. Throws std::invalid_argument naming the key for a bad setting.
	virtual void configure(const Settings& settings) { (void)settings; }
	/// Once, before the first message: the route's outbox, valid for the responder's life.
	virtual void attach(Outbox& outbox) { (void)outbox; }
	/// A connection of this instance's event loop opened / closed (not called when blocking()).
	virtual void onOpen(ConnectionId connection) { (void)connection; }
	virtual void onClose(ConnectionId connection) { (void)connection; }
	/// True if respond() may block (files, databases): it then runs on the host's worker pool.
	virtual bool blocking() const { return false; }
	/// Answers one message; `reply` starts as Action::None.
	virtual void respond(const Message& message, Reply& reply) = 0;
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
};

} // namespace parley

/// Declares the plugin of a library, once, at namespace scope: exports the API version and the
/// metadata beside the Poco manifest. SETTINGS: a parley::SettingInfo array, or the _NO_SETTINGS form.
#define PARLEY_DECLARE_PLUGIN_IMPL(CLASS, NAME, VERSION, DESCRIPTION, SETTINGS, COUNT) \
	extern "C" PARLEY_PLUGIN_EXPORT int parleyApiVersion() { return PARLEY_API_VERSION; } \
	extern "C" PARLEY_PLUGIN_EXPORT const parley::PluginInfo* parleyPluginInfo() \
	{ static const parley::PluginInfo info{PARLEY_API_VERSION, NAME, VERSION, DESCRIPTION, #CLASS, SETTINGS, COUNT}; \
	  return &info; } \
	POCO_BEGIN_MANIFEST(parley::Responder) POCO_EXPORT_CLASS(CLASS) POCO_END_MANIFEST
#define PARLEY_DECLARE_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION, SETTINGS) \
	PARLEY_DECLARE_PLUGIN_IMPL(CLASS, NAME, VERSION, DESCRIPTION, SETTINGS, sizeof(SETTINGS) / sizeof(SETTINGS[0]))
#define PARLEY_DECLARE_PLUGIN_NO_SETTINGS(CLASS, NAME, VERSION, DESCRIPTION) \
	PARLEY_DECLARE_PLUGIN_IMPL(CLASS, NAME, VERSION, DESCRIPTION, nullptr, 0)

#endif // PARLEY_RESPONDER_INCLUDED
