//
// IsolateCrashResponder.cpp — test plugin `isolate-crash`: writes into the first page of memory
// (what a null pointer to a struct does) on the message "crash" (the process dies of SIGSEGV;
// through address 8, not 0, so that UBSan in the sanitizer build does not stop it first);
// replies "pid <n>" to "pid"; echoes anything else.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>
#include <cstdint>
#include <string>
#include <unistd.h>

class IsolateCrashResponder: public parley::Responder
{
public:
	void respond(const parley::Message& message, parley::Reply& reply) override
	{
		if (message.payload == "crash")
		{
			*static_cast<volatile int*>(_nowhere) = 1;
		}
		if (message.payload == "pid")
		{
			reply.send("pid " + std::to_string(::getpid()));
			return;
		}
		reply.echo(message);
	}

private:
	void* volatile _nowhere = reinterpret_cast<void*>(std::uintptr_t(8));
};

PARLEY_DECLARE_PLUGIN_NO_SETTINGS(IsolateCrashResponder, "isolate-crash", "1.0.0",
	"Test: crashes on the message 'crash', echoes otherwise")
