//
// Admission.cpp
//
#include "Admission.h"
#include "HostContext.h"
#include "HttpHead.h"
#include "parley/codec/DeflateNegotiation.h"
#include "parley/codec/Handshake.h"
#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/URI.h>
#include <algorithm>

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

/// Every Sec-WebSocket-Extensions field of a request, joined with ", " (RFC 7230 §3.2.2).
std::string extensionOffers(const Poco::Net::HTTPRequest& request)
{
	static const std::string name = "Sec-WebSocket-Extensions";
	std::string joined;
	for (auto it = request.find(name); it != request.end() && Poco::icompare(it->first, name) == 0; ++it)
	{
		if (!joined.empty()) joined += ", ";
		joined += it->second;
	}
	return joined;
}

/// The subprotocol offers of a request (every Sec-WebSocket-Protocol field, comma-separated),
/// or false if one is not a token.
bool offers(const Poco::Net::HTTPRequest& request, std::vector<std::string>& out)
{
	static const std::string name = "Sec-WebSocket-Protocol";
	for (auto it = request.find(name); it != request.end() && Poco::icompare(it->first, name) == 0; ++it)
	{
		const std::string& value = it->second;
		std::size_t start = 0;
		for (;;)
		{
			const std::size_t comma = value.find(',', start);
			const std::string item = Poco::trim(value.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
			if (!item.empty())
			{
				if (!codec::Handshake::isToken(item)) return false;
				out.push_back(item);
			}
			if (comma == std::string::npos) break;
			start = comma + 1;
		}
	}
	return true;
}

std::string join(const std::vector<std::string>& items)
{
	std::string out;
	for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
	return out;
}

} // namespace

Verdict Admission::overCapacity()
{
	return refuse(503, "too many connections (engine.max_connections)");
}

Verdict Admission::overPeerLimit(bool tooFast)
{
	return refuse(429, tooFast ? "too many new connections from your address (engine.handshakes_per_ip_per_s)"
	                           : "too many connections from your address (engine.max_connections_per_ip)",
		{{"Retry-After", "1"}});
}

Verdict Admission::refusal(int status, const std::string& reason, const Verdict::Headers& headers)
{
	return refuse(status, reason, headers);
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
	std::shared_ptr<const HostConfig> config;
	const int route = _context.activeRoute(path, config);
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

	const RouteOptions& options = config->optionsFor(path);
	const std::size_t origins = countOf(request, "Origin");
	auto because = [](Verdict v, Verdict::Cause cause) {
		v.cause = cause;
		return v;
	};
	if (origins > 1) return because(refuse(403, "forbidden: more than one Origin header"), Verdict::Cause::Origin);
	if (origins == 1)
	{
		const std::string& origin = request.get("Origin");
		const OriginList* allowed = config->originsFor(path);
		// No list: every browser origin is refused. (Comparing Origin with Host would let a page
		// whose name was rebound to this address in: DNS rebinding.)
		if (!allowed || !allowed->allows(origin))
			return because(refuse(403, "forbidden: origin " + origin + " is not allowed on " + path +
				(options.hasOrigins ? " (route." + path + ".origins)"
				 : allowed ? " (server.origins)" : " (no server.origins set: browser origins are refused)")), Verdict::Cause::Origin);
	}

	std::vector<std::string> offered;
	if (!offers(request, offered)) return refuse(400, "malformed Sec-WebSocket-Protocol header", version);
	std::string selected;
	if (!offered.empty())
	{
		for (const std::string& mine : options.subprotocols)
		{
			if (std::find(offered.begin(), offered.end(), mine) != offered.end())
			{
				selected = mine;
				break;
			}
		}
		if (selected.empty())
		{
			if (options.subprotocols.empty())
				return because(refuse(400, path + " speaks no subprotocol; offered: " + join(offered), version),
					Verdict::Cause::Subprotocol);
			return because(refuse(400, path + " speaks " + join(options.subprotocols) + "; offered: " + join(offered), version),
				Verdict::Cause::Subprotocol);
		}
	}

	Verdict v;
	v.status = 101;
	v.route = static_cast<std::uint16_t>(route);
	v.path = path;
	const std::string& target = request.getURI();
	const std::size_t question = target.find('?');
	if (question != std::string::npos)
		v.query = target.substr(question + 1, target.find('#', question) == std::string::npos ? std::string::npos
			: target.find('#', question) - question - 1);
	v.subprotocol = selected;
	v.response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
	v.response += verdict.accept;
	if (!selected.empty())
	{
		v.response += "\r\nSec-WebSocket-Protocol: ";
		v.response += selected;
	}
	if (options.deflate)
	{
		// permessage-deflate: the first acceptable offer, or none (then no extension field, and
		// the connection runs uncompressed).
		const std::string extensions = extensionOffers(request);
		if (!extensions.empty())
		{
			if (auto agreed = codec::DeflateNegotiation::negotiateServer(extensions, config->engine.deflate.negotiation))
			{
				v.response += "\r\nSec-WebSocket-Extensions: ";
				v.response += agreed->response;
				v.deflate = agreed->params;
			}
		}
	}
	v.response += "\r\n\r\n";
	if (!options.gates.empty())
	{
		v.gated = true;
		auto headers = std::make_shared<Verdict::Headers>();
		for (const auto& field : request) headers->emplace_back(field.first, field.second);
		v.headers = std::move(headers);
	}
	return v;
}

} // namespace host
} // namespace parley
