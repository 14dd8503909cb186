//
// CloserResponder.cpp — test plugin `closer`: a chain filter. "close" closes with 4000, "drop"
// answers nothing, anything else passes on unchanged.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>

class CloserResponder: public parley::Responder
{
public:
	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		if (message.payload == "close")
			reply.close(4000, "closer says bye");
		else if (message.payload == "drop")
			reply.none();
		else
			reply.echo(message);
	}
};

PARLEY_DECLARE_PLUGIN_NO_SETTINGS(CloserResponder, "closer", "1.0.0", "Test: closes on 'close', drops 'drop'")
