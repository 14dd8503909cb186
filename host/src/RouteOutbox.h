//
// RouteOutbox.h — the Outbox the host gives the responders of one route.
//
#ifndef PARLEY_HOST_ROUTEOUTBOX_INCLUDED
#define PARLEY_HOST_ROUTEOUTBOX_INCLUDED

#include "parley/Responder.h"
#include <cstdint>

namespace parley {
namespace host {

class HostContext;

/// send() posts to the loop that owns the connection (its index is in the ConnectionId's low
/// byte), broadcast() posts to every loop; each loop then writes the frames in its normal output
/// path. Thread-safe; a message posted while the host stops is dropped.
class RouteOutbox : public Outbox
{
public:
	RouteOutbox(HostContext& context, std::uint16_t route) : _context(context), _route(route) {}

	/// Returns false if the connection is not open on this route (as far as its loop knows).
	bool send(ConnectionId connection, PayloadKind kind, std::string_view payload) override;

	void broadcast(PayloadKind kind, std::string_view payload) override;

private:
	HostContext& _context;
	std::uint16_t _route;
};

} // namespace host
} // namespace parley

#endif
