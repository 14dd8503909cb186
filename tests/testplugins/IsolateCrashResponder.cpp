//
// IsolateCrashResponder.cpp — test plugin `isolate-crash`: dereferences a null pointer on the
// message "crash" (the process dies of SIGSEGV); replies "pid <n>" to "pid"; echoes anything else.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>
#include <string>
#include <unistd.h>

class IsolateCrashResponder: public parley::Responder
{
public:
	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		if (message.payload == "crash")
		{
			volatile int* nothing = nullptr;
			*nothing = 1;
		}
		if (message.payload == "pid")
		{
			reply.send("pid " + std::to_string(::getpid()));
			return;
		}
		reply.echo(message);
	}
};

PARLEY_DECLARE_PLUGIN_NO_SETTINGS(IsolateCrashResponder, "isolate-crash", "1.0.0",
	"Test: crashes on the message 'crash', echoes otherwise")
