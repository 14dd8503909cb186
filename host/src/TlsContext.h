//
// TlsContext.h — the server's TLS settings (an OpenSSL SSL_CTX, built through Poco's
// Net::Context from the openSSL.server.* keys), shared by every event loop.
//
#ifndef PARLEY_HOST_TLSCONTEXT_INCLUDED
#define PARLEY_HOST_TLSCONTEXT_INCLUDED

#include "parley/config/HostConfig.h"
#include <Poco/Net/Context.h>
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

} // namespace host
} // namespace parley

#endif
