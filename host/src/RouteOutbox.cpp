//
// RouteOutbox.cpp
//
#include "RouteOutbox.h"
#include "ClusterBus.h"
#include "EventLoopPool.h"
#include "HostContext.h"
#include "LoopState.h"

namespace parley {
namespace host {

bool RouteOutbox::send(ConnectionId connection, PayloadKind kind, std::string_view payload)
{
	if (ClusterBus::ownerOf(connection) != _context.nodeTag())
	{
		ClusterBus* bus = _context.bus();
		return bus && bus->publishSend(connection, _path, kind, payload);
	}
	EventLoopPool* pool = _context.pool();
	return pool && pool->push(connection, _route, kind, payload);
}

void RouteOutbox::broadcastHere(PayloadKind kind, std::string_view payload)
{
	if (EventLoopPool* pool = _context.pool()) pool->broadcast(_route, kind, payload);
	if (ClusterBus* bus = _context.bus()) bus->publishBroadcast(_path, kind, payload);
}

void RouteOutbox::broadcast(PayloadKind kind, std::string_view payload)
{
	// Called by a plugin handling a message on a loop: that connection sends broadcasts.
	LoopState::markBroadcaster();
	broadcastHere(kind, payload);
}

void RouteOutbox::broadcastFromChild(PayloadKind kind, std::string_view payload)
{
	broadcastHere(kind, payload);
}

std::size_t RouteOutbox::connectionCount() const
{
	std::size_t count = 0;
	if (ClusterBus* bus = _context.bus())
		if (bus->clusterConnections(_path, count)) return count;
	EventLoopPool* pool = _context.pool();
	if (!pool) return 0;
	const std::vector<std::size_t> counts = pool->routeConnections();
	return _route < counts.size() ? counts[_route] : 0;
}

} // namespace host
} // namespace parley
