//
// ClientTls.h — TLS for the client session and the load run (internal), with OpenSSL: a
// TlsContext (one SSL_CTX per run or session, built from the options) and a TlsTransport per
// connection over a non-blocking socket, whose handshake step, read, write and shutdown never
// block and say which readiness they wait for.
//
#ifndef PARLEY_CLIENT_CLIENTTLS_INCLUDED
#define PARLEY_CLIENT_CLIENTTLS_INCLUDED

#include <cstddef>
#include <cstdint>
#include <openssl/types.h>
#include <string>

namespace parley {
namespace client {

/// The TLS settings of a run or a session.
class TlsContext
{
public:
	/// Builds the context: TLS 1.2 or newer. Unless insecure, a server's certificate must chain to
	/// a system CA or to a certificate of caFile (a PEM file of CA or self-signed certificates,
	/// "" = none) and name the host of the URL. Throws std::runtime_error with one line, e.g.
	/// "cannot load CA file '/x.pem': No such file or directory".
	TlsContext(bool insecure, const std::string& caFile);
	~TlsContext();
	TlsContext(const TlsContext&) = delete;
	TlsContext& operator=(const TlsContext&) = delete;

	/// Returns the OpenSSL context.
	SSL_CTX* native() const noexcept { return _ctx; }
	/// Returns true when certificates are checked (not insecure).
	bool verifies() const noexcept { return _verify; }

private:
	SSL_CTX* _ctx = nullptr;
	bool _verify = true;
};

/// What a TLS step did.
enum class TlsStatus : std::uint8_t
{
	Ok,         ///< done: the handshake is complete, or bytes were moved
	WantRead,   ///< call again once the socket is readable
	WantWrite,  ///< call again once the socket is writable (a write: with the same bytes first)
	Closed,     ///< the peer ended the stream (close_notify, or the end of the TCP stream)
	Failed      ///< error() says why; the connection is unusable
};

/// One client TLS connection over a connected non-blocking socket that it does not own. Reads
/// and writes go through send(MSG_NOSIGNAL) and recv, so a dead peer never raises SIGPIPE.
/// Not movable: OpenSSL keeps a pointer to it.
class TlsTransport
{
public:
	/// Prepares the client side over fd: sends the host name (SNI) unless host is an IP literal,
	/// and, when the context verifies, requires the certificate to name host (DNS name or IP
	/// address). Throws std::runtime_error with one line.
	TlsTransport(const TlsContext& context, int fd, const std::string& host);
	~TlsTransport();
	TlsTransport(const TlsTransport&) = delete;
	TlsTransport& operator=(const TlsTransport&) = delete;

	/// Advances the handshake as far as the socket allows. Returns Ok once it is complete (then
	/// read at once: records may already wait inside OpenSSL), WantRead/WantWrite, Closed or
	/// Failed (error(): "certificate verify failed (self-signed certificate)", ...).
	TlsStatus handshake() noexcept;

	/// Reads at most one record's bytes into data: Ok with got > 0, WantRead (the stream is
	/// drained: with edge-triggered polling, stop only here), WantWrite, Closed or Failed.
	TlsStatus read(char* data, std::size_t size, std::size_t& got) noexcept;

	/// Writes some of data (partial writes, like send()): Ok with put > 0, WantWrite or WantRead
	/// (then call again with the same bytes first, more may follow; the buffer may move),
	/// Closed or Failed.
	TlsStatus write(const char* data, std::size_t size, std::size_t& put) noexcept;

	/// Sends close_notify once, without waiting for the peer's (only after a completed handshake
	/// and no failure; best effort).
	void shutdown() noexcept;

	/// Returns true once the handshake completed.
	bool established() const noexcept { return _established; }
	/// Returns why the last step Failed (one line, no prefix).
	const std::string& error() const noexcept { return _error; }

	/// The socket state the transport's BIO keeps (internal).
	struct SocketIo
	{
		int fd = -1;
		int lastErrno = 0;  ///< errno of the last failed send/recv
		bool eof = false;   ///< recv returned 0
	};

private:
	TlsStatus status(int result) noexcept;

	SocketIo _io;
	SSL* _ssl = nullptr;
	std::string _error;
	bool _established = false;
	bool _failed = false;
	bool _shutdownSent = false;
};

} // namespace client
} // namespace parley

#endif
