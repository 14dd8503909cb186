//
// AdminHandlerFactory.h — the operator port (Poco HTTPServer): GET /health, /metrics, /plugins.
//
#ifndef PARLEY_HOST_ADMINHANDLERFACTORY_INCLUDED
#define PARLEY_HOST_ADMINHANDLERFACTORY_INCLUDED

#include <Poco/Net/HTTPRequestHandlerFactory.h>

namespace parley {
namespace host {

class EventLoopPool;
class HostContext;

/// GET /health: {"status":"ok","connections":N}; GET /metrics: the counters in the Prometheus text format; GET
/// /plugins: the loaded plugins as JSON; anything else 404 (a known path with another method:
/// 405). These endpoints show file paths and load: they live on admin.address:admin.port, never
/// on the public port.
class AdminHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory
{
public:
	AdminHandlerFactory(EventLoopPool& pool, HostContext& context);

	/// Returns a new handler for the request (never null).
	Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override;

private:
	EventLoopPool& _pool;
	HostContext& _context;
};

} // namespace host
} // namespace parley

#endif
