//
// ClientHandshake.cpp
//
#include "ClientHandshake.h"
#include "parley/codec/DeflateNegotiation.h"
#include "parley/codec/Handshake.h"
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>
#include <stdexcept>

namespace parley {
namespace client {

namespace {

std::string lower(std::string s)
{
	for (char& c : s)
		c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	return s;
}

std::string trim(const std::string& s)
{
	std::size_t b = s.find_first_not_of(" \t");
	if (b == std::string::npos)
		return {};
	std::size_t e = s.find_last_not_of(" \t");
	return s.substr(b, e - b + 1);
}

bool sendable(const std::string& s)
{
	return s.find_first_of("\r\n") == std::string::npos;
}

bool hasControl(const std::string& s)
{
	for (char c : s)
	{
		const unsigned char u = static_cast<unsigned char>(c);
		if ((u < 0x20 && c != '\t') || u == 0x7F)
			return true;
	}
	return false;
}

/// RFC 7230 tchar.
bool isTokenChar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		|| std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(const std::string& s)
{
	if (s.empty())
		return false;
	for (char c : s)
		if (!isTokenChar(c))
			return false;
	return true;
}

std::string join(const std::vector<std::string>& list)
{
	std::string out;
	for (const std::string& s : list)
		out += (out.empty() ? "" : ", ") + s;
	return out;
}

/// Printable ASCII as is, anything else as '?', cut at `limit` bytes (with "...").
std::string clean(const std::string& s, std::size_t limit)
{
	std::string out;
	for (char c : s)
	{
		if (out.size() >= limit)
		{
			out += "...";
			break;
		}
		const unsigned char u = static_cast<unsigned char>(c);
		out += (u >= 0x20 && u < 0x7F) ? c : (c == '\t' ? ' ' : '?');
	}
	return out;
}

} // namespace

std::vector<std::string> splitSubprotocols(const std::string& text)
{
	std::vector<std::string> out;
	std::string current;
	for (char c : text)
	{
		if (c == ',' || c == ' ' || c == '\t')
		{
			if (!current.empty())
				out.push_back(current);
			current.clear();
		}
		else
			current += c;
	}
	if (!current.empty())
		out.push_back(current);
	return out;
}

void checkHandshakeOptions(const HandshakeOptions& options)
{
	for (std::size_t i = 0; i < options.subprotocols.size(); ++i)
	{
		const std::string& p = options.subprotocols[i];
		if (p.empty())
			throw std::invalid_argument("bad subprotocol: empty name");
		if (!isToken(p))
			throw std::invalid_argument("bad subprotocol '" + clean(p, 80)
				+ "': a name of letters, digits and !#$%&'*+-.^_`|~ only (no spaces, commas or quotes)");
		for (std::size_t j = 0; j < i; ++j)
			if (options.subprotocols[j] == p)
				throw std::invalid_argument("subprotocol '" + p + "' is offered twice");
	}
	if (hasControl(options.origin))
		throw std::invalid_argument("bad origin '" + clean(options.origin, 80) + "': contains a control character (CR, LF, ...)");
	if (options.token.find_first_of(" \t") != std::string::npos || hasControl(options.token))
		throw std::invalid_argument("bad token: contains a space or a control character");
	for (const auto& header : options.headers)
	{
		const std::string name = trim(header.first);
		if (name.empty())
			throw std::invalid_argument("bad header: empty name");
		for (char c : name)
		{
			if (!isTokenChar(c))
				throw std::invalid_argument("bad header name '" + clean(name, 80) + "'");
		}
		if (!sendable(header.second) || hasControl(header.second))
			throw std::invalid_argument("bad value for header '" + name + "': contains CR, LF or another control character");
		const std::string l = lower(name);
		if (l == "host" || l == "upgrade" || l == "connection" || l == "sec-websocket-key"
			|| l == "sec-websocket-version" || l == "sec-websocket-extensions")
			throw std::invalid_argument("header '" + name + "' is set by the client itself");
		if (l == "sec-websocket-protocol")
			throw std::invalid_argument("header '" + name + "' is set by the client itself: offer subprotocols with the subprotocol option");
		if (l == "origin" && !options.origin.empty())
			throw std::invalid_argument("header '" + name + "' given next to the origin option: give one of them");
		if (l == "authorization" && !options.token.empty())
			throw std::invalid_argument("header '" + name + "' given next to the token option: give one of them");
	}
	std::string why;
	if (options.deflate.enabled && !codec::DeflateNegotiation::validate(options.deflate.offer, &why))
		throw std::invalid_argument("bad deflate setting: " + why);
}

ClientHandshake::ClientHandshake(const Url& url, const HandshakeOptions& options) :
	_key(codec::Handshake::generateKey()),
	_offered(options.subprotocols),
	_deflate(options.deflate)
{
	checkHandshakeOptions(options);
	_request.reserve(256);
	_request += "GET ";
	_request += url.path.empty() ? std::string("/") : url.path;
	_request += " HTTP/1.1\r\nHost: ";
	_request += url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
	if (url.port != url.defaultPort())
	{
		_request += ':';
		_request += std::to_string(url.port);
	}
	_request += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
	_request += _key;
	_request += "\r\nSec-WebSocket-Version: 13\r\n";
	if (!_offered.empty())
	{
		_request += "Sec-WebSocket-Protocol: ";
		_request += join(_offered);
		_request += "\r\n";
	}
	if (_deflate.enabled)
	{
		_request += "Sec-WebSocket-Extensions: ";
		_request += codec::DeflateNegotiation::clientOffer(_deflate.offer);
		_request += "\r\n";
		_reply.deflateOffered = true;
	}
	if (!options.origin.empty())
	{
		_request += "Origin: ";
		_request += trim(options.origin);
		_request += "\r\n";
	}
	if (!options.token.empty())
	{
		_request += "Authorization: Bearer ";
		_request += options.token;
		_request += "\r\n";
	}
	for (const auto& header : options.headers)
	{
		_request += trim(header.first);
		_request += ": ";
		_request += trim(header.second);
		_request += "\r\n";
	}
	_request += "\r\n";
}

ClientHandshake::Result ClientHandshake::feed(const char* data, std::size_t size, std::size_t& consumed)
{
	consumed = 0;
	if (_phase == Phase::Done)
		return _error.empty() ? Result::Done : Result::Failed;
	if (_phase == Phase::Body)
	{
		const std::size_t take = std::min(size, _bodyLimit - std::min(_bodyLimit, _body.size()));
		_body.append(data, take);
		consumed = size;
		return readBody();
	}
	const std::size_t before = _buffer.size();
	if (before == 0 && size >= 2 && (data[0] == 0x15 || data[0] == 0x16) && data[1] == 0x03)
	{
		// A TLS record (alert or handshake) where an HTTP response belongs.
		_error = "handshake failed: the server answered with TLS (use wss://)";
		_phase = Phase::Done;
		return Result::Failed;
	}
	const std::size_t room = MaxResponseSize + 4 - before;
	_buffer.append(data, std::min(size, room));
	std::size_t searchFrom = before >= 3 ? before - 3 : 0;
	std::size_t end = _buffer.find("\r\n\r\n", searchFrom);
	if (end == std::string::npos)
	{
		if (_buffer.size() > MaxResponseSize)
		{
			_error = "handshake failed: the response header is larger than 16 KiB";
			_phase = Phase::Done;
			return Result::Failed;
		}
		consumed = std::min(size, room);
		return Result::NeedMore;
	}
	end += 4;
	consumed = end - before;
	// Bytes after the head: WebSocket frames after a 101, the body of a refusal.
	_body.assign(data + consumed, size - consumed);
	_buffer.resize(end);
	const Result result = check();
	if (_phase != Phase::Body)
	{
		_body.clear();
		return result;
	}
	consumed = size;
	if (_body.size() > _bodyLimit)
		_body.resize(_bodyLimit);
	return readBody();
}

ClientHandshake::Result ClientHandshake::readBody()
{
	if (_body.size() >= _bodyLimit)
		return refused();
	std::size_t from = 0;
	if (_chunked)
	{
		// The first chunk's size line comes first; size 0 is the last chunk: an empty body.
		from = _body.find("\r\n");
		if (from == std::string::npos)
			return Result::NeedMore;
		if (std::strtoul(_body.substr(0, from).c_str(), nullptr, 16) == 0)
			return refused();
		from += 2;
	}
	const std::size_t text = _body.find_first_not_of(" \t\r\n", from);
	if (text != std::string::npos && _body.find('\n', text) != std::string::npos)
		return refused();
	return Result::NeedMore;
}

ClientHandshake::Result ClientHandshake::endOfResponse()
{
	if (_phase == Phase::Body)
		return refused();
	return _error.empty() ? Result::Done : Result::Failed;
}

ClientHandshake::Result ClientHandshake::refused()
{
	std::string body = _body;
	if (_chunked)
	{
		const std::size_t sizeEnd = body.find("\r\n");
		body = sizeEnd == std::string::npos ? std::string() : body.substr(sizeEnd + 2);
	}
	const std::size_t text = body.find_first_not_of(" \t\r\n");
	if (text != std::string::npos)
	{
		const std::size_t lineEnd = body.find_first_of("\r\n", text);
		_reply.message = clean(trim(body.substr(text, lineEnd == std::string::npos ? std::string::npos : lineEnd - text)),
			MaxMessageBytes);
	}
	_error = "handshake refused: HTTP " + std::to_string(_reply.status);
	if (!_reply.reason.empty())
		_error += " " + _reply.reason;
	if (!_reply.message.empty() && lower(_reply.message) != lower(_reply.reason)
		&& _reply.message != std::to_string(_reply.status) + " " + _reply.reason)
		_error += ": " + _reply.message;
	if (!_reply.authenticate.empty())
		_error += " (WWW-Authenticate: " + _reply.authenticate + ")";
	_phase = Phase::Done;
	_body.clear();
	_body.shrink_to_fit();
	return Result::Failed;
}

ClientHandshake::Result ClientHandshake::check()
{
	_phase = Phase::Done;
	// Status line: HTTP/1.1 SP code SP reason
	std::size_t lineEnd = _buffer.find("\r\n");
	std::string statusLine = _buffer.substr(0, lineEnd);
	if (statusLine.compare(0, 5, "HTTP/") != 0)
	{
		_error = "handshake failed: the server did not answer with HTTP";
		return Result::Failed;
	}
	std::size_t sp = statusLine.find(' ');
	int status = 0;
	std::string reason;
	if (sp != std::string::npos)
	{
		std::size_t i = sp + 1;
		while (i < statusLine.size() && std::isdigit(static_cast<unsigned char>(statusLine[i])) && status < 1000)
			status = status * 10 + (statusLine[i++] - '0');
		if (i < statusLine.size() && statusLine[i] == ' ')
			reason = clean(trim(statusLine.substr(i + 1)), MaxMessageBytes);
	}
	if (status < 100 || status > 999)
	{
		_error = "handshake failed: bad status line '" + clean(statusLine, MaxMessageBytes) + "'";
		return Result::Failed;
	}
	_reply.status = status;
	_reply.reason = reason;

	std::string upgrade, connection, accept, protocol, extensions, contentLength, transferEncoding, contentType;
	unsigned protocolFields = 0, extensionFields = 0;
	std::size_t pos = lineEnd + 2;
	while (pos < _buffer.size())
	{
		std::size_t next = _buffer.find("\r\n", pos);
		if (next == std::string::npos || next == pos)
			break;
		std::string line = _buffer.substr(pos, next - pos);
		pos = next + 2;
		std::size_t colon = line.find(':');
		if (colon == std::string::npos)
			continue;
		std::string name = lower(trim(line.substr(0, colon)));
		std::string value = trim(line.substr(colon + 1));
		if (name == "upgrade")
			upgrade = value;
		else if (name == "connection")
			connection = value;
		else if (name == "sec-websocket-accept")
			accept = value;
		else if (name == "sec-websocket-protocol")
		{
			protocol += (protocolFields++ ? ", " : "") + value;
		}
		else if (name == "sec-websocket-extensions")
			extensions += (extensionFields++ ? ", " : "") + value;  // several fields are one list
		else if (name == "content-length")
			contentLength = value;
		else if (name == "transfer-encoding")
			transferEncoding = value;
		else if (name == "content-type")
			contentType = value;
		else if (name == "www-authenticate" && _reply.authenticate.empty())
			_reply.authenticate = clean(value, MaxMessageBytes);
	}
	if (status != 101)
	{
		// A refusal: its body's first line says why (a Parley host puts a one-line reason there).
		_chunked = codec::Handshake::hasToken(transferEncoding, "chunked");
		_bodyLimit = MaxBodyBytes;
		if (!_chunked && !contentLength.empty())
		{
			std::size_t length = 0;
			std::size_t i = 0;
			while (i < contentLength.size() && std::isdigit(static_cast<unsigned char>(contentLength[i])) && length <= MaxBodyBytes)
				length = length * 10 + static_cast<std::size_t>(contentLength[i++] - '0');
			_bodyLimit = std::min(length, MaxBodyBytes);
		}
		if (lower(contentType).find("html") != std::string::npos || status == 204 || status == 304 || status < 200)
			_bodyLimit = 0;  // no body, or a page rather than a line
		_phase = Phase::Body;
		return Result::NeedMore;
	}
	_reply.authenticate.clear();
	if (lower(upgrade) != "websocket")
	{
		_error = "handshake failed: the 101 response has no 'Upgrade: websocket'";
		return Result::Failed;
	}
	if (!codec::Handshake::hasToken(connection, "upgrade"))
	{
		_error = "handshake failed: the 101 response has no 'Connection: Upgrade'";
		return Result::Failed;
	}
	if (accept != codec::Handshake::acceptFor(_key))
	{
		_error = accept.empty() ? "handshake failed: no Sec-WebSocket-Accept in the response"
								: "handshake failed: wrong Sec-WebSocket-Accept '" + clean(accept, 80) + "'";
		return Result::Failed;
	}
	_reply.extensions = clean(extensions, MaxMessageBytes);
	if (!extensions.empty() && !_deflate.enabled)
	{
		_error = "handshake failed: the server chose extensions '" + clean(extensions, 80) + "' that were not offered";
		return Result::Failed;
	}
	if (_deflate.enabled)
	{
		// RFC 6455 §9.1, RFC 7692 §7.1: an answer the client cannot accept fails the connection.
		std::string why;
		switch (codec::DeflateNegotiation::checkServerResponse(extensions, _deflate.offer, _reply.deflateParams, &why))
		{
		case codec::DeflateResponse::Declined:
			_reply.deflateParams = codec::DeflateParams{};
			break;
		case codec::DeflateResponse::Accepted:
			_reply.deflate = true;
			break;
		case codec::DeflateResponse::Invalid:
			_reply.deflateParams = codec::DeflateParams{};
			_error = "handshake failed: bad Sec-WebSocket-Extensions '" + clean(extensions, 120) + "' in the 101 (offered '"
				+ codec::DeflateNegotiation::clientOffer(_deflate.offer) + "'): " + why;
			return Result::Failed;
		}
	}
	// RFC 6455 4.1: the server names one of the offered subprotocols, or none when none was
	// offered. An offer answered without one fails too (as browsers do): the application
	// protocol would be unknown.
	if (_offered.empty())
	{
		if (!protocol.empty())
		{
			_error = "handshake failed: the server selected subprotocol '" + clean(protocol, 80)
				+ "' but none was offered";
			return Result::Failed;
		}
	}
	else if (protocol.empty())
	{
		_error = "handshake failed: the server selected no subprotocol (offered: " + join(_offered) + ")";
		return Result::Failed;
	}
	else if (protocolFields > 1 || protocol.find(',') != std::string::npos)
	{
		_error = "handshake failed: the server named more than one subprotocol '" + clean(protocol, 80)
			+ "' (offered: " + join(_offered) + ")";
		return Result::Failed;
	}
	else if (std::find(_offered.begin(), _offered.end(), protocol) == _offered.end())
	{
		_error = "handshake failed: the server selected subprotocol '" + clean(protocol, 80)
			+ "' that was not offered (offered: " + join(_offered) + ")";
		return Result::Failed;
	}
	_reply.subprotocol = protocol;
	return Result::Done;
}

} // namespace client
} // namespace parley
