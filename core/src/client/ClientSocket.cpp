//
// ClientSocket.cpp
//
#include "ClientSocket.h"
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace parley {
namespace client {

ClientSocket::~ClientSocket()
{
	close();
}

ClientSocket::ClientSocket(ClientSocket&& other) noexcept : _fd(other._fd)
{
	other._fd = -1;
}

ClientSocket& ClientSocket::operator=(ClientSocket&& other) noexcept
{
	if (this != &other)
	{
		close();
		_fd = other._fd;
		other._fd = -1;
	}
	return *this;
}

ClientSocket ClientSocket::startConnect(const std::string& host, std::uint16_t port, const std::string& target)
{
	addrinfo hints;
	std::memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	addrinfo* list = nullptr;
	std::string service = std::to_string(port);
	int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
	if (rc != 0)
		throw std::runtime_error("cannot resolve host '" + host + "': " + ::gai_strerror(rc));
	const addrinfo* chosen = list;
	for (const addrinfo* ai = list; ai; ai = ai->ai_next)
	{
		if (ai->ai_family == AF_INET)
		{
			chosen = ai;
			break;
		}
	}
	const std::string& where = target;
	if (!chosen)
	{
		::freeaddrinfo(list);
		throw std::runtime_error("cannot resolve host '" + host + "': no address");
	}
	int fd = ::socket(chosen->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
	{
		int err = errno;
		::freeaddrinfo(list);
		throw std::runtime_error("cannot create a socket for " + where + ": " + errorText(err));
	}
	ClientSocket socket(fd);
	int one = 1;
	::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rc = ::connect(fd, chosen->ai_addr, chosen->ai_addrlen);
	int err = errno;
	::freeaddrinfo(list);
	if (rc != 0 && err != EINPROGRESS)
		throw std::runtime_error("cannot connect to " + where + ": " + errorText(err));
	return socket;
}

int ClientSocket::connectError() const noexcept
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (::getsockopt(_fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return errno;
	return err;
}

void ClientSocket::close() noexcept
{
	if (_fd >= 0)
	{
		::close(_fd);
		_fd = -1;
	}
}

void ClientSocket::abort() noexcept
{
	if (_fd >= 0)
	{
		linger lg;
		lg.l_onoff = 1;
		lg.l_linger = 0;
		::setsockopt(_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close();
	}
}

std::string ClientSocket::errorText(int code)
{
	char buffer[256];
	// GNU strerror_r returns the message (possibly not in buffer).
	return std::string(::strerror_r(code, buffer, sizeof(buffer)));
}

} // namespace client
} // namespace parley
