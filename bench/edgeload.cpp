// edgeload — the public edge of a WebSocket server under load: how fast new connections are
// accepted and upgraded (ws:// or wss://), what idle connections cost, and both of those while
// slow clients trickle their request heads. One thread, epoll, non-blocking OpenSSL.
//
//   edgeload --url wss://127.0.0.1:8443/echo --ca cert.pem --mode rate --conns 16 --duration 10
//   edgeload --url wss://127.0.0.1:8443/echo --insecure --mode idle --conns 10000 --hold 5 --pid 1234
//   ... --trickle 1000      (in either mode: 1,000 more connections that send their upgrade request
//                            one byte every 2 s and reconnect when the server drops them)
//
// rate: `conns` clients, each in a loop: connect, TLS handshake (full: no session resumption),
//   upgrade, one 32-byte message and its echo, close handshake (the server ends TCP first), for
//   `duration` seconds. Reports upgrades per second and the connect-to-echo latency.
// idle: opens `conns` connections (64 handshakes in flight), holds them `hold` seconds, then sends
//   one message on each and waits for every echo. With --pid, reads the server's RSS before and
//   while they are open (bytes per connection).
// Last line: RESULT {json}. Exit 1 if any connection failed (trickling ones excepted: the server
// is meant to drop those).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double now()
{
	return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

struct Options
{
	bool tls = false;
	std::string host = "127.0.0.1";
	int port = 0;
	std::string path = "/";
	std::string ca;
	bool insecure = false;
	std::string mode = "rate";
	int conns = 16;
	double duration = 10;
	double hold = 5;
	int concurrency = 64;
	int trickle = 0;
	int pid = 0;
};

[[noreturn]] void usage(const char* why)
{
	std::fprintf(stderr, "edgeload: %s\nusage: edgeload --url ws[s]://127.0.0.1:PORT/PATH [--ca FILE|--insecure] "
		"[--mode rate|idle] [--conns N] [--duration S] [--hold S] [--concurrency N] [--trickle N] [--pid PID]\n", why);
	std::exit(2);
}

Options parse(int argc, char** argv)
{
	Options o;
	for (int i = 1; i < argc; ++i)
	{
		const std::string a = argv[i];
		auto value = [&]() -> std::string {
			if (i + 1 >= argc) usage(("missing value for " + a).c_str());
			return argv[++i];
		};
		if (a == "--url")
		{
			std::string url = value();
			if (url.rfind("wss://", 0) == 0)
			{
				o.tls = true;
				url = url.substr(6);
			}
			else if (url.rfind("ws://", 0) == 0)
			{
				url = url.substr(5);
			}
			else
			{
				usage("the URL must be ws:// or wss://");
			}
			const std::size_t slash = url.find('/');
			const std::string authority = url.substr(0, slash);
			o.path = slash == std::string::npos ? "/" : url.substr(slash);
			const std::size_t colon = authority.rfind(':');
			if (colon == std::string::npos) usage("the URL needs a port");
			o.host = authority.substr(0, colon);
			o.port = std::atoi(authority.c_str() + colon + 1);
		}
		else if (a == "--ca") o.ca = value();
		else if (a == "--insecure") o.insecure = true;
		else if (a == "--mode") o.mode = value();
		else if (a == "--conns") o.conns = std::atoi(value().c_str());
		else if (a == "--duration") o.duration = std::atof(value().c_str());
		else if (a == "--hold") o.hold = std::atof(value().c_str());
		else if (a == "--concurrency") o.concurrency = std::atoi(value().c_str());
		else if (a == "--trickle") o.trickle = std::atoi(value().c_str());
		else if (a == "--pid") o.pid = std::atoi(value().c_str());
		else usage(("unknown option " + a).c_str());
	}
	if (o.port <= 0) usage("--url is required");
	if (o.mode != "rate" && o.mode != "idle") usage("--mode is rate or idle");
	if (o.tls && o.ca.empty() && !o.insecure) usage("wss:// needs --ca FILE or --insecure");
	return o;
}

long rssKiB(int pid)
{
	std::ifstream in("/proc/" + std::to_string(pid) + "/status");
	std::string line;
	while (std::getline(in, line))
		if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
	return -1;
}

double cpuSeconds(int pid)
{
	std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
	std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	const std::size_t close = stat.rfind(')');
	if (close == std::string::npos) return -1;
	const char* p = stat.c_str() + close + 2;
	for (int field = 3; field < 14; ++field) p = std::strchr(p, ' ') + 1;
	char* end;
	const unsigned long long utime = std::strtoull(p, &end, 10);
	const unsigned long long stime = std::strtoull(end + 1, nullptr, 10);
	return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

enum class State { Connecting, Tls, Request, Response, Idle, Echo, Closing, Trickling };

struct Conn
{
	int fd = -1;
	SSL* ssl = nullptr;
	State state = State::Connecting;
	bool trickler = false;
	std::string out;       // bytes to write
	std::size_t outPos = 0;
	std::string in;        // bytes read, not yet used
	double started = 0;    // connect time (rate: latency)
	double nextByte = 0;   // trickler: when to send the next byte
	std::size_t trickled = 0;
	std::uint32_t events = 0;
	bool eof = false;      // the server ended its stream
};

class Load
{
public:
	explicit Load(const Options& o) : _o(o), _random(12345)
	{
		_epoll = ::epoll_create1(EPOLL_CLOEXEC);
		if (_o.tls)
		{
			_context = SSL_CTX_new(TLS_client_method());
			SSL_CTX_set_min_proto_version(_context, TLS1_2_VERSION);
			SSL_CTX_set_session_cache_mode(_context, SSL_SESS_CACHE_OFF);
			SSL_CTX_set_options(_context, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
			SSL_CTX_set_mode(_context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
			if (!_o.insecure)
			{
				if (SSL_CTX_load_verify_locations(_context, _o.ca.c_str(), nullptr) != 1) usage("cannot load --ca");
				SSL_CTX_set_verify(_context, SSL_VERIFY_PEER, nullptr);
			}
		}
		_request = "GET " + _o.path + " HTTP/1.1\r\nHost: " + _o.host + ":" + std::to_string(_o.port) +
			"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Sec-WebSocket-Version: 13\r\n\r\n";
	}

	int run()
	{
		rlimit limit{};
		::getrlimit(RLIMIT_NOFILE, &limit);
		limit.rlim_cur = limit.rlim_max;
		::setrlimit(RLIMIT_NOFILE, &limit);
		const long rssBefore = _o.pid ? rssKiB(_o.pid) : -1;
		for (int i = 0; i < _o.trickle; ++i) open(true);
		if (_o.trickle)
		{
			// Let the tricklers get accepted and start before the measured part.
			const double until = now() + 1.0;
			while (now() < until) turn(50);
		}
		const double cpuStart = _o.pid ? cpuSeconds(_o.pid) : -1;
		const double start = now();
		double openAt = 0;
		long rssOpen = -1;
		if (_o.mode == "rate")
		{
			for (int i = 0; i < _o.conns; ++i) open(false);
			_stopAt = start + _o.duration;
			while (now() < _stopAt) turn(10);
			_stopping = true;
			const double drainUntil = now() + 10;
			while (_normalOpen > 0 && now() < drainUntil) turn(10);
		}
		else
		{
			const double deadline = start + 120;
			while (_upgraded < static_cast<std::uint64_t>(_o.conns) && now() < deadline && _failed == 0)
			{
				while (_normalOpen - _upgradedOpen < _o.concurrency && _opened < _o.conns) open(false);
				turn(10);
			}
			openAt = now() - start;
			const double holdUntil = now() + _o.hold;
			while (now() < holdUntil) turn(50);
			rssOpen = _o.pid ? rssKiB(_o.pid) : -1;
			for (Conn* c : _conns)
				if (!c->trickler && c->state == State::Idle) sendMessage(*c);
			const double echoStart = now();
			while (_echoed < _upgraded && now() < echoStart + 30) turn(10);
			_echoTime = now() - echoStart;
		}
		const double elapsed = now() - start;
		const double cpu = _o.pid ? cpuSeconds(_o.pid) - cpuStart : -1;
		std::sort(_latencies.begin(), _latencies.end());
		auto pct = [this](double p) {
			if (_latencies.empty()) return 0.0;
			return _latencies[std::min(_latencies.size() - 1, static_cast<std::size_t>(p * _latencies.size()))] * 1e6;
		};
		const bool ok = _failed == 0 && (_o.mode == "rate" ? _completed > 0 : _echoed == static_cast<std::uint64_t>(_o.conns));
		std::printf("RESULT {\"mode\":\"%s\",\"tls\":%s,\"conns\":%d,\"trickle\":%d,\"elapsed_s\":%.3f,"
			"\"completed\":%llu,\"per_s\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"failed\":%llu,\"first_error\":\"%s\","
			"\"trickle_dropped\":%llu,\"upgraded\":%llu,\"open_s\":%.3f,\"echo_s\":%.3f,\"rss_before_kib\":%ld,"
			"\"rss_open_kib\":%ld,\"bytes_per_conn\":%.0f,\"server_cpu_s\":%.3f,\"ok\":%s}\n",
			_o.mode.c_str(), _o.tls ? "true" : "false", _o.conns, _o.trickle, elapsed,
			static_cast<unsigned long long>(_completed), _completed / elapsed, pct(0.5), pct(0.99),
			static_cast<unsigned long long>(_failed), _firstError.c_str(), static_cast<unsigned long long>(_trickleDropped),
			static_cast<unsigned long long>(_upgraded), openAt, _echoTime, rssBefore, rssOpen,
			rssOpen > 0 && rssBefore > 0 ? (rssOpen - rssBefore) * 1024.0 / _o.conns : -1.0, cpu, ok ? "true" : "false");
		return ok ? 0 : 1;
	}

private:
	void fail(Conn& c, const std::string& why)
	{
		if (c.trickler)
		{
			++_trickleDropped;
			close(c);
			if (!_stopping) open(true);
			return;
		}
		++_failed;
		if (_firstError.empty()) _firstError = why;
		close(c);
	}

	void open(bool trickler)
	{
		auto* c = new Conn;
		c->trickler = trickler;
		c->started = now();
		c->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		const int one = 1;
		::setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		sockaddr_in addr{};
		addr.sin_family = AF_INET;
		addr.sin_port = htons(static_cast<std::uint16_t>(_o.port));
		::inet_pton(AF_INET, _o.host.c_str(), &addr.sin_addr);
		::connect(c->fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
		_conns.push_back(c);
		if (!trickler)
		{
			++_normalOpen;
			++_opened;
		}
		watch(*c, EPOLLOUT);
		if (trickler)
		{
			// Trickle the plain request head (over TLS a server drops a non-TLS byte stream at once).
			c->state = State::Trickling;
			c->nextByte = now() + std::uniform_real_distribution<double>(0, 2)(_random);
		}
	}

	void watch(Conn& c, std::uint32_t events)
	{
		if (c.events == events) return;
		epoll_event ev{};
		ev.events = events;
		ev.data.ptr = &c;
		::epoll_ctl(_epoll, c.events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c.fd, &ev);
		c.events = events;
	}

	void close(Conn& c)
	{
		if (c.fd < 0) return;
		if (c.ssl) SSL_free(c.ssl);
		c.ssl = nullptr;
		::close(c.fd);
		c.fd = -1;
		if (!c.trickler)
		{
			--_normalOpen;
			if (c.state == State::Idle || c.state == State::Echo || c.state == State::Closing) --_upgradedOpen;
		}
		_dead.push_back(&c);
	}

	void turn(int timeoutMs)
	{
		epoll_event events[512];
		const int n = ::epoll_wait(_epoll, events, 512, timeoutMs);
		for (int i = 0; i < n; ++i)
		{
			Conn& c = *static_cast<Conn*>(events[i].data.ptr);
			if (c.fd >= 0) step(c, events[i].events);
		}
		const double t = now();
		if (_o.trickle && t >= _nextTrickleScan)
		{
			_nextTrickleScan = t + 0.05;
			for (Conn* c : _conns)
			{
				if (c->fd < 0 || !c->trickler || t < c->nextByte) continue;
				const char byte = _request[c->trickled % _request.size()];
				if (::send(c->fd, &byte, 1, MSG_NOSIGNAL) == 1)
				{
					++c->trickled;
					c->nextByte = t + 2.0;
				}
				else if (errno != EAGAIN && errno != ENOTCONN)
				{
					fail(*c, "trickler dropped");
				}
			}
		}
		if (!_dead.empty())
		{
			for (Conn* d : _dead)
			{
				_conns.erase(std::find(_conns.begin(), _conns.end(), d));
				delete d;
			}
			_dead.clear();
		}
	}

	void step(Conn& c, std::uint32_t events)
	{
		if (c.trickler)
		{
			char buffer[256];
			if ((events & EPOLLOUT) && c.events != EPOLLIN) watch(c, EPOLLIN);
			if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			{
				const ssize_t n = ::recv(c.fd, buffer, sizeof(buffer), 0);
				if (n == 0 || (n < 0 && errno != EAGAIN)) fail(c, "trickler dropped");
			}
			return;
		}
		if (events & EPOLLERR)
		{
			fail(c, "socket error");
			return;
		}
		for (;;)
		{
			const State before = c.state;
			switch (c.state)
			{
			case State::Connecting:
			{
				int error = 0;
				socklen_t len = sizeof(error);
				::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &len);
				if (error != 0) return fail(c, std::string("connect: ") + std::strerror(error));
				if (_o.tls)
				{
					c.ssl = SSL_new(_context);
					SSL_set_fd(c.ssl, c.fd);
					SSL_set_tlsext_host_name(c.ssl, _o.host.c_str());
					if (!_o.insecure) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c.ssl), _o.host.c_str());
					SSL_set_connect_state(c.ssl);
					c.state = State::Tls;
				}
				else
				{
					c.state = State::Request;
				}
				c.out = _request;
				c.outPos = 0;
				break;
			}
			case State::Tls:
			{
				const int rc = SSL_do_handshake(c.ssl);
				if (rc == 1)
				{
					c.state = State::Request;
					break;
				}
				const int e = SSL_get_error(c.ssl, rc);
				if (e == SSL_ERROR_WANT_READ) return watch(c, EPOLLIN);
				if (e == SSL_ERROR_WANT_WRITE) return watch(c, EPOLLOUT);
				const unsigned long code = ERR_get_error();
				ERR_clear_error();
				return fail(c, std::string("TLS: ") + (code ? ERR_reason_error_string(code) : "handshake failed"));
			}
			case State::Request:
			case State::Echo:
			case State::Closing:
				if (c.outPos < c.out.size())
				{
					const int w = write(c);
					if (w < 0) return fail(c, "write failed");
					if (c.outPos < c.out.size()) return watch(c, EPOLLOUT);
				}
				if (c.state == State::Request) c.state = State::Response;
				if (!readSome(c)) return;
				if (c.state == State::Echo)
				{
					if (c.in.size() < 34) return watch(c, EPOLLIN);
					if (c.in.compare(2, 32, std::string(32, 'e')) != 0) return fail(c, "wrong echo");
					c.in.erase(0, 34);
					++_echoed;
					if (_o.mode == "rate")
					{
						startClose(c);
						break;
					}
					c.state = State::Idle;
					return watch(c, EPOLLIN);
				}
				if (c.state == State::Closing)
				{
					if (!c.eof) return watch(c, EPOLLIN);
					// The server's close frame came and then its end of TCP: one connection done.
					if (c.in.size() < 4 || (static_cast<unsigned char>(c.in[0]) & 0x0F) != 0x8)
						return fail(c, "no close frame before EOF");
					++_completed;
					_latencies.push_back(now() - c.started);
					close(c);
					if (!_stopping && _o.mode == "rate") open(false);
					return;
				}
				break;
			case State::Response:
			{
				if (!readSome(c)) return;
				const std::size_t end = c.in.find("\r\n\r\n");
				if (end == std::string::npos)
				{
					if (c.eof) return fail(c, "EOF in the response head");
					return watch(c, EPOLLIN);
				}
				if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) return fail(c, "refused: " + c.in.substr(0, c.in.find("\r\n")));
				c.in.erase(0, end + 4);
				++_upgraded;
				++_upgradedOpen;
				if (_o.mode == "rate")
					sendMessage(c);
				else
				{
					c.state = State::Idle;
					return watch(c, EPOLLIN);
				}
				break;
			}
			case State::Idle:
				if (!readSome(c)) return;
				if (c.eof) return fail(c, "dropped while idle");
				return watch(c, EPOLLIN);
			case State::Trickling:
				return;
			}
			if (c.fd < 0 || c.state == before) return;
		}
	}

	void sendMessage(Conn& c)
	{
		// A masked 32-byte text frame of 'e's (mask 0: the payload stays as is).
		c.out.assign("\x81\xa0\0\0\0\0", 6);
		c.out.append(32, 'e');
		c.outPos = 0;
		c.state = State::Echo;
		const int w = write(c);
		if (w < 0) return fail(c, "write failed");
		watch(c, c.outPos < c.out.size() ? EPOLLOUT : EPOLLIN);
	}

	void startClose(Conn& c)
	{
		c.out.assign("\x88\x82\0\0\0\0\x03\xe8", 8); // close 1000, masked with 0
		c.outPos = 0;
		c.state = State::Closing;
	}

	int write(Conn& c)
	{
		while (c.outPos < c.out.size())
		{
			int n;
			if (c.ssl)
			{
				n = SSL_write(c.ssl, c.out.data() + c.outPos, static_cast<int>(c.out.size() - c.outPos));
				if (n <= 0)
				{
					const int e = SSL_get_error(c.ssl, n);
					if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return 0;
					ERR_clear_error();
					return -1;
				}
			}
			else
			{
				n = static_cast<int>(::send(c.fd, c.out.data() + c.outPos, c.out.size() - c.outPos, MSG_NOSIGNAL));
				if (n < 0) return errno == EAGAIN ? 0 : -1;
			}
			c.outPos += static_cast<std::size_t>(n);
		}
		return 0;
	}

	/// Reads what is there into c.in; false if the connection failed (closed).
	bool readSome(Conn& c)
	{
		char buffer[16384];
		for (;;)
		{
			int n;
			if (c.ssl)
			{
				n = SSL_read(c.ssl, buffer, sizeof(buffer));
				if (n <= 0)
				{
					const int e = SSL_get_error(c.ssl, n);
					if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
					ERR_clear_error();
					if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL)
					{
						c.eof = true;
						return true;
					}
					fail(c, "TLS read failed");
					return false;
				}
			}
			else
			{
				n = static_cast<int>(::recv(c.fd, buffer, sizeof(buffer), 0));
				if (n == 0)
				{
					c.eof = true;
					return true;
				}
				if (n < 0)
				{
					if (errno == EAGAIN) return true;
					if (errno == ECONNRESET)
					{
						c.eof = true;
						return true;
					}
					fail(c, std::string("read: ") + std::strerror(errno));
					return false;
				}
			}
			c.in.append(buffer, static_cast<std::size_t>(n));
		}
	}

	const Options& _o;
	std::mt19937 _random;
	int _epoll = -1;
	SSL_CTX* _context = nullptr;
	std::string _request;
	std::vector<Conn*> _conns;
	std::vector<Conn*> _dead;
	std::vector<double> _latencies;
	double _stopAt = 0;
	double _nextTrickleScan = 0;
	double _echoTime = 0;
	bool _stopping = false;
	int _normalOpen = 0;
	int _upgradedOpen = 0;
	int _opened = 0;
	std::uint64_t _completed = 0;
	std::uint64_t _upgraded = 0;
	std::uint64_t _echoed = 0;
	std::uint64_t _failed = 0;
	std::uint64_t _trickleDropped = 0;
	std::string _firstError;
};

} // namespace

int main(int argc, char** argv)
{
	const Options options = parse(argc, argv);
	Load load(options);
	return load.run();
}
