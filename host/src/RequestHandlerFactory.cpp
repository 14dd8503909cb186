//
// RequestHandlerFactory.cpp
//
#include "RequestHandlerFactory.h"
#include "EventLoopPool.h"
#include "StatusHandler.h"
#include "UpgradeHandler.h"
#include <Poco/Net/HTTPServerRequest.h>
#include <string>

namespace parley {
namespace host {

RequestHandlerFactory::RequestHandlerFactory(EventLoopPool& pool, std::map<std::string, std::uint16_t> routes):
	_pool(pool),
	_routes(std::move(routes))
{
}

Poco::Net::HTTPRequestHandler* RequestHandlerFactory::createRequestHandler(const Poco::Net::HTTPServerRequest& request)
{
	const std::string& uri = request.getURI();
	const std::string path = uri.substr(0, uri.find_first_of("?#"));
	auto route = _routes.find(path);
	if (route != _routes.end()) return new UpgradeHandler(_pool, route->second);

	const bool get = request.getMethod() == Poco::Net::HTTPRequest::HTTP_GET;
	if (path == "/health" && get)
	{
		const std::string body = "{\"status\":\"ok\",\"connections\":" + std::to_string(_pool.open()) + "}\n";
		return new StatusHandler(Poco::Net::HTTPResponse::HTTP_OK, "application/json", body);
	}
	if (path == "/metrics" && get)
		return new StatusHandler(Poco::Net::HTTPResponse::HTTP_OK, "text/plain; charset=utf-8", _pool.metrics().toText());
	return new StatusHandler(Poco::Net::HTTPResponse::HTTP_NOT_FOUND, "text/plain; charset=utf-8", "not found: " + path + "\n");
}

} // namespace host
} // namespace parley
