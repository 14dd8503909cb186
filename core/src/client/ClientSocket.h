//
// ClientSocket.h — a non-blocking TCP client socket (internal to the client session and LoadRun).
//
#ifndef PARLEY_CLIENT_CLIENTSOCKET_INCLUDED
#define PARLEY_CLIENT_CLIENTSOCKET_INCLUDED

#include <cstdint>
#include <string>

namespace parley {
namespace client {

/// Owns one non-blocking, TCP_NODELAY socket whose connect() has been started.
class ClientSocket
{
public:
	ClientSocket() = default;
	~ClientSocket();
	ClientSocket(ClientSocket&& other) noexcept;
	ClientSocket& operator=(ClientSocket&& other) noexcept;
	ClientSocket(const ClientSocket&) = delete;
	ClientSocket& operator=(const ClientSocket&) = delete;

	/// Resolves host (IPv4 preferred), creates the socket and starts a non-blocking connect.
	/// Throws std::runtime_error with one line ("cannot resolve host 'x': ...",
	/// "cannot connect to TARGET: Connection refused") when that fails at once; `target` names
	/// the destination in such messages (e.g. the URL).
	static ClientSocket startConnect(const std::string& host, std::uint16_t port, const std::string& target);

	/// Once the socket is writable: 0 if the connection is established, else the errno.
	int connectError() const noexcept;

	int fd() const noexcept { return _fd; }
	bool valid() const noexcept { return _fd >= 0; }
	/// Closes the socket (idempotent).
	void close() noexcept;
	/// Closes with an RST instead of a FIN (SO_LINGER 0): for dropping a connection.
	void abort() noexcept;

	/// Returns strerror(code) as a std::string.
	static std::string errorText(int code);

private:
	explicit ClientSocket(int fd) noexcept : _fd(fd) {}
	int _fd = -1;
};

} // namespace client
} // namespace parley

#endif
