//
// HostTestSupport.h — an in-process host on an ephemeral port with the real plugins, a raw
// WebSocket client with its own masked-frame builder and frame reader, and plain HTTP requests.
// Everything here is independent of the codec under test.
//
#ifndef PARLEY_TESTS_HOST_HOSTTESTSUPPORT_INCLUDED
#define PARLEY_TESTS_HOST_HOSTTESTSUPPORT_INCLUDED

#include "parley/PluginRegistry.h"
#include "parley/config/HostConfig.h"
#include "parley/host/HostServer.h"
#include "support/LogCapture.h"
#include "support/TestEnv.h"
#include <Poco/File.h>
#include <cppunit/TestAssert.h>
#include <cstdlib>
#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace parley {
namespace test {

/// The configuration the host tests start from: port 0, two loops, the real plugins on /ws
/// and /echo, and the test plugins on /throw (throwing) and /closer (closer, echo) when built.
inline HostConfig baseConfig()
{
	HostConfig config;
	config.address = "127.0.0.1";
	config.port = 0;
	config.adminPort = 0;
	config.routes["/ws"] = {"random-suffix"};
	config.routes["/echo"] = {"echo"};
	config.routes["/throw"] = {"throwing"};
	config.routes["/closer"] = {"closer", "echo"};
	config.engine.threads = 2;
	// The shipped development origins (python3-websocket sends Origin: http://127.0.0.1:<port>).
	config.originsSet = true;
	config.origins = OriginList::parse("http://localhost:*, http://127.0.0.1:*, https://localhost:*, https://127.0.0.1:*");
	// Tests open many connections from 127.0.0.1; the tests of these limits set them.
	config.engine.maxConnectionsPerIp = 0;
	config.engine.handshakesPerIpPerS = 0;
	return config;
}

/// A HostServer running in this process with a fresh registry and a capturing logger.
class TestHost
{
public:
	explicit TestHost(const std::function<void(HostConfig&)>& tweak = {}) : _registry(_log.logger())
	{
		_registry.loadDirectory(pluginDir());
		for (const char* name : {"throwing.so", "closer.so", "sleepy.so", "header-gate.so", "sleepy-gate.so", "throwing-gate.so"})
		{
			const std::string path = testPluginDir() + "/" + name;
			if (Poco::File(path).exists()) _registry.loadLibrary(path);
		}
		HostConfig config = baseConfig();
		if (!_registry.has("throwing")) config.routes.erase("/throw");
		if (!_registry.has("closer")) config.routes.erase("/closer");
		if (tweak) tweak(config);
		_server = std::make_unique<host::HostServer>(config, _registry, _log.logger());
		_server->start();
	}

	~TestHost()
	{
		_server.reset();
	}

	std::uint16_t port() const { return _server->port(); }
	std::uint16_t adminPort() const { return _server->adminPort(); }
	host::HostServer& server() { return *_server; }
	PluginRegistry& registry() { return _registry; }

	/// Returns how many logged lines contain all of `parts`.
	std::size_t logCount(const std::vector<std::string>& parts) const
	{
		std::size_t n = 0;
		for (const auto& line : _log.lines())
		{
			bool all = true;
			for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
			if (all) ++n;
		}
		return n;
	}

	/// Everything logged (for failure messages).
	std::string logDump() const { return _log.dump(); }

private:
	LogCapture _log;
	PluginRegistry _registry;
	std::unique_ptr<host::HostServer> _server;
};

/// Polls `condition` every 10 ms for up to 10 s; returns its last value. (Loop counters are
/// published at the end of a loop turn, so a client may see a close before its count.)
inline bool eventually(const std::function<bool()>& condition)
{
	for (int i = 0; i < 1000; ++i)
	{
		if (condition()) return true;
		::usleep(10000);
	}
	return condition();
}

/// WebSocket opcodes, as the tests write them on the wire.
enum : std::uint8_t { OpCont = 0x0, OpText = 0x1, OpBinary = 0x2, OpClose = 0x8, OpPing = 0x9, OpPong = 0xA };

/// Builds one client frame: masked with a random key unless `masked` is false; `rsv` are the
/// three reserved bits (0..7).
inline std::string frame(std::uint8_t opcode, std::string_view payload, bool fin = true, bool masked = true,
	std::uint8_t rsv = 0)
{
	static thread_local std::mt19937 random(12345);
	std::string f;
	f += static_cast<char>((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0F));
	const std::uint8_t maskBit = masked ? 0x80 : 0;
	const std::size_t n = payload.size();
	if (n < 126)
	{
		f += static_cast<char>(maskBit | n);
	}
	else if (n <= 0xFFFF)
	{
		f += static_cast<char>(maskBit | 126);
		f += static_cast<char>(n >> 8);
		f += static_cast<char>(n & 0xFF);
	}
	else
	{
		f += static_cast<char>(maskBit | 127);
		for (int i = 7; i >= 0; --i) f += static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xFF);
	}
	std::uint8_t key[4] = {0, 0, 0, 0};
	if (masked)
	{
		const std::uint32_t r = random();
		std::memcpy(key, &r, 4);
		f.append(reinterpret_cast<const char*>(key), 4);
	}
	const std::size_t start = f.size();
	f.append(payload.data(), payload.size());
	if (masked)
	{
		for (std::size_t i = 0; i < n; ++i) f[start + i] = static_cast<char>(f[start + i] ^ key[i & 3]);
	}
	return f;
}

/// A close frame with a code and reason (masked).
inline std::string closeFrame(std::uint16_t code, std::string_view reason = {})
{
	std::string payload;
	payload += static_cast<char>(code >> 8);
	payload += static_cast<char>(code & 0xFF);
	payload.append(reason.data(), reason.size());
	return frame(OpClose, payload);
}

/// One frame as the server sent it.
struct Frame
{
	std::uint8_t opcode = 0;
	bool fin = true;
	std::uint8_t rsv = 0;
	bool masked = false;
	std::string payload;

	/// The close code of a close frame (1005 if it has no payload).
	std::uint16_t closeCode() const
	{
		if (payload.size() < 2) return 1005;
		return static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]));
	}
	std::string closeReason() const { return payload.size() > 2 ? payload.substr(2) : std::string(); }
};

/// A blocking TCP connection to the host with a receive timeout (a broken host fails the test
/// instead of hanging it); startTls() makes it a TLS client (OpenSSL, the peer verified against a
/// CA file and 127.0.0.1), after which send() and the reads go through TLS.
class RawSocket
{
public:
	explicit RawSocket(std::uint16_t port, int receiveBufferSize = 0)
	{
		_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (_fd < 0) throw std::runtime_error("socket() failed");
		if (receiveBufferSize > 0) ::setsockopt(_fd, SOL_SOCKET, SO_RCVBUF, &receiveBufferSize, sizeof(receiveBufferSize));
		setTimeout(15000);
		int one = 1;
		::setsockopt(_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		sockaddr_in addr{};
		addr.sin_family = AF_INET;
		addr.sin_port = htons(port);
		addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (::connect(_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
		{
			::close(_fd);
			throw std::runtime_error(std::string("connect() failed: ") + std::strerror(errno));
		}
	}

	~RawSocket()
	{
		if (_ssl) SSL_free(_ssl);
		if (_context) SSL_CTX_free(_context);
		if (_fd >= 0) ::close(_fd);
	}

	/// Runs a TLS handshake (blocking) that trusts `caFile` and checks the certificate names
	/// 127.0.0.1. Throws std::runtime_error with OpenSSL's reason if it fails.
	void startTls(const std::string& caFile)
	{
		_context = SSL_CTX_new(TLS_client_method());
		if (!_context || SSL_CTX_load_verify_locations(_context, caFile.c_str(), nullptr) != 1)
			throw std::runtime_error("cannot load the test CA " + caFile);
		SSL_CTX_set_verify(_context, SSL_VERIFY_PEER, nullptr);
		SSL_CTX_set_options(_context, SSL_OP_IGNORE_UNEXPECTED_EOF);
		_ssl = SSL_new(_context);
		SSL_set_fd(_ssl, _fd);
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(_ssl), "127.0.0.1");
		if (SSL_connect(_ssl) != 1)
		{
			const unsigned long code = ERR_get_error();
			ERR_clear_error();
			const char* reason = code ? ERR_reason_error_string(code) : nullptr;
			throw std::runtime_error(std::string("TLS handshake failed: ") + (reason ? reason : "connection closed"));
		}
	}

	/// The serial number of the host's certificate in hex ("1092"), or "" for a plain connection.
	std::string peerSerial() const
	{
		if (!_ssl) return "";
		X509* certificate = SSL_get1_peer_certificate(_ssl);
		if (!certificate) return "";
		BIGNUM* number = ASN1_INTEGER_to_BN(X509_get_serialNumber(certificate), nullptr);
		char* hex = number ? BN_bn2hex(number) : nullptr;
		const std::string serial = hex ? hex : "";
		OPENSSL_free(hex);
		BN_free(number);
		X509_free(certificate);
		return serial;
	}

	/// The negotiated TLS version ("TLSv1.3"), or "" for a plain connection.
	std::string tlsVersion() const { return _ssl ? SSL_get_version(_ssl) : ""; }

	RawSocket(const RawSocket&) = delete;
	RawSocket& operator=(const RawSocket&) = delete;

	int fd() const { return _fd; }

	void setTimeout(int ms)
	{
		timeval tv{ms / 1000, (ms % 1000) * 1000};
		::setsockopt(_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}

	/// Writes all of `data` (one send call where the kernel allows; over TLS one record per
	/// 16 KiB).
	void send(std::string_view data)
	{
		if (_ssl)
		{
			if (!data.empty() && SSL_write(_ssl, data.data(), static_cast<int>(data.size())) != static_cast<int>(data.size()))
			{
				ERR_clear_error();
				throw std::runtime_error("SSL_write failed");
			}
			return;
		}
		std::size_t sent = 0;
		while (sent < data.size())
		{
			const ssize_t n = ::send(_fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR) continue;
			if (n <= 0) throw std::runtime_error(std::string("send() failed: ") + std::strerror(errno));
			sent += static_cast<std::size_t>(n);
		}
	}

	/// Reads exactly n bytes; throws on EOF or timeout.
	std::string readExactly(std::size_t n)
	{
		std::string out;
		while (out.size() < n)
		{
			if (!fill()) throw std::runtime_error("connection ended after " + std::to_string(out.size()) + " of " +
				std::to_string(n) + " bytes");
			const std::size_t take = std::min(n - out.size(), _buffer.size() - _pos);
			out.append(_buffer, _pos, take);
			_pos += take;
		}
		return out;
	}

	/// Reads up to and including "\r\n\r\n"; throws on EOF or timeout.
	std::string readHead()
	{
		std::string out;
		for (;;)
		{
			if (_pos == _buffer.size() && !fill()) throw std::runtime_error("connection ended in the HTTP head: " + out);
			out += _buffer[_pos++];
			if (out.size() >= 4 && out.compare(out.size() - 4, 4, "\r\n\r\n") == 0) return out;
		}
	}

	/// Reads one server frame; throws on EOF or timeout.
	Frame readFrame()
	{
		const std::string h = readExactly(2);
		Frame f;
		const auto b0 = static_cast<unsigned char>(h[0]);
		const auto b1 = static_cast<unsigned char>(h[1]);
		f.fin = (b0 & 0x80) != 0;
		f.rsv = static_cast<std::uint8_t>((b0 >> 4) & 7);
		f.opcode = b0 & 0x0F;
		f.masked = (b1 & 0x80) != 0;
		std::uint64_t len = b1 & 0x7F;
		if (len == 126)
		{
			const std::string e = readExactly(2);
			len = (static_cast<std::uint64_t>(static_cast<unsigned char>(e[0])) << 8) | static_cast<unsigned char>(e[1]);
		}
		else if (len == 127)
		{
			const std::string e = readExactly(8);
			len = 0;
			for (char c : e) len = (len << 8) | static_cast<unsigned char>(c);
		}
		std::string key;
		if (f.masked) key = readExactly(4);
		f.payload = readExactly(static_cast<std::size_t>(len));
		if (f.masked)
		{
			for (std::size_t i = 0; i < f.payload.size(); ++i) f.payload[i] = static_cast<char>(f.payload[i] ^ key[i & 3]);
		}
		return f;
	}

	/// Returns true if the peer ended the connection (EOF or reset) before the timeout with no
	/// further bytes; false if bytes arrived instead. Throws on timeout.
	bool readEof()
	{
		if (_pos < _buffer.size()) return false;
		char c;
		if (_ssl)
		{
			const int n = SSL_read(_ssl, &c, 1);
			if (n > 0)
			{
				_buffer.assign(1, c);
				_pos = 0;
				return false;
			}
			const int error = SSL_get_error(_ssl, n);
			const int savedErrno = errno;
			ERR_clear_error();
			if (error == SSL_ERROR_SYSCALL && (savedErrno == EAGAIN || savedErrno == EWOULDBLOCK))
				throw std::runtime_error("no EOF: read timed out");
			return true;
		}
		for (;;)
		{
			const ssize_t n = ::recv(_fd, &c, 1, 0);
			if (n == 0) return true;
			if (n > 0)
			{
				_buffer.assign(1, c);
				_pos = 0;
				return false;
			}
			if (errno == EINTR) continue;
			if (errno == ECONNRESET) return true;
			throw std::runtime_error(std::string("no EOF: ") + std::strerror(errno));
		}
	}

private:
	bool fill()
	{
		if (_pos < _buffer.size()) return true;
		char buf[65536];
		if (_ssl)
		{
			const int n = SSL_read(_ssl, buf, sizeof(buf));
			if (n > 0)
			{
				_buffer.assign(buf, static_cast<std::size_t>(n));
				_pos = 0;
				return true;
			}
			const int error = SSL_get_error(_ssl, n);
			const int savedErrno = errno;
			ERR_clear_error();
			if (error == SSL_ERROR_SYSCALL && (savedErrno == EAGAIN || savedErrno == EWOULDBLOCK))
				throw std::runtime_error("read timed out");
			return false;
		}
		for (;;)
		{
			const ssize_t n = ::recv(_fd, buf, sizeof(buf), 0);
			if (n > 0)
			{
				_buffer.assign(buf, static_cast<std::size_t>(n));
				_pos = 0;
				return true;
			}
			if (n < 0 && errno == EINTR) continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) throw std::runtime_error("read timed out");
			return false;
		}
	}

	int _fd = -1;
	SSL_CTX* _context = nullptr;
	SSL* _ssl = nullptr;
	std::string _buffer;
	std::size_t _pos = 0;
};

inline const char* testKey() { return "dGhlIHNhbXBsZSBub25jZQ=="; }

/// The upgrade request for `path` (the RFC 6455 sample key).
inline std::string upgradeRequest(const std::string& path, const std::string& extraHeaders = "")
{
	return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: " + std::string(testKey()) + "\r\nSec-WebSocket-Version: 13\r\n" + extraHeaders + "\r\n";
}

/// A plain GET for `path` (no upgrade).
inline std::string httpGetRequest(const std::string& path)
{
	return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

/// A WebSocket client over a RawSocket: connects and upgrades (checking 101 and the accept value).
class WsClient : public RawSocket
{
public:
	/// `tlsCa` not empty: TLS first, trusting that CA.
	explicit WsClient(std::uint16_t port, const std::string& path = "/echo", int receiveBufferSize = 0,
		const std::string& tlsCa = std::string())
		: RawSocket(port, receiveBufferSize)
	{
		if (!tlsCa.empty()) startTls(tlsCa);
		send(upgradeRequest(path));
		const std::string head = readHead();
		if (head.compare(0, 12, "HTTP/1.1 101") != 0) throw std::runtime_error("upgrade refused: " + head);
		// RFC 6455 §1.3 sample: this key gives this accept value. Header names are case-insensitive
		// (HAProxy, for one, sends them in lower case).
		std::string lower = head;
		std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
		const std::string name = "\r\nsec-websocket-accept: ";
		const std::size_t at = lower.find(name);
		if (at == std::string::npos || head.compare(at + name.size(), 30, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != 0)
			throw std::runtime_error("wrong Sec-WebSocket-Accept: " + head);
	}

	void sendText(std::string_view s) { send(frame(OpText, s)); }
	void sendBinary(std::string_view s) { send(frame(OpBinary, s)); }

	/// Reads frames until a close frame arrives (pings are skipped); returns it.
	Frame readClose()
	{
		for (;;)
		{
			Frame f = readFrame();
			if (f.opcode == OpClose) return f;
		}
	}
};

/// An HTTP answer: status code, head and body.
struct HttpAnswer
{
	int status = 0;
	std::string head;
	std::string body;

	bool hasHeader(const std::string& line) const { return head.find("\r\n" + line + "\r\n") != std::string::npos; }
};

/// Sends a raw HTTP request and reads the answer (Content-Length bodies); over TLS if `tlsCa`
/// is given.
inline HttpAnswer httpRequest(std::uint16_t port, const std::string& request, const std::string& tlsCa = std::string())
{
	RawSocket socket(port);
	if (!tlsCa.empty()) socket.startTls(tlsCa);
	socket.send(request);
	HttpAnswer answer;
	answer.head = socket.readHead();
	answer.status = std::stoi(answer.head.substr(9, 3));
	const std::size_t cl = answer.head.find("Content-Length: ");
	if (cl != std::string::npos)
	{
		const std::size_t length = std::stoul(answer.head.substr(cl + 16));
		answer.body = socket.readExactly(length);
	}
	return answer;
}

/// A GET with optional extra header lines (each ending in \r\n).
inline HttpAnswer httpGet(std::uint16_t port, const std::string& path, const std::string& headers = "")
{
	return httpRequest(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n");
}

/// Whether a program is on PATH.
inline bool onPath(const std::string& program)
{
	return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

/// The folder where Node's ws (npm ci of tests/node's pinned package-lock.json, once) and the
/// script `script` of tests/node are; fails the test if npm ci fails.
inline std::string nodeTestDir(const std::string& script)
{
	const std::string dir = std::string(PARLEY_BUILD_DIR) + "/node-tests";
	if (!Poco::File(dir + "/node_modules/ws/package.json").exists())
	{
		Poco::File(dir).createDirectories();
		for (const char* name : {"package.json", "package-lock.json"})
			Poco::File(sourceDir() + "/tests/node/" + name).copyTo(dir);
		const int rc = std::system(("cd '" + dir + "' && npm ci --no-audit --no-fund --ignore-scripts >npm.log 2>&1").c_str());
		CPPUNIT_ASSERT_MESSAGE("npm ci failed: see " + dir + "/npm.log", rc == 0);
	}
	Poco::File(sourceDir() + "/tests/node/" + script).copyTo(dir);
	return dir;
}

/// Writes `pattern` over and over (the same bytes in a 256 KiB or larger buffer) to the socket
/// without ever reading, until `maxBytes` went or the socket stayed full for `stuckMs` (the host
/// stopped reading); the socket is non-blocking meanwhile. Returns the bytes written (the last
/// copy of the pattern may be incomplete). Stops early if the host closes the connection.
inline std::size_t writeUntilStuck(RawSocket& s, const std::string& pattern, std::size_t maxBytes, int stuckMs)
{
	std::string batch;
	while (batch.size() < 256 * 1024) batch += pattern;
	const int flags = ::fcntl(s.fd(), F_GETFL, 0);
	::fcntl(s.fd(), F_SETFL, flags | O_NONBLOCK);
	std::size_t written = 0;
	int stuck = 0;
	while (written < maxBytes && stuck < stuckMs)
	{
		const std::size_t offset = written % batch.size();
		const std::size_t want = std::min(batch.size() - offset, maxBytes - written);
		const ssize_t n = ::send(s.fd(), batch.data() + offset, want, MSG_NOSIGNAL);
		if (n > 0)
		{
			written += static_cast<std::size_t>(n);
			stuck = 0;
		}
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		{
			pollfd p{s.fd(), POLLOUT, 0};
			if (::poll(&p, 1, 10) == 0) stuck += 10;
		}
		else
		{
			break; // the host closed the connection
		}
	}
	::fcntl(s.fd(), F_SETFL, flags);
	return written;
}

/// True if `reply` is `message` + " " + an integer in [0, 999999] (the random-suffix format).
inline bool isRandomSuffixReply(std::string_view reply, std::string_view message)
{
	if (reply.size() < message.size() + 2 || reply.substr(0, message.size()) != message) return false;
	if (reply[message.size()] != ' ') return false;
	const std::string_view digits = reply.substr(message.size() + 1);
	if (digits.empty() || digits.size() > 6) return false;
	for (char c : digits)
		if (c < '0' || c > '9') return false;
	return digits.size() == 1 || digits[0] != '0';
}

} // namespace test
} // namespace parley

#endif
