//
// RouteOutbox.cpp
//
#include "RouteOutbox.h"
#include "EventLoopPool.h"
#include "HostContext.h"
#include "LoopState.h"

namespace parley {
namespace host {

bool RouteOutbox::send(ConnectionId connection, PayloadKind kind, std::string_view payload)
{
	EventLoopPool* pool = _context.pool();
	return pool && pool->push(connection, _route, kind, payload);
}

void RouteOutbox::broadcast(PayloadKind kind, std::string_view payload)
{
	// Called by a plugin handling a message on a loop: that connection sends broadcasts.
	LoopState::markBroadcaster();
	if (EventLoopPool* pool = _context.pool()) pool->broadcast(_route, kind, payload);
}

} // namespace host
} // namespace parley
