//
// RequestHandlerFactory.h — routes HTTP requests: upgrades on route paths, /health, /metrics, 404.
//
#ifndef PARLEY_HOST_REQUESTHANDLERFACTORY_INCLUDED
#define PARLEY_HOST_REQUESTHANDLERFACTORY_INCLUDED

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <map>
#include <string>

namespace parley {
namespace host {

class EventLoopPool;

/// Creates the handler for each request: a route path → UpgradeHandler (which answers the
/// handshake or refuses it with 400/405/426/503); GET /health and GET /metrics; 404 otherwise.
class RequestHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory
{
public:
	/// `routes` maps a route path to its route id.
	RequestHandlerFactory(EventLoopPool& pool, std::map<std::string, std::uint16_t> routes);

	/// Returns a new handler for the request (never null).
	Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override;

private:
	EventLoopPool& _pool;
	std::map<std::string, std::uint16_t> _routes;
};

} // namespace host
} // namespace parley

#endif
