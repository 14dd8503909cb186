//
// CtorThrowsResponder.cpp — test plugin `ctor-throws`: its constructor throws.
//
#include "parley/Responder.h"
#include <Poco/ClassLibrary.h>
#include <stdexcept>

class CtorThrowsResponder: public parley::Responder
{
public:
	CtorThrowsResponder() { throw std::runtime_error("cannot start: no database"); }
	void respond(const parley::Message&, parley::Reply&) override {}
};

PARLEY_DECLARE_PLUGIN_NO_SETTINGS(CtorThrowsResponder, "ctor-throws", "1.0.0", "Test: constructor throws")
