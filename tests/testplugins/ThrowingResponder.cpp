//
// ThrowingResponder.cpp — test plugin `throwing`: throws on a message "boom", echoes otherwise.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>
#include <stdexcept>

class ThrowingResponder: public parley::Responder
{
public:
	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		if (message.payload == "boom") throw std::runtime_error("boom requested");
		reply.echo(message);
	}
};

PARLEY_DECLARE_PLUGIN_NO_SETTINGS(ThrowingResponder, "throwing", "1.0.0", "Test: throws on 'boom'")
