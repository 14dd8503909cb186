//
// TlsContext.h — the server's TLS settings (an OpenSSL SSL_CTX, built through Poco's
// Net::Context from the openSSL.server.* keys), shared by every event loop.
//
#ifndef PARLEY_HOST_TLSCONTEXT_INCLUDED
#define PARLEY_HOST_TLSCONTEXT_INCLUDED

#include "parley/config/HostConfig.h"
#include <Poco/Net/Context.h>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace parley {
namespace host {

class TlsContext
{
public:
	/// Loads the certificate (chain) and key and sets the protocol floor, ciphers and modes.
	/// Throws ConfigError naming the key (openSSL.server.certificateFile, .privateKeyFile,
	/// .cipherList) and the reason for a missing, unreadable, malformed or mismatched file.
	explicit TlsContext(const TlsConfig& config);

	/// The context for SSL_new (valid for this object's life; OpenSSL allows sharing it
	/// between threads).
	SSL_CTX* get() const;

	/// One line for the start-up log: "TLS 1.2+, certificate CN=... (ECDSA P-256), expires ...".
	const std::string& description() const { return _description; }

private:
	Poco::Net::Context::Ptr _context;
	std::string _description;
};

/// The TLS context in force, which SIGHUP may replace with one loaded from the (renewed)
/// certificate and key: the loops take current() for each new connection; a connection keeps the
/// context it started with (SSL_new holds a reference to it). A few replaced contexts are kept
/// alive, so that a loop that read current() just before a replacement never uses a freed one.
class TlsContexts
{
public:
	explicit TlsContexts(std::unique_ptr<TlsContext> first);

	/// The context for new connections (any thread).
	SSL_CTX* current() const noexcept { return _current.load(std::memory_order_acquire); }

	/// Makes `next` the context for new connections.
	void replace(std::unique_ptr<TlsContext> next);

	/// The description of the context in force.
	std::string description() const;

private:
	/// Replaced contexts kept (beyond them, connections hold their own reference).
	static constexpr std::size_t Kept = 4;

	mutable std::mutex _mutex;
	std::deque<std::unique_ptr<TlsContext>> _contexts; // newest last
	std::atomic<SSL_CTX*> _current;
};

} // namespace host
} // namespace parley

#endif
