// A complete Parley plugin: replies with the message reversed.
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>
#include <algorithm>

class MyResponder: public parley::Responder
{
public:
	void configure(const parley::Settings& settings) override
	{
		auto it = settings.find("prefix"); // plugin.my-plugin.prefix = ...
		if (it != settings.end()) _prefix = it->second;
	}

	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		std::string& out = reply.send(_prefix, message.kind);
		out.append(message.payload.rbegin(), message.payload.rend());
	}

private:
	std::string _prefix;
};

static const parley::SettingInfo kSettings[] = {{"prefix", "", "text put before the reversed message"}};
PARLEY_DECLARE_PLUGIN(MyResponder, "my-plugin", "0.1.0", "Replies with the message reversed", kSettings)
