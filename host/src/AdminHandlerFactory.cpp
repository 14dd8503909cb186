//
// AdminHandlerFactory.cpp
//
#include "AdminHandlerFactory.h"
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
		const std::string body = "{\"status\":\"ok\",\"connections\":" + std::to_string(_pool.open()) + "}\n";
		return new StatusHandler(HTTPResponse::HTTP_OK, "application/json", body);
	}
	if (path == "/metrics") return new StatusHandler(HTTPResponse::HTTP_OK, Metrics::ContentType, _pool.metrics().toText());
	return new StatusHandler(HTTPResponse::HTTP_OK, "application/json",
		PluginCatalog::toJson(_context.registry().plugins(), *_context.config()));
}

} // namespace host
} // namespace parley
