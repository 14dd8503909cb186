//
// Transport.cpp
//
#include "Transport.h"
#include <algorithm>
#include <climits>
#include <cstring>
#include <mutex>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

namespace parley {
namespace host {

/// One TLS session: OpenSSL's state, and the encrypted bytes the socket has not taken yet.
struct Transport::Tls
{
	SSL* ssl = nullptr;
	int fd = -1;
	std::string backlog;          ///< encrypted bytes waiting for the socket
	std::size_t backlogPos = 0;   ///< bytes of `backlog` already sent
	std::string* out = nullptr;   ///< where the BIO puts records now (backlog, or the loop's scratch)
	/// The end of the stream (0) or a failure (-1) seen while returning earlier bytes; 1 = none.
	signed char pendingEnd = 1;
	/// The BIO's last recv() returned less than asked for: the socket is empty.
	bool shortRead = false;

	~Tls()
	{
		if (ssl) SSL_free(ssl); // frees the BIO too
	}
};

namespace {

/// Plaintext encrypted per step of write(): bounds what can wait in a connection's backlog.
constexpr std::size_t WriteStep = 256u * 1024u;

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

/// Records written while a write() runs go to this thread's scratch buffer (one per loop), so a
/// connection whose socket takes everything keeps no buffer of its own.
std::string& scratch()
{
	static thread_local std::string buffer;
	return buffer;
}

// The BIO between OpenSSL and the socket: reads are recv(), writes append to Tls::out.
int bioWrite(BIO* bio, const char* data, size_t size, size_t* written)
{
	auto* tls = static_cast<Transport::Tls*>(BIO_get_data(bio));
	BIO_clear_retry_flags(bio);
	tls->out->append(data, size);
	*written = size;
	return 1;
}

int bioRead(BIO* bio, char* data, size_t size, size_t* got)
{
	auto* tls = static_cast<Transport::Tls*>(BIO_get_data(bio));
	BIO_clear_retry_flags(bio);
	for (;;)
	{
		const ssize_t n = ::recv(tls->fd, data, size, 0);
		if (n > 0)
		{
			*got = static_cast<std::size_t>(n);
			tls->shortRead = static_cast<std::size_t>(n) < size;
			return 1;
		}
		if (n == 0)
		{
			*got = 0;
			return 0; // end of stream
		}
		if (errno == EINTR) continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(bio);
		return -1;
	}
}

long bioCtrl(BIO*, int command, long, void*)
{
	switch (command)
	{
	case BIO_CTRL_FLUSH:
		return 1; // the transport sends the records itself, after the SSL call
	default:
		return 0; // no pending counts, no kTLS, no push/pop
	}
}

int bioCreate(BIO* bio)
{
	BIO_set_init(bio, 1);
	return 1;
}

BIO_METHOD* bioMethod()
{
	static BIO_METHOD* method = nullptr;
	static std::once_flag once;
	std::call_once(once, [] {
		method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "parley transport");
		BIO_meth_set_write_ex(method, bioWrite);
		BIO_meth_set_read_ex(method, bioRead);
		BIO_meth_set_ctrl(method, bioCtrl);
		BIO_meth_set_create(method, bioCreate);
	});
	return method;
}

/// Sends tls.backlog from backlogPos; releases it when all is sent. True unless the socket failed.
bool sendBacklog(Transport::Tls& tls)
{
	while (tls.backlogPos < tls.backlog.size())
	{
		const ssize_t n = ::send(tls.fd, tls.backlog.data() + tls.backlogPos, tls.backlog.size() - tls.backlogPos, MSG_NOSIGNAL);
		if (n > 0)
		{
			tls.backlogPos += static_cast<std::size_t>(n);
			continue;
		}
		if (n < 0 && errno == EINTR) continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
		return false;
	}
	std::string().swap(tls.backlog); // an idle connection holds no buffer
	tls.backlogPos = 0;
	return true;
}

} // namespace

Transport::Transport(int fd) noexcept: _fd(fd)
{
}

Transport::~Transport()
{
	close();
}

bool Transport::startTls(SSL_CTX* context)
{
	auto tls = std::make_unique<Tls>();
	tls->fd = _fd;
	tls->out = &tls->backlog;
	tls->ssl = SSL_new(context);
	BIO* bio = tls->ssl ? BIO_new(bioMethod()) : nullptr;
	if (!bio)
	{
		ERR_clear_error();
		return false;
	}
	BIO_set_data(bio, tls.get());
	SSL_set_bio(tls->ssl, bio, bio);
	SSL_set_accept_state(tls->ssl);
	_tls = std::move(tls);
	return true;
}

std::size_t Transport::tlsBacklog() const noexcept
{
	return _tls->backlog.size() - _tls->backlogPos;
}

bool Transport::flushBacklog()
{
	return !_tls || sendBacklog(*_tls);
}

Transport::Step Transport::handshake(std::string* why)
{
	Tls& tls = *_tls;
	if (!sendBacklog(tls))
	{
		if (why) *why = "socket error";
		return Step::Failed;
	}
	if (tlsBacklog() != 0) return Step::Pending; // our last flight is still going out
	ERR_clear_error();
	const int rc = SSL_do_handshake(tls.ssl);
	const int error = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(tls.ssl, rc);
	// The flight OpenSSL just wrote (ServerHello ... Finished) leaves now.
	if (!sendBacklog(tls))
	{
		if (why) *why = "socket error";
		return Step::Failed;
	}
	if (rc == 1) return Step::Done;
	if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return Step::Pending;
	if (why)
	{
		*why = takeSslError();
		if (why->empty()) *why = error == SSL_ERROR_SYSCALL || error == SSL_ERROR_ZERO_RETURN ? "peer closed the connection" : "TLS error";
	}
	ERR_clear_error();
	return Step::Failed;
}

ssize_t Transport::tlsRead(char* data, std::size_t size, bool& drained)
{
	Tls& tls = *_tls;
	if (tls.pendingEnd != 1)
	{
		drained = true;
		return tls.pendingEnd == 0 ? 0 : Failed;
	}
	std::size_t got = 0;
	drained = false;
	while (got < size)
	{
		tls.shortRead = false;
		const int n = SSL_read(tls.ssl, data + got, clampInt(size - got));
		if (n > 0)
		{
			got += static_cast<std::size_t>(n);
			// A short recv() emptied the socket: unless OpenSSL holds more, another SSL_read
			// would only find EAGAIN (the next bytes bring a new edge).
			if (tls.shortRead && !SSL_has_pending(tls.ssl))
			{
				drained = true;
				break;
			}
			continue;
		}
		const int error = SSL_get_error(tls.ssl, n);
		if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE)
		{
			drained = true; // the socket is empty for now
			break;
		}
		ERR_clear_error();
		const signed char end = error == SSL_ERROR_ZERO_RETURN ? 0 : -1;
		drained = true;
		if (got == 0) return end == 0 ? 0 : Failed;
		tls.pendingEnd = end; // hand out the bytes first, the end with the next call
		break;
	}
	// Reading may have made OpenSSL write (a key update answer): send it along.
	if (tlsBacklog() != 0 && !sendBacklog(tls)) return got != 0 ? static_cast<ssize_t>(got) : Failed;
	if (got == 0) return WouldBlock;
	return static_cast<ssize_t>(got);
}

ssize_t Transport::tlsWrite(const char* data, std::size_t size)
{
	iovec one{const_cast<char*>(data), size};
	return tlsWritev(&one, 1);
}

ssize_t Transport::tlsWritev(const iovec* iov, int count)
{
	Tls& tls = *_tls;
	if (!sendBacklog(tls)) return Failed;
	std::size_t size = 0;
	for (int i = 0; i < count; ++i) size += iov[i].iov_len;
	std::size_t taken = 0;
	int piece = 0;                 // the iovec being encrypted
	std::size_t pieceDone = 0;     // bytes of it already taken
	std::string& records = scratch();
	while (taken < size && tlsBacklog() == 0)
	{
		// Encrypt a step (across iovecs) into the loop's scratch buffer, send it with one send();
		// what the socket does not take becomes the backlog.
		const std::size_t step = size - taken < WriteStep ? size - taken : WriteStep;
		records.clear();
		tls.out = &records;
		std::size_t done = 0;
		int error = SSL_ERROR_NONE;
		while (done < step)
		{
			while (pieceDone == iov[piece].iov_len)
			{
				++piece;
				pieceDone = 0;
			}
			const std::size_t want = std::min(step - done, iov[piece].iov_len - pieceDone);
			const int n = SSL_write(tls.ssl, static_cast<const char*>(iov[piece].iov_base) + pieceDone, clampInt(want));
			if (n <= 0)
			{
				error = SSL_get_error(tls.ssl, n);
				ERR_clear_error();
				break;
			}
			done += static_cast<std::size_t>(n);
			pieceDone += static_cast<std::size_t>(n);
		}
		tls.out = &tls.backlog;
		if (error != SSL_ERROR_NONE && error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE && done == 0)
			return taken != 0 ? static_cast<ssize_t>(taken) : Failed;
		taken += done;
		std::size_t sent = 0;
		while (sent < records.size())
		{
			const ssize_t n = ::send(_fd, records.data() + sent, records.size() - sent, MSG_NOSIGNAL);
			if (n > 0)
			{
				sent += static_cast<std::size_t>(n);
				continue;
			}
			if (n < 0 && errno == EINTR) continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
			return Failed;
		}
		if (sent < records.size()) tls.backlog.assign(records, sent, std::string::npos);
		if (records.capacity() > 4 * WriteStep) std::string().swap(records);
		if (done < step) break; // OpenSSL refused the rest (it wants to read first)
	}
	if (taken == 0 && size != 0) return WouldBlock;
	return static_cast<ssize_t>(taken);
}

void Transport::shutdownWrite()
{
	if (_fd < 0) return;
	if (_tls)
	{
		// Our close_notify (best effort); the peer's is not awaited (the loop reads on to the TCP end).
		SSL_shutdown(_tls->ssl);
		ERR_clear_error();
		sendBacklog(*_tls);
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
	_tls.reset();
	if (_fd >= 0)
	{
		::close(_fd);
		_fd = -1;
	}
}

} // namespace host
} // namespace parley
