//
// UpgradeHandler.cpp
//
#include "UpgradeHandler.h"
#include "EventLoopPool.h"
#include "StatusHandler.h"
#include "parley/codec/Handshake.h"
#include <Poco/Buffer.h>
#include <Poco/Exception.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/StreamSocket.h>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace parley {
namespace host {

UpgradeHandler::UpgradeHandler(EventLoopPool& pool, std::uint16_t route): _pool(pool), _route(route)
{
}

void UpgradeHandler::handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response)
{
	using Poco::Net::HTTPResponse;
	codec::UpgradeRequest upgrade;
	upgrade.method = request.getMethod();
	upgrade.httpVersion = request.getVersion();
	upgrade.upgrade = request.get("Upgrade", "");
	upgrade.connection = request.get("Connection", "");
	upgrade.version = request.get("Sec-WebSocket-Version", "");
	upgrade.key = request.get("Sec-WebSocket-Key", "");
	upgrade.protocols = request.get("Sec-WebSocket-Protocol", "");
	const codec::UpgradeVerdict verdict = codec::Handshake::evaluate(upgrade);

	auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
	if (verdict.status == 101 && impl == nullptr)
	{
		StatusHandler::send(response, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "text/plain", "cannot upgrade this request\n");
		return;
	}
	if (verdict.status != 101)
	{
		_pool.countRefusedHandshake();
		std::vector<std::pair<std::string, std::string>> headers{{"Sec-WebSocket-Version", "13"}};
		if (verdict.status == 426)
		{
			headers.emplace_back("Upgrade", "websocket");
			headers.emplace_back("Connection", "Upgrade");
		}
		if (verdict.status == 405) headers.emplace_back("Allow", "GET");
		// A refused upgrade may be followed by frames the client sent optimistically: do not keep it.
		if (!upgrade.upgrade.empty() || !upgrade.key.empty()) response.setKeepAlive(false);
		StatusHandler::send(response, static_cast<HTTPResponse::HTTPStatus>(verdict.status), "text/plain; charset=utf-8",
			verdict.reason + "\n", headers);
		return;
	}
	if (!_pool.tryReserve())
	{
		response.setKeepAlive(false);
		StatusHandler::send(response, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
			"too many connections (engine.max_connections)\n");
		return;
	}

	int fd = -1;
	std::string preread;
	try
	{
		Poco::Buffer<char> buffered(0);
		impl->session().drainBuffer(buffered);
		preread.assign(buffered.begin(), buffered.size());
		Poco::Net::StreamSocket socket = impl->detachSocket();
		std::string head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Accept: " + verdict.accept + "\r\n";
		if (!verdict.protocol.empty()) head += "Sec-WebSocket-Protocol: " + verdict.protocol + "\r\n";
		head += "\r\n";
		socket.setNoDelay(true);
		std::size_t sent = 0;
		while (sent < head.size())
		{
			const int n = socket.sendBytes(head.data() + sent, static_cast<int>(head.size() - sent));
			if (n <= 0) throw Poco::IOException("connection closed during the handshake");
			sent += static_cast<std::size_t>(n);
		}
		// Own a descriptor of our own: Poco closes its copy when `socket` goes away.
		fd = ::fcntl(socket.impl()->sockfd(), F_DUPFD_CLOEXEC, 0);
		if (fd < 0) throw Poco::IOException("dup failed", errno);
		const int flags = ::fcntl(fd, F_GETFL, 0);
		if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throw Poco::IOException("fcntl failed", errno);
	}
	catch (...)
	{
		if (fd >= 0) ::close(fd);
		_pool.release();
		return; // the peer is gone or the socket is unusable; nothing to answer on
	}
	_pool.adopt(fd, _route, std::move(preread));
}

} // namespace host
} // namespace parley
