//
// WrongApiResponder.cpp — test plugin built as if against a future contract (API version 999).
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>

#undef PARLEY_API_VERSION
#define PARLEY_API_VERSION 999

class WrongApiResponder: public parley::Responder
{
public:
	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		reply.send(message.payload, message.kind);
	}
};

PARLEY_DECLARE_PLUGIN_NO_SETTINGS(WrongApiResponder, "wrong-api", "9.9.9", "Test: mismatched API version")
