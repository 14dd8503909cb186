// Responder.h — the responder plugin contract: messages in, replies out. Standard headers only;
// a plugin includes this file and <Poco/ClassLibrary.h> (for the manifest that
// PARLEY_DECLARE_PLUGIN emits). Plugin.h holds what responders and gates share.
#ifndef PARLEY_RESPONDER_INCLUDED
#define PARLEY_RESPONDER_INCLUDED

#include "parley/Plugin.h"

namespace parley {

enum class PayloadKind : std::uint8_t { Text = 1, Binary = 2 };

/// A whole message as it arrived, or as the previous responder of a chain produced it.
/// The payload view is valid only during Responder::respond().
struct Message
{
	PayloadKind kind = PayloadKind::Text;
	std::string_view payload;
	ConnectionId connection = 0;            ///< the connection it came from
	const ConnectionInfo* info = nullptr;   ///< path, query, subprotocol, identity... (never null from the host)
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
	/// Queues a message to one connection of the route (in a cluster, also one on another host);
	/// false if it is gone (or, on another host, if the message could not be handed to Redis).
	virtual bool send(ConnectionId connection, PayloadKind kind, std::string_view payload) = 0;
	/// Queues a message to every open connection of the route.
	virtual void broadcast(PayloadKind kind, std::string_view payload) = 0;
	/// How many connections the route has open: on every host of the cluster (counted through
	/// Redis every second) when cluster.redis is set and Redis is reachable, else on this host.
	virtual std::size_t connectionCount() const { return 0; }
};

/// Turns messages into replies. One instance per event loop (per worker if blocking()), so no
/// method is ever called concurrently on one instance. Exceptions close only that connection (1011).
class PARLEY_PLUGIN_EXPORT Responder : public Plugin
{
public:
	Responder* asResponder() noexcept final { return this; }
	/// Once, before the first message: the route's outbox, valid for the responder's life.
	virtual void attach(Outbox& outbox) { (void)outbox; }
	/// A connection of this instance's event loop opened / closed (not called when blocking()).
	virtual void onOpen(const ConnectionInfo& connection) { (void)connection; }
	virtual void onClose(ConnectionId connection) { (void)connection; }
	/// True if respond() may block (files, databases): it then runs on the host's worker pool.
	virtual bool blocking() const { return false; }
	/// Answers one message; `reply` starts as Action::None.
	virtual void respond(const Message& message, Reply& reply) = 0;
};

} // namespace parley

#endif // PARLEY_RESPONDER_INCLUDED
