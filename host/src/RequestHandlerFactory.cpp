//
// RequestHandlerFactory.cpp
//
#include "RequestHandlerFactory.h"
#include "EventLoopPool.h"
#include "HostContext.h"
#include "parley/PluginRegistry.h"
#include "parley/host/PluginCatalog.h"
#include "StatusHandler.h"
#include "UpgradeHandler.h"
#include <Poco/Net/HTTPServerRequest.h>
#include <string>

namespace parley {
namespace host {

RequestHandlerFactory::RequestHandlerFactory(EventLoopPool& pool, HostContext& context):
	_pool(pool),
	_context(context)
{
}

Poco::Net::HTTPRequestHandler* RequestHandlerFactory::createRequestHandler(const Poco::Net::HTTPServerRequest& request)
{
	const std::string& uri = request.getURI();
	const std::string path = uri.substr(0, uri.find_first_of("?#"));
	const int route = _context.activeRoute(path);
	if (route >= 0) return new UpgradeHandler(_pool, static_cast<std::uint16_t>(route));

	const bool get = request.getMethod() == Poco::Net::HTTPRequest::HTTP_GET;
	if (path == "/health" && get)
	{
		const std::string body = "{\"status\":\"ok\",\"connections\":" + std::to_string(_pool.open()) + "}\n";
		return new StatusHandler(Poco::Net::HTTPResponse::HTTP_OK, "application/json", body);
	}
	if (path == "/metrics" && get)
		return new StatusHandler(Poco::Net::HTTPResponse::HTTP_OK, "text/plain; charset=utf-8", _pool.metrics().toText());
	if (path == "/plugins" && get)
	{
		return new StatusHandler(Poco::Net::HTTPResponse::HTTP_OK, "application/json",
			PluginCatalog::toJson(_context.registry().plugins(), _context.config()->routes));
	}
	return new StatusHandler(Poco::Net::HTTPResponse::HTTP_NOT_FOUND, "text/plain; charset=utf-8", "not found: " + path + "\n");
}

} // namespace host
} // namespace parley
