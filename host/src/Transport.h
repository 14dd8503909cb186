//
// Transport.h — one connection's byte stream over a non-blocking socket: plain TCP, or TLS
// (OpenSSL) run inside the event loop. The plain path is inline and costs one branch.
//
#ifndef PARLEY_HOST_TRANSPORT_INCLUDED
#define PARLEY_HOST_TRANSPORT_INCLUDED

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/socket.h>
#include <sys/types.h>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace parley {
namespace host {

/// Reads and writes never block and never throw. A TLS transport reads until OpenSSL wants more
/// from the socket (SSL_read returns one record at a time, so "a short read" does not mean the
/// socket is empty) and writes until the socket is full (partial writes, moving write buffer:
/// what was not taken is offered again later from wherever it lies then).
class Transport
{
public:
	/// read()/write() results besides a byte count.
	static constexpr ssize_t WouldBlock = -1;   ///< nothing now: wait for the next event
	static constexpr ssize_t Failed = -2;       ///< the connection is broken (errno or a TLS error)

	enum class Step : std::uint8_t { Done, Pending, Failed };

	explicit Transport(int fd) noexcept : _fd(fd) {}
	~Transport() { close(); }

	Transport(const Transport&) = delete;
	Transport& operator=(const Transport&) = delete;

	int fd() const noexcept { return _fd; }
	bool secure() const noexcept { return _ssl != nullptr; }

	/// Makes this a TLS transport (server side) with `context`. Returns false if OpenSSL cannot
	/// create the session (out of memory).
	bool startTls(SSL_CTX* context);

	/// Runs the TLS handshake as far as the socket allows. On Failed, *why (if given) says why
	/// in a few words ("peer closed the connection", "http request", "no shared cipher"...).
	Step handshake(std::string* why = nullptr);

	/// Reads up to `size` bytes: returns the count (> 0), 0 at the end of the peer's stream,
	/// WouldBlock or Failed. `drained` is set when the socket is known to be empty now.
	ssize_t read(char* data, std::size_t size, bool& drained)
	{
		if (_ssl) return tlsRead(data, size, drained);
		for (;;)
		{
			const ssize_t n = ::recv(_fd, data, size, 0);
			if (n > 0)
			{
				drained = static_cast<std::size_t>(n) < size;
				return n;
			}
			if (n == 0) return 0;
			if (errno == EINTR) continue;
			drained = true;
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? WouldBlock : Failed;
		}
	}

	/// Writes as much of `data` as the socket takes now: the count (> 0; less than `size` means
	/// the socket is full), WouldBlock if it took nothing, or Failed.
	ssize_t write(const char* data, std::size_t size)
	{
		if (_ssl) return tlsWrite(data, size);
		for (;;)
		{
			const ssize_t n = ::send(_fd, data, size, MSG_NOSIGNAL);
			if (n >= 0) return n > 0 || size == 0 ? n : WouldBlock;
			if (errno == EINTR) continue;
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? WouldBlock : Failed;
		}
	}

	/// Ends our side of the stream: a TLS close_notify (best effort), then the TCP FIN.
	void shutdownWrite();

	/// Reads and drops raw bytes (after our side is shut down, waiting for the peer's end):
	/// returns as read() does.
	ssize_t discard(char* buffer, std::size_t size);

	/// Frees the TLS session and closes the socket. Idempotent.
	void close();

private:
	ssize_t tlsRead(char* data, std::size_t size, bool& drained);
	ssize_t tlsWrite(const char* data, std::size_t size);

	int _fd;
	SSL* _ssl = nullptr;
	/// TLS: the end of the stream (0) or a failure seen while returning earlier bytes; 1 = none.
	signed char _pendingEnd = 1;
};

} // namespace host
} // namespace parley

#endif
