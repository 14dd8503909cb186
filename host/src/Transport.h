//
// Transport.h — one connection's byte stream over a non-blocking socket: plain TCP, or TLS
// (OpenSSL) run inside the event loop. The plain path is inline and costs one branch.
//
#ifndef PARLEY_HOST_TRANSPORT_INCLUDED
#define PARLEY_HOST_TRANSPORT_INCLUDED

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace parley {
namespace host {

/// Reads and writes never block and never throw.
///
/// TLS: OpenSSL talks to the socket through a BIO of ours. Its reads go straight to recv() with
/// read-ahead, so one recv() brings several records; its writes (records) are gathered in memory
/// and leave with one send() per write() call — OpenSSL's socket BIO makes one write() per
/// 16 KiB record and two reads per record. Encrypted bytes the socket did not take wait in the
/// transport (backlog(): at most one write() call's worth) and go first on the next write() or
/// flushBacklog(); write() takes no more plaintext while they wait. A read goes on until OpenSSL
/// wants more from the socket (SSL_read returns one record at a time, so "a short read" does not
/// mean the socket is empty).
class Transport
{
public:
	/// read()/write() results besides a byte count.
	static constexpr ssize_t WouldBlock = -1;   ///< nothing now: wait for the next event
	static constexpr ssize_t Failed = -2;       ///< the connection is broken (errno or a TLS error)

	enum class Step : std::uint8_t { Done, Pending, Failed };

	explicit Transport(int fd) noexcept;
	~Transport();

	Transport(const Transport&) = delete;
	Transport& operator=(const Transport&) = delete;

	int fd() const noexcept { return _fd; }
	bool secure() const noexcept { return _tls != nullptr; }

	/// Makes this a TLS transport (server side) with `context`. Returns false if OpenSSL cannot
	/// create the session (out of memory).
	bool startTls(SSL_CTX* context);

	/// Runs the TLS handshake as far as the socket allows. On Failed, *why (if given) says why
	/// in a few words ("unexpected eof while reading", "http request", "no shared cipher"...).
	Step handshake(std::string* why = nullptr);

	/// Reads up to `size` bytes: returns the count (> 0), 0 at the end of the peer's stream,
	/// WouldBlock or Failed. `drained` is set when the socket is known to be empty now.
	ssize_t read(char* data, std::size_t size, bool& drained)
	{
		if (_tls) return tlsRead(data, size, drained);
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
		if (_tls) return tlsWrite(data, size);
		for (;;)
		{
			const ssize_t n = ::send(_fd, data, size, MSG_NOSIGNAL);
			if (n >= 0) return n > 0 || size == 0 ? n : WouldBlock;
			if (errno == EINTR) continue;
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? WouldBlock : Failed;
		}
	}

	/// Writes the pieces of `iov` in order, as far as the socket takes them now: as write().
	ssize_t writev(const iovec* iov, int count)
	{
		if (_tls) return tlsWritev(iov, count);
		msghdr msg{};
		msg.msg_iov = const_cast<iovec*>(iov);
		msg.msg_iovlen = static_cast<std::size_t>(count);
		for (;;)
		{
			const ssize_t n = ::sendmsg(_fd, &msg, MSG_NOSIGNAL);
			if (n > 0) return n;
			if (n == 0) return count == 0 ? 0 : WouldBlock;
			if (errno == EINTR) continue;
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? WouldBlock : Failed;
		}
	}

	/// Encrypted bytes waiting for the socket (always 0 for a plain transport).
	std::size_t backlog() const noexcept { return _tls ? tlsBacklog() : 0; }

	/// Sends what backlog() holds as far as the socket takes it. False if the connection failed.
	bool flushBacklog();

	/// Ends our side of the stream: a TLS close_notify (best effort), then the TCP FIN.
	void shutdownWrite();

	/// Reads and drops raw bytes (after our side is shut down, waiting for the peer's end):
	/// returns as read() does.
	ssize_t discard(char* buffer, std::size_t size);

	/// Frees the TLS session and closes the socket. Idempotent.
	void close();

	struct Tls;   ///< the TLS session and its encrypted backlog (Transport.cpp)

private:
	ssize_t tlsRead(char* data, std::size_t size, bool& drained);
	ssize_t tlsWrite(const char* data, std::size_t size);
	ssize_t tlsWritev(const iovec* iov, int count);
	std::size_t tlsBacklog() const noexcept;

	int _fd;
	std::unique_ptr<Tls> _tls;
};

} // namespace host
} // namespace parley

#endif
