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
class HostContext;

/// Creates the handler for each request: a route path → UpgradeHandler (which answers the
/// handshake or refuses it with 400/405/426/503); GET /health, GET /metrics and GET /plugins;
/// 404 otherwise. Routes are looked up in the configuration in force (reloads change them).
class RequestHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory
{
public:
	RequestHandlerFactory(EventLoopPool& pool, HostContext& context);

	/// Returns a new handler for the request (never null).
	Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override;

private:
	EventLoopPool& _pool;
	HostContext& _context;
};

} // namespace host
} // namespace parley

#endif
