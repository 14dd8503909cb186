//
// HotResponder.cpp — test plugin `hot`, built twice (v1, v2): replies "<tag>:<message>", so a test
// sees which version answered. The same class name in both builds checks that two versions of one
// plugin never share code.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>

class HotResponder: public parley::Responder
{
public:
	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		std::string& out = reply.send(HOT_TAG ":", message.kind);
		out.append(message.payload.data(), message.payload.size());
	}
};

PARLEY_DECLARE_PLUGIN_NO_SETTINGS(HotResponder, "hot", HOT_VERSION, "Test: tags replies with its version")
