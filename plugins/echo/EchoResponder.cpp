//
// EchoResponder.cpp — the `echo` plugin: replies with the message unchanged.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>

class EchoResponder: public parley::Responder
{
public:
	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		reply.echo(message);
	}
};

PARLEY_DECLARE_PLUGIN_NO_SETTINGS(EchoResponder, "echo", "1.0.0", "Replies with the message unchanged")
