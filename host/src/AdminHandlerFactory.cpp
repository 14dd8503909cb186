//
// AdminHandlerFactory.cpp
//
#include "AdminHandlerFactory.h"
#include "ClusterBus.h"
#include "EventLoopPool.h"
#include "HostContext.h"
#include "StatusHandler.h"
#include "parley/PluginRegistry.h"
#include "parley/host/PluginCatalog.h"
#include <Poco/Net/HTTPServerRequest.h>
#include <string>

namespace parley {
namespace host {

AdminHandlerFactory::AdminHandlerFactory(EventLoopPool& pool, HostContext& context): _pool(pool), _context(context)
{
}

Poco::Net::HTTPRequestHandler* AdminHandlerFactory::createRequestHandler(const Poco::Net::HTTPServerRequest& request)
{
	using Poco::Net::HTTPResponse;
	const std::string& uri = request.getURI();
	const std::string path = uri.substr(0, uri.find_first_of("?#"));
	const bool known = path == "/health" || path == "/metrics" || path == "/plugins";
	if (!known) return new StatusHandler(HTTPResponse::HTTP_NOT_FOUND, "text/plain; charset=utf-8", "not found: " + path + "\n");
	if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_GET)
		return new StatusHandler(HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "only GET\n", {{"Allow", "GET"}});
	if (path == "/health")
	{
		// A draining host answers 503, so that load balancers take it out of their pools; so does
		// a host with an event loop stuck in a plugin call (Watchdog), until the call returns.
		// A host that lost Redis still serves its own connections: 200 "degraded" (it stays in
		// the balancer's pool), and says so.
		const bool draining = _context.draining();
		const unsigned stalled = draining ? 0 : _pool.loopsStalled();
		const ClusterBus* bus = _context.bus();
		const bool degraded = bus && !bus->up();
		const std::string body = std::string("{\"status\":\"") +
			(draining ? "draining" : stalled ? "stalled" : degraded ? "degraded" : "ok") +
			"\",\"connections\":" + std::to_string(_pool.open()) +
			(stalled ? ",\"loops_stalled\":" + std::to_string(stalled) : std::string()) +
			(bus ? std::string(",\"cluster\":\"") + (degraded ? "down" : "up") + "\",\"node\":\"" + bus->node() + "\"" : std::string()) +
			"}\n";
		return new StatusHandler(draining || stalled ? HTTPResponse::HTTP_SERVICE_UNAVAILABLE : HTTPResponse::HTTP_OK,
			"application/json", body);
	}
	if (path == "/metrics") return new StatusHandler(HTTPResponse::HTTP_OK, Metrics::ContentType, _pool.metrics().toText());
	return new StatusHandler(HTTPResponse::HTTP_OK, "application/json",
		PluginCatalog::toJson(_context.registry().plugins(), *_context.config()));
}

} // namespace host
} // namespace parley
