//
// ClientTls.cpp
//
#include "ClientTls.h"
#include "ClientSocket.h"
#include <arpa/inet.h>
#include <cerrno>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>

namespace parley {
namespace client {

namespace {

/// The reason of OpenSSL's oldest queued error ("" if none), and empties the queue.
std::string takeErrors(unsigned long* firstCode = nullptr)
{
	const unsigned long first = ERR_get_error();
	if (firstCode)
		*firstCode = first;
	ERR_clear_error();
	if (first == 0)
		return {};
	if (const char* reason = ERR_reason_error_string(first))
		return reason;
	char buffer[256];
	ERR_error_string_n(first, buffer, sizeof(buffer));
	return buffer;
}

// --- A socket BIO that sends with MSG_NOSIGNAL ---------------------------------------------------
// OpenSSL's own socket BIO writes with write(), which raises SIGPIPE on a connection the peer
// has reset; a library must not kill its host program (parley-gui does not ignore SIGPIPE).

TlsTransport::SocketIo& socketIo(BIO* bio)
{
	return *static_cast<TlsTransport::SocketIo*>(BIO_get_data(bio));
}

int bioWrite(BIO* bio, const char* data, int size)
{
	BIO_clear_retry_flags(bio);
	TlsTransport::SocketIo& io = socketIo(bio);
	for (;;)
	{
		const ssize_t n = ::send(io.fd, data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
		if (n >= 0)
			return static_cast<int>(n);
		if (errno == EINTR)
			continue;
		io.lastErrno = errno;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_write(bio);
		return -1;
	}
}

int bioRead(BIO* bio, char* data, int size)
{
	BIO_clear_retry_flags(bio);
	TlsTransport::SocketIo& io = socketIo(bio);
	for (;;)
	{
		const ssize_t n = ::recv(io.fd, data, static_cast<std::size_t>(size), 0);
		if (n > 0)
			return static_cast<int>(n);
		if (n == 0)
		{
			io.eof = true;
			return 0;
		}
		if (errno == EINTR)
			continue;
		io.lastErrno = errno;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_read(bio);
		return -1;
	}
}

long bioCtrl(BIO* bio, int command, long, void*)
{
	switch (command)
	{
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:  // OpenSSL asks after a read of 0 bytes: the end of the TCP stream
		return socketIo(bio).eof ? 1 : 0;
	default:
		return 0;
	}
}

int bioCreate(BIO* bio)
{
	BIO_set_init(bio, 1);
	return 1;
}

int bioDestroy(BIO*)
{
	return 1;  // the socket belongs to the caller
}

BIO_METHOD* socketMethod()
{
	// Made once, kept for the life of the process.
	static BIO_METHOD* const method = [] {
		BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "parley client socket");
		if (m)
		{
			BIO_meth_set_write(m, bioWrite);
			BIO_meth_set_read(m, bioRead);
			BIO_meth_set_ctrl(m, bioCtrl);
			BIO_meth_set_create(m, bioCreate);
			BIO_meth_set_destroy(m, bioDestroy);
		}
		return m;
	}();
	return method;
}

bool isIpLiteral(const std::string& host)
{
	unsigned char address[16];
	return ::inet_pton(AF_INET, host.c_str(), address) == 1 || ::inet_pton(AF_INET6, host.c_str(), address) == 1;
}

} // namespace

// --- TlsContext -------------------------------------------------------------------------------

TlsContext::TlsContext(bool insecure, const std::string& caFile) : _verify(!insecure)
{
	ERR_clear_error();
	_ctx = SSL_CTX_new(TLS_client_method());
	if (!_ctx)
		throw std::runtime_error("cannot create a TLS context: " + takeErrors());
	SSL_CTX_set_min_proto_version(_ctx, TLS1_2_VERSION);
	// Partial writes make SSL_write behave like send(); a retried write may come from a buffer
	// that moved (the output buffer grows while a write waits).
	SSL_CTX_set_mode(_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	// A TCP end without close_notify reads as the end of the stream: WebSocket's own close
	// handshake says whether a connection ended cleanly, and many servers close without it.
	// No renegotiation: only reads ever need to read.
	SSL_CTX_set_options(_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
	// Read whole socket buffers rather than a record header and then its body: fewer recv calls.
	// Safe because every reader goes on until WantRead.
	SSL_CTX_set_read_ahead(_ctx, 1);
	static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
	SSL_CTX_set_alpn_protos(_ctx, alpn, sizeof(alpn));

	SSL_CTX_set_verify(_ctx, _verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
	if (_verify)
		SSL_CTX_set_default_verify_paths(_ctx);
	if (!caFile.empty())
	{
		struct stat info;
		std::string why;
		if (::stat(caFile.c_str(), &info) != 0)
			why = ClientSocket::errorText(errno);
		else if (!S_ISREG(info.st_mode))
			why = "not a file";
		else if (SSL_CTX_load_verify_locations(_ctx, caFile.c_str(), nullptr) != 1)
		{
			why = takeErrors();
			if (why.empty())
				why = "no certificate in it";
		}
		if (!why.empty())
		{
			SSL_CTX_free(_ctx);
			_ctx = nullptr;
			throw std::runtime_error("cannot load CA file '" + caFile + "': " + why);
		}
	}
	ERR_clear_error();
}

TlsContext::~TlsContext()
{
	SSL_CTX_free(_ctx);
}

// --- TlsTransport -----------------------------------------------------------------------------

TlsTransport::TlsTransport(const TlsContext& context, int fd, const std::string& host)
{
	_io.fd = fd;
	ERR_clear_error();
	BIO_METHOD* method = socketMethod();
	_ssl = method ? SSL_new(context.native()) : nullptr;
	BIO* bio = _ssl ? BIO_new(method) : nullptr;
	if (!bio)
	{
		SSL_free(_ssl);
		_ssl = nullptr;
		throw std::runtime_error("cannot set up TLS: " + takeErrors());
	}
	BIO_set_data(bio, &_io);
	SSL_set_bio(_ssl, bio, bio);
	SSL_set_connect_state(_ssl);
	bool ok = true;
	if (isIpLiteral(host))
	{
		if (context.verifies())
			ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(_ssl), host.c_str()) == 1;
	}
	else
	{
		ok = SSL_set_tlsext_host_name(_ssl, host.c_str()) == 1;
		if (ok && context.verifies())
		{
			SSL_set_hostflags(_ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			ok = SSL_set1_host(_ssl, host.c_str()) == 1;
		}
	}
	if (!ok)
	{
		const std::string why = takeErrors();
		SSL_free(_ssl);
		_ssl = nullptr;
		throw std::runtime_error("cannot use host '" + host + "' for TLS" + (why.empty() ? "" : ": " + why));
	}
}

TlsTransport::~TlsTransport()
{
	SSL_free(_ssl);
}

TlsStatus TlsTransport::handshake() noexcept
{
	if (_established)
		return TlsStatus::Ok;
	if (_failed)
		return TlsStatus::Failed;
	ERR_clear_error();
	_io.lastErrno = 0;
	const int r = SSL_do_handshake(_ssl);
	if (r == 1)
	{
		_established = true;
		return TlsStatus::Ok;
	}
	return status(r);
}

TlsStatus TlsTransport::read(char* data, std::size_t size, std::size_t& got) noexcept
{
	got = 0;
	ERR_clear_error();
	_io.lastErrno = 0;
	if (SSL_read_ex(_ssl, data, size, &got) == 1)
		return TlsStatus::Ok;
	return status(0);
}

TlsStatus TlsTransport::write(const char* data, std::size_t size, std::size_t& put) noexcept
{
	put = 0;
	ERR_clear_error();
	_io.lastErrno = 0;
	if (SSL_write_ex(_ssl, data, size, &put) == 1)
		return TlsStatus::Ok;
	return status(0);
}

void TlsTransport::shutdown() noexcept
{
	if (!_established || _failed || _shutdownSent)
		return;
	_shutdownSent = true;
	ERR_clear_error();
	SSL_shutdown(_ssl);
	ERR_clear_error();
}

TlsStatus TlsTransport::status(int result) noexcept
{
	const int code = SSL_get_error(_ssl, result);
	switch (code)
	{
	case SSL_ERROR_WANT_READ:
		return TlsStatus::WantRead;
	case SSL_ERROR_WANT_WRITE:
		return TlsStatus::WantWrite;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		return TlsStatus::Closed;
	default:
		break;
	}
	_failed = true;
	try
	{
		if (code == SSL_ERROR_SYSCALL)
		{
			const std::string queued = takeErrors();
			if (_io.eof && _io.lastErrno == 0 && queued.empty())
			{
				_failed = false;
				return TlsStatus::Closed;
			}
			_error = _io.lastErrno ? ClientSocket::errorText(_io.lastErrno) : queued.empty() ? "connection failed" : queued;
			return TlsStatus::Failed;
		}
		if (code != SSL_ERROR_SSL)
		{
			ERR_clear_error();
			_error = "unexpected TLS state " + std::to_string(code);
			return TlsStatus::Failed;
		}
		unsigned long first = 0;
		_error = takeErrors(&first);
		const int reason = ERR_GET_REASON(first);
		if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED)
		{
			const long verify = SSL_get_verify_result(_ssl);
			if (verify != X509_V_OK)
				_error += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
		}
		else if (!_established && (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG
									  || reason == SSL_R_UNKNOWN_PROTOCOL))
			_error += " (is the server speaking TLS on this port?)";
		if (_error.empty())
			_error = "TLS error";
	}
	catch (...)
	{
		// No memory for the message: the status says enough.
	}
	return TlsStatus::Failed;
}

} // namespace client
} // namespace parley
