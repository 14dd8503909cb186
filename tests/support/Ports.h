//
// Ports.h — loopback ports for tests.
//
#ifndef PARLEY_TESTS_PORTS_INCLUDED
#define PARLEY_TESTS_PORTS_INCLUDED

#include <arpa/inet.h>
#include <cstdint>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley {
namespace test {

/// A loopback port with nothing listening: bound once to an ephemeral port, then released.
inline std::uint16_t closedPort()
{
	int fd = ::socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
	socklen_t len = sizeof(a);
	::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
	::close(fd);
	return ntohs(a.sin_port);
}

} // namespace test
} // namespace parley

#endif
