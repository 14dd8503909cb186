//
// ThrowingGate.cpp — test gate `throwing-gate`: every check throws (a gate with a bug).
//
#include "parley/Gate.h"
#include <Poco/ClassLibrary.h>
#include <stdexcept>

class ThrowingGate: public parley::Gate
{
public:
	void check(const parley::GateRequest&, parley::GateVerdict&) override
	{
		throw std::runtime_error("database unreachable");
	}
};

PARLEY_DECLARE_PLUGIN_NO_SETTINGS(ThrowingGate, "throwing-gate", "1.0.0", "Test: a gate that throws")
