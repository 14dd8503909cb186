//
// TlsContext.cpp
//
#include "TlsContext.h"
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Net/SSLException.h>
#include <fstream>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>

namespace parley {
namespace host {

namespace {

void checkReadable(const std::string& key, const std::string& path)
{
	Poco::File file(path);
	if (!file.exists()) throw ConfigError(key + ": '" + path + "' does not exist");
	if (!file.isFile()) throw ConfigError(key + ": '" + path + "' is not a file");
	std::ifstream in(path);
	if (!in) throw ConfigError(key + ": '" + path + "' cannot be read");
}

std::string opensslError()
{
	const unsigned long code = ERR_get_error();
	ERR_clear_error();
	if (code == 0) return "unknown error";
	const char* reason = ERR_reason_error_string(code);
	return reason ? reason : "error " + std::to_string(code);
}

std::string describeCertificate(SSL_CTX* context)
{
	X509* certificate = SSL_CTX_get0_certificate(context);
	if (!certificate) return "no certificate";
	std::string text;
	char name[256];
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, name, sizeof(name)) > 0)
		text = std::string("CN=") + name;
	else
		text = "no common name";
	if (EVP_PKEY* key = X509_get0_pubkey(certificate))
	{
		const int bits = EVP_PKEY_get_bits(key);
		text += std::string(" (") + EVP_PKEY_get0_type_name(key) + " " + std::to_string(bits) + " bits)";
	}
	if (X509_cmp_current_time(X509_get0_notAfter(certificate)) < 0) text += ", EXPIRED";
	return text;
}

} // namespace

TlsContext::TlsContext(const TlsConfig& config)
{
	const std::string certificateKey = "openSSL.server.certificateFile";
	const std::string privateKey = "openSSL.server.privateKeyFile";
	if (config.certificateFile.empty()) throw ConfigError(certificateKey + ": server.tls = true needs a certificate (PEM file)");
	checkReadable(certificateKey, config.certificateFile);
	const std::string keyFile = config.privateKeyFile.empty() ? config.certificateFile : config.privateKeyFile;
	checkReadable(config.privateKeyFile.empty() ? certificateKey : privateKey, keyFile);

	Poco::Net::Context::Params params;
	params.verificationMode = Poco::Net::Context::VERIFY_NONE; // no client certificates
	params.loadDefaultCAs = false;
	params.cipherList = config.cipherList;
	try
	{
		_context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
	}
	catch (const Poco::Exception& e)
	{
		throw ConfigError("openSSL.server.cipherList: '" + config.cipherList + "' is not usable (" + e.displayText() + ")");
	}
	SSL_CTX* context = _context->sslContext();
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(context, config.certificateFile.c_str()) != 1)
		throw ConfigError(certificateKey + ": cannot load a PEM certificate from '" + config.certificateFile + "' (" +
			opensslError() + ")");
	if (SSL_CTX_use_PrivateKey_file(context, keyFile.c_str(), SSL_FILETYPE_PEM) != 1)
	{
		const unsigned long code = ERR_peek_error();
		if (ERR_GET_LIB(code) == ERR_LIB_X509 && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH)
			throw ConfigError(privateKey + ": the key in '" + keyFile + "' does not match the certificate in '" +
				config.certificateFile + "' (" + opensslError() + ")");
		throw ConfigError((config.privateKeyFile.empty() ? certificateKey : privateKey) + ": cannot load a PEM private key from '" +
			keyFile + "' (" + opensslError() + ")");
	}
	if (SSL_CTX_check_private_key(context) != 1)
		throw ConfigError(privateKey + ": the key in '" + keyFile + "' does not match the certificate in '" +
			config.certificateFile + "' (" + opensslError() + ")");

	if (config.requireTLSv1_2) SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
	// Non-blocking use from the loops: writes may be partial and resumed from a moved buffer;
	// idle connections give their record buffers back.
	SSL_CTX_clear_mode(context, SSL_MODE_AUTO_RETRY);
	SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	// One recv() brings as many records as fit in 64 KiB (the buffer exists only while it holds
	// bytes: RELEASE_BUFFERS).
	SSL_CTX_set_read_ahead(context, 1);
	SSL_CTX_set_default_read_buffer_len(context, 64u * 1024u);
	// A peer that ends TCP without close_notify has ended the stream (WebSocket has its own
	// close handshake); no renegotiation; no server-side session cache. Session tickets only when
	// asked for: making them costs about a fifth of a new connection's CPU (bench/edge.sh).
	SSL_CTX_set_options(context, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
	// TLS 1.3: AES-128-GCM first (a third less CPU per byte than AES-256-GCM, which OpenSSL's
	// clients ask for first), ChaCha20-Poly1305 for clients that put it first (no AES hardware).
	SSL_CTX_set_ciphersuites(context, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384");
	SSL_CTX_set_options(context, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
	SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
	if (config.sessionTickets)
	{
		SSL_CTX_clear_options(context, SSL_OP_NO_TICKET);
	}
	else
	{
		SSL_CTX_set_options(context, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(context, 0);
	}
	_description = std::string(config.requireTLSv1_2 ? "TLS 1.2 and 1.3" : "TLS") + ", certificate " +
		describeCertificate(context);
	ERR_clear_error();
}

SSL_CTX* TlsContext::get() const
{
	return _context->sslContext();
}

TlsContexts::TlsContexts(std::unique_ptr<TlsContext> first): _current(first->get())
{
	_contexts.push_back(std::move(first));
}

void TlsContexts::replace(std::unique_ptr<TlsContext> next)
{
	std::lock_guard<std::mutex> lock(_mutex);
	_current.store(next->get(), std::memory_order_release);
	_contexts.push_back(std::move(next));
	while (_contexts.size() > Kept + 1) _contexts.pop_front();
}

std::string TlsContexts::description() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _contexts.back()->description();
}

} // namespace host
} // namespace parley
