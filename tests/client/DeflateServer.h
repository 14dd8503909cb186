//
// DeflateServer.h — a real third-party WebSocket server with permessage-deflate for the client's
// compression tests: tests/client/py/deflate_server.py (python3-websockets, run with Debian's
// /usr/bin/python3) on a free loopback port. It echoes every message (compressed when deflate was
// negotiated) and reports, per connection, how many messages came compressed (RSV1) and their
// bytes on the wire.
//
#ifndef PARLEY_TESTS_DEFLATESERVER_INCLUDED
#define PARLEY_TESTS_DEFLATESERVER_INCLUDED

#include "client/AdmissionServer.h"
#include "support/TestEnv.h"
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <cstdint>
#include <string>
#include <vector>

namespace parley {
namespace test {

class DeflateServer : public AdmissionServer
{
public:
	/// What the server saw on one connection (its "stats" line).
	struct Stats
	{
		std::uint64_t messages = 0;      ///< data messages received
		std::uint64_t compressed = 0;    ///< of them with RSV1 (compressed)
		std::uint64_t wireBytes = 0;     ///< their frame payload bytes on the wire
		std::uint64_t payloadBytes = 0;  ///< their bytes after inflating (0 without deflate)
		std::string extensions;          ///< the Sec-WebSocket-Extensions it answered ("" = declined)
		int closeCode = 0;               ///< the close code of the connection
	};

	/// Starts the server with these arguments (see the script: --compression none,
	/// --server-no-context-takeover, --client-no-context-takeover, --server-max-window-bits N,
	/// --client-max-window-bits N, --max-size N); returns once it listens.
	explicit DeflateServer(const std::vector<std::string>& args = {}) : AdmissionServer(args, deflateScript()) {}

	static std::string deflateScript() { return sourceDir() + "/tests/client/py/deflate_server.py"; }

	/// Waits up to 10 s for n connections to end; returns what the server saw on each ended one.
	std::vector<Stats> waitStats(std::size_t n)
	{
		std::vector<Stats> out;
		for (const std::string& line : waitLines("stats ", n))
		{
			Poco::JSON::Object::Ptr o = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
			Stats s;
			s.messages = o->getValue<std::uint64_t>("messages");
			s.compressed = o->getValue<std::uint64_t>("compressed");
			s.wireBytes = o->getValue<std::uint64_t>("wire_bytes");
			s.payloadBytes = o->getValue<std::uint64_t>("payload_bytes");
			s.extensions = o->getValue<std::string>("extensions");
			s.closeCode = o->isNull("close_code") ? 0 : o->getValue<int>("close_code");
			out.push_back(s);
		}
		return out;
	}
};

} // namespace test
} // namespace parley

#endif
