//
// RouteOutbox.h — the Outbox the host gives the responders of one route.
//
#ifndef PARLEY_HOST_ROUTEOUTBOX_INCLUDED
#define PARLEY_HOST_ROUTEOUTBOX_INCLUDED

#include "parley/Responder.h"
#include <cstdint>
#include <string>

namespace parley {
namespace host {

class HostContext;

/// send() posts to the loop that owns the connection (its index is in the ConnectionId's low
/// byte), broadcast() posts to every loop; each loop then writes the frames in its normal output
/// path. In a cluster (ClusterBus) a broadcast is also published for the other hosts, and a send
/// to a connection of another node (the id's high 16 bits) goes through Redis to it.
/// Thread-safe; a message posted while the host stops is dropped.
class RouteOutbox : public Outbox
{
public:
	RouteOutbox(HostContext& context, std::uint16_t route, std::string path)
		: _context(context), _route(route), _path(std::move(path))
	{
	}

	/// Returns false if the connection is not open on this route (as far as its loop knows), or,
	/// for a connection of another host, if the message could not be handed to Redis.
	bool send(ConnectionId connection, PayloadKind kind, std::string_view payload) override;

	void broadcast(PayloadKind kind, std::string_view payload) override;

	std::size_t connectionCount() const override;

	/// As send() and broadcast(), for a plugin in an isolated child (not a broadcast sender on a loop).
	bool sendFromChild(ConnectionId connection, PayloadKind kind, std::string_view payload)
	{
		return send(connection, kind, payload);
	}
	void broadcastFromChild(PayloadKind kind, std::string_view payload);

private:
	void broadcastHere(PayloadKind kind, std::string_view payload);

	HostContext& _context;
	std::uint16_t _route;
	const std::string _path;
};

} // namespace host
} // namespace parley

#endif
