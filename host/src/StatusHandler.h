//
// StatusHandler.h — answers a request with a fixed status, content type and body.
//
#ifndef PARLEY_HOST_STATUSHANDLER_INCLUDED
#define PARLEY_HOST_STATUSHANDLER_INCLUDED

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPResponse.h>
#include <string>
#include <utility>
#include <vector>

namespace parley {
namespace host {

/// A prepared answer of the operator port: /health, /metrics, /plugins, 404.
class StatusHandler : public Poco::Net::HTTPRequestHandler
{
public:
	StatusHandler(Poco::Net::HTTPResponse::HTTPStatus status, std::string contentType, std::string body,
		std::vector<std::pair<std::string, std::string>> headers = {});

	/// Sends the prepared answer; throws what the response stream throws.
	void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

	/// Writes a complete answer (status, extra headers, text body) to `response`.
	static void send(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
		const std::string& contentType, const std::string& body,
		const std::vector<std::pair<std::string, std::string>>& headers = {});

private:
	Poco::Net::HTTPResponse::HTTPStatus _status;
	std::string _contentType;
	std::string _body;
	std::vector<std::pair<std::string, std::string>> _headers;
};

} // namespace host
} // namespace parley

#endif
