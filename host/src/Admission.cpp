//
// Admission.cpp
//
#include "Admission.h"
#include "HostContext.h"
#include "HttpHead.h"
#include "parley/codec/Handshake.h"
#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/URI.h>

namespace parley {
namespace host {

namespace {

std::size_t countOf(const Poco::Net::HTTPRequest& request, const std::string& name)
{
	std::size_t n = 0;
	for (auto it = request.find(name); it != request.end() && Poco::icompare(it->first, name) == 0; ++it) ++n;
	return n;
}

Verdict refuse(int status, std::string reason, HttpHead::Headers headers = {}, bool forHead = false)
{
	Verdict v;
	v.status = status;
	v.response = HttpHead::answer(status, reason + "\n", headers, forHead);
	v.reason = std::move(reason);
	return v;
}

/// The path of a request target: origin-form up to '?' or '#'; the path of an absolute-form
/// target; "" for anything else (authority-form, asterisk-form, garbage).
std::string targetPath(const std::string& target)
{
	if (!target.empty() && target[0] == '/') return target.substr(0, target.find_first_of("?#"));
	const std::size_t scheme = target.find("://");
	if (scheme == std::string::npos || scheme == 0) return std::string();
	try
	{
		const Poco::URI uri(target);
		const std::string& path = uri.getPath();
		return path.empty() ? "/" : path;
	}
	catch (const Poco::Exception&)
	{
		return std::string();
	}
}

} // namespace

Verdict Admission::overCapacity()
{
	return refuse(503, "too many connections (engine.max_connections)");
}

Verdict Admission::evaluate(std::string_view head) const
{
	Poco::Net::HTTPRequest request;
	std::string why;
	if (const int status = HttpHead::parse(head, request, &why)) return refuse(status, "bad request: " + why);
	const bool forHead = request.getMethod() == Poco::Net::HTTPRequest::HTTP_HEAD;
	const std::size_t hosts = countOf(request, "Host");
	if (hosts == 0 && request.getVersion() != Poco::Net::HTTPMessage::HTTP_1_0)
		return refuse(400, "bad request: missing Host header", {}, forHead);
	if (hosts > 1) return refuse(400, "bad request: more than one Host header", {}, forHead);
	const std::string path = targetPath(request.getURI());
	if (path.empty()) return refuse(400, "bad request: the request target is not a path", {}, forHead);
	const int route = _context.activeRoute(path);
	if (route < 0) return refuse(404, "not found: " + path, {}, forHead);

	const HttpHead::Headers version{{"Sec-WebSocket-Version", "13"}};
	if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_GET)
		return refuse(405, "WebSocket upgrade requires GET", {{"Allow", "GET"}, version.front()}, forHead);
	if (countOf(request, "Sec-WebSocket-Key") > 1) return refuse(400, "more than one Sec-WebSocket-Key header", version);
	if (countOf(request, "Sec-WebSocket-Version") > 1)
		return refuse(400, "more than one Sec-WebSocket-Version header", version);
	if (request.has("Upgrade"))
	{
		if (request.has("Transfer-Encoding")) return refuse(400, "a WebSocket upgrade request has no body", version);
		if (request.has("Content-Length"))
		{
			Poco::UInt64 length = 0;
			const std::string value = Poco::trim(request.get("Content-Length"));
			if (!Poco::NumberParser::tryParseUnsigned64(value, length) || length != 0 || countOf(request, "Content-Length") > 1)
				return refuse(400, "a WebSocket upgrade request has no body", version);
		}
	}

	codec::UpgradeRequest upgrade;
	upgrade.method = request.getMethod();
	upgrade.httpVersion = request.getVersion();
	upgrade.upgrade = request.get("Upgrade", "");
	upgrade.connection = request.get("Connection", "");
	upgrade.version = request.get("Sec-WebSocket-Version", "");
	upgrade.key = request.get("Sec-WebSocket-Key", "");
	upgrade.protocols = request.get("Sec-WebSocket-Protocol", "");
	const codec::UpgradeVerdict verdict = codec::Handshake::evaluate(upgrade);
	if (verdict.status != 101)
	{
		HttpHead::Headers headers = version;
		if (verdict.status == 426) headers.emplace_back("Upgrade", "websocket");
		return refuse(verdict.status, verdict.reason, headers);
	}
	Verdict v;
	v.status = 101;
	v.route = static_cast<std::uint16_t>(route);
	v.response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
	v.response += verdict.accept;
	v.response += "\r\n\r\n";
	return v;
}

} // namespace host
} // namespace parley
