//
// StatusHandler.cpp
//
#include "StatusHandler.h"
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <ostream>

namespace parley {
namespace host {

StatusHandler::StatusHandler(Poco::Net::HTTPResponse::HTTPStatus status, std::string contentType, std::string body,
	std::vector<std::pair<std::string, std::string>> headers):
	_status(status),
	_contentType(std::move(contentType)),
	_body(std::move(body)),
	_headers(std::move(headers))
{
}

void StatusHandler::handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response)
{
	send(response, _status, _contentType, _body, _headers);
}

void StatusHandler::send(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
	const std::string& contentType, const std::string& body,
	const std::vector<std::pair<std::string, std::string>>& headers)
{
	response.setStatusAndReason(status);
	for (const auto& header : headers) response.set(header.first, header.second);
	response.setContentType(contentType);
	response.setContentLength(static_cast<std::streamsize>(body.size()));
	response.send() << body;
}

} // namespace host
} // namespace parley
