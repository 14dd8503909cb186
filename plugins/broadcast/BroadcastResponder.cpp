//
// BroadcastResponder.cpp — the `broadcast` plugin, a chat room: every message from one client
// goes to every client on the route, the sender too. Nothing is answered directly.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>

class BroadcastResponder: public parley::Responder
{
public:
	void attach(parley::Outbox& outbox) override { _outbox = &outbox; }

	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		if (_outbox) _outbox->broadcast(message.kind, message.payload);
		reply.none();
	}

private:
	parley::Outbox* _outbox = nullptr;
};

PARLEY_DECLARE_PLUGIN_NO_SETTINGS(BroadcastResponder, "broadcast", "1.0.0", "Chat room: every message goes to every client on the route")
