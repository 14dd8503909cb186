//
// Transport.cpp
//
#include "Transport.h"
#include <climits>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

namespace parley {
namespace host {

namespace {

int clampInt(std::size_t size)
{
	return size > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(size);
}

/// The reason of the first error on this thread's OpenSSL error queue (and clears it).
std::string takeSslError()
{
	const unsigned long code = ERR_get_error();
	ERR_clear_error();
	if (code == 0) return std::string();
	const char* reason = ERR_reason_error_string(code);
	return reason ? reason : "TLS error " + std::to_string(code);
}

} // namespace

bool Transport::startTls(SSL_CTX* context)
{
	_ssl = SSL_new(context);
	if (!_ssl)
	{
		ERR_clear_error();
		return false;
	}
	if (SSL_set_fd(_ssl, _fd) != 1)
	{
		SSL_free(_ssl);
		_ssl = nullptr;
		ERR_clear_error();
		return false;
	}
	SSL_set_accept_state(_ssl);
	return true;
}

Transport::Step Transport::handshake(std::string* why)
{
	ERR_clear_error();
	const int rc = SSL_do_handshake(_ssl);
	if (rc == 1) return Step::Done;
	const int error = SSL_get_error(_ssl, rc);
	if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return Step::Pending;
	if (why)
	{
		if (error == SSL_ERROR_SYSCALL || error == SSL_ERROR_ZERO_RETURN)
		{
			const std::string reason = takeSslError();
			*why = !reason.empty() ? reason : errno != 0 ? std::string("socket error") : "peer closed the connection";
		}
		else
		{
			*why = takeSslError();
			if (why->empty()) *why = "TLS error";
		}
	}
	ERR_clear_error();
	return Step::Failed;
}

ssize_t Transport::tlsRead(char* data, std::size_t size, bool& drained)
{
	if (_pendingEnd != 1)
	{
		drained = true;
		return _pendingEnd == 0 ? 0 : Failed;
	}
	std::size_t got = 0;
	drained = false;
	while (got < size)
	{
		const int n = SSL_read(_ssl, data + got, clampInt(size - got));
		if (n > 0)
		{
			got += static_cast<std::size_t>(n);
			continue;
		}
		const int error = SSL_get_error(_ssl, n);
		if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE)
		{
			// Empty for now (a WANT_WRITE, e.g. a key update answer, is retried on the next event).
			drained = true;
			break;
		}
		ERR_clear_error();
		const signed char end = error == SSL_ERROR_ZERO_RETURN ? 0 : -1;
		drained = true;
		if (got == 0) return end == 0 ? 0 : Failed;
		_pendingEnd = end; // hand out the bytes first, the end with the next call
		break;
	}
	if (got == 0) return WouldBlock;
	return static_cast<ssize_t>(got);
}

ssize_t Transport::tlsWrite(const char* data, std::size_t size)
{
	// With partial writes OpenSSL returns after each record it wrote: keep going until the
	// socket is full, so that a short count means the same as for a plain socket.
	std::size_t sent = 0;
	while (sent < size)
	{
		const int n = SSL_write(_ssl, data + sent, clampInt(size - sent));
		if (n > 0)
		{
			sent += static_cast<std::size_t>(n);
			continue;
		}
		const int error = SSL_get_error(_ssl, n);
		if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) break;
		ERR_clear_error();
		return sent != 0 ? static_cast<ssize_t>(sent) : Failed;
	}
	if (sent == 0 && size != 0) return WouldBlock;
	return static_cast<ssize_t>(sent);
}

void Transport::shutdownWrite()
{
	if (_fd < 0) return;
	if (_ssl)
	{
		// Our close_notify; the peer's is not awaited (the loop reads on to the TCP end).
		SSL_shutdown(_ssl);
		ERR_clear_error();
	}
	::shutdown(_fd, SHUT_WR);
}

ssize_t Transport::discard(char* buffer, std::size_t size)
{
	for (;;)
	{
		const ssize_t n = ::recv(_fd, buffer, size, 0);
		if (n >= 0) return n;
		if (errno == EINTR) continue;
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? WouldBlock : Failed;
	}
}

void Transport::close()
{
	if (_ssl)
	{
		SSL_free(_ssl);
		_ssl = nullptr;
	}
	if (_fd >= 0)
	{
		::close(_fd);
		_fd = -1;
	}
}

} // namespace host
} // namespace parley
