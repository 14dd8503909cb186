//
// ClientHandshake.cpp
//
#include "ClientHandshake.h"
#include "parley/codec/Handshake.h"
#include <algorithm>
#include <cctype>
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

} // namespace

ClientHandshake::ClientHandshake(const Url& url, const std::string& subprotocol,
	const std::vector<std::pair<std::string, std::string>>& headers) :
	_key(codec::Handshake::generateKey()),
	_subprotocol(subprotocol)
{
	if (!sendable(subprotocol))
		throw std::invalid_argument("bad subprotocol: contains CR or LF");
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
	if (!subprotocol.empty())
	{
		_request += "Sec-WebSocket-Protocol: ";
		_request += subprotocol;
		_request += "\r\n";
	}
	for (const auto& header : headers)
	{
		const std::string name = trim(header.first);
		if (name.empty())
			throw std::invalid_argument("bad header: empty name");
		for (char c : name)
		{
			unsigned char u = static_cast<unsigned char>(c);
			if (u <= 0x20 || u >= 0x7F || c == ':')
				throw std::invalid_argument("bad header name '" + name + "'");
		}
		if (!sendable(header.second))
			throw std::invalid_argument("bad value for header '" + name + "': contains CR or LF");
		const std::string l = lower(name);
		if (l == "host" || l == "upgrade" || l == "connection" || l == "sec-websocket-key"
			|| l == "sec-websocket-version" || l == "sec-websocket-extensions")
			throw std::invalid_argument("header '" + name + "' is set by the client itself");
		_request += name;
		_request += ": ";
		_request += trim(header.second);
		_request += "\r\n";
	}
	_request += "\r\n";
}

ClientHandshake::Result ClientHandshake::feed(const char* data, std::size_t size, std::size_t& consumed)
{
	consumed = 0;
	if (!_error.empty())
		return Result::Failed;
	const std::size_t before = _buffer.size();
	if (before == 0 && size >= 2 && (data[0] == 0x15 || data[0] == 0x16) && data[1] == 0x03)
	{
		// A TLS record (alert or handshake) where an HTTP response belongs.
		_error = "handshake failed: the server answered with TLS (use wss://)";
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
			return Result::Failed;
		}
		consumed = std::min(size, room);
		return Result::NeedMore;
	}
	end += 4;
	consumed = end - before;
	_buffer.resize(end);
	return check();
}

ClientHandshake::Result ClientHandshake::check()
{
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
			reason = trim(statusLine.substr(i + 1));
	}
	if (status < 100 || status > 999)
	{
		_error = "handshake failed: bad status line '" + statusLine + "'";
		return Result::Failed;
	}
	if (status != 101)
	{
		_error = "handshake refused: HTTP " + std::to_string(status) + (reason.empty() ? "" : " " + reason);
		return Result::Failed;
	}

	std::string upgrade, connection, accept, protocol, extensions;
	bool hasProtocol = false;
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
			protocol = value;
			hasProtocol = true;
		}
		else if (name == "sec-websocket-extensions")
			extensions = value;
	}
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
								: "handshake failed: wrong Sec-WebSocket-Accept '" + accept + "'";
		return Result::Failed;
	}
	if (!extensions.empty())
	{
		_error = "handshake failed: the server chose extensions '" + extensions + "' that were not offered";
		return Result::Failed;
	}
	if (hasProtocol && !protocol.empty())
	{
		if (_subprotocol.empty() || !codec::Handshake::hasToken(_subprotocol, protocol))
		{
			_error = "handshake failed: the server chose subprotocol '" + protocol + "' that was not offered";
			return Result::Failed;
		}
	}
	_protocol = protocol;
	return Result::Done;
}

} // namespace client
} // namespace parley
