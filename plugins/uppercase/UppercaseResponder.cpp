//
// UppercaseResponder.cpp — the `uppercase` plugin: replies with the text in capitals (ASCII
// letters; other UTF-8 bytes pass unchanged). Binary messages pass unchanged.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>

class UppercaseResponder: public parley::Responder
{
public:
	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		std::string& out = reply.send(message.payload, message.kind);
		if (message.kind != parley::PayloadKind::Text) return;
		for (char& c : out)
		{
			if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
		}
	}
};

PARLEY_DECLARE_PLUGIN_NO_SETTINGS(UppercaseResponder, "uppercase", "1.0.0", "Replies with the text in capitals (ASCII letters)")
