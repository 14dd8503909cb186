//
// RelayResponder.cpp — test plugin `relay`, for the cluster tests:
//   "id"                 -> replies with this connection's id (decimal)
//   "to <id> <text>"     -> Outbox::send(<id>, <text>); replies "sent" or "not sent"
//   "count"              -> replies with Outbox::connectionCount() (decimal)
//   anything else        -> Outbox::broadcast of the message
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>
#include <string>

class RelayResponder: public parley::Responder
{
public:
	void attach(parley::Outbox& outbox) override { _outbox = &outbox; }

	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		const std::string_view text = message.payload;
		if (text == "id")
			reply.send(std::to_string(message.connection), parley::PayloadKind::Text);
		else if (text == "count")
			reply.send(std::to_string(_outbox->connectionCount()), parley::PayloadKind::Text);
		else if (text.substr(0, 3) == "to ")
		{
			const std::size_t space = text.find(' ', 3);
			const std::string id(text.substr(3, space == std::string_view::npos ? std::string_view::npos : space - 3));
			const std::string_view body = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
			const bool sent = _outbox->send(std::stoull(id), parley::PayloadKind::Text, body);
			reply.send(sent ? "sent" : "not sent", parley::PayloadKind::Text);
		}
		else
			_outbox->broadcast(message.kind, message.payload);
	}

private:
	parley::Outbox* _outbox = nullptr;
};

PARLEY_DECLARE_PLUGIN_NO_SETTINGS(RelayResponder, "relay", "1.0.0", "Test: its connection id, sends to an id, the route's count, else broadcast")
