//
// UpgradeHandler.h — the WebSocket opening handshake on a route path.
//
#ifndef PARLEY_HOST_UPGRADEHANDLER_INCLUDED
#define PARLEY_HOST_UPGRADEHANDLER_INCLUDED

#include <Poco/Net/HTTPRequestHandler.h>
#include <cstdint>

namespace parley {
namespace host {

class EventLoopPool;

/// Checks the upgrade request with codec::Handshake::evaluate. A refusal is answered with its
/// status (400, 405, 426; 426 also for a plain GET, with `Upgrade: websocket`), always with
/// `Sec-WebSocket-Version: 13` and a one-line text body; over engine.max_connections with 503.
/// On success it writes the 101 response itself, takes the socket from Poco (detachSocket()
/// plus the bytes Poco already buffered) and hands it to an event loop.
class UpgradeHandler : public Poco::Net::HTTPRequestHandler
{
public:
	UpgradeHandler(EventLoopPool& pool, std::uint16_t route);

	/// Answers or upgrades; throws what Poco's response stream throws.
	void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

private:
	EventLoopPool& _pool;
	std::uint16_t _route;
};

} // namespace host
} // namespace parley

#endif
