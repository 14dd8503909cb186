// fanload — a chat room under load: every client sends, every client receives every message (the
// `broadcast` plugin, or a room spread over several hosts joined by the cluster bus), and every
// reception is checked. One thread, epoll, plain sockets. For bench/cluster.sh.
//
//   fanload --targets 127.0.0.1:9001,127.0.0.1:9002 --path /chat --conns 300 --rate 1 --duration 10
//   fanload --targets 127.0.0.1:9001 --path /chat --conns 300 --window 4 --duration 10
//           [--size 32] [--settle 1] [--drain 3] [--pid host1=PID ...] [--redis 127.0.0.1:6379]
//
// Clients connect round-robin over the targets (client i to target i mod count), all to `path`,
// and wait `settle` seconds so that every host knows every member. Then, for `duration` seconds,
// each client sends text messages of `size` bytes (at least 32) whose first 32 are hex:
// sender id (8), sequence number (8), send time (16: CLOCK_MONOTONIC nanoseconds — sender and
// receivers are this one process), the rest filler.
//   --rate R   each client sends R messages per second, the first at a random point of its first
//              period (so the sends spread over the second), then every 1/R s.
//   --window W (without --rate) as fast as it goes: each client keeps at most W of its own
//              messages in flight — sent and not yet received back by itself and by one client
//              on each other target (the first: client index = target index) — so the room is
//              not flooded beyond what the hosts deliver (a host delivers its own clients at
//              once; the others must not fall behind without bound). A client whose window has
//              not moved for 2 s gives its messages up (counted as window_stalls) and sends on.
// After `duration` the clients stop sending and wait until every expected reception is in, or
// until nothing arrived for `drain` seconds.
//
// Each reception is checked per (receiver, sender): the next sequence number is expected; a gap
// remembers the missing numbers, so a later one of them is out of order and anything else below
// the expected number is a duplicate. Latency = the time the message reached the receiving
// socket (the kernel's receive timestamp, SO_TIMESTAMPNS, of the last segment of that read) -
// send time, in a log-linear histogram (<= 1.6 % error), split into receptions on the sender's
// own target (local) and on another (remote); read_* is the same up to the moment fanload read it
// (its own delay included: one thread reads the 300 sockets of a fan-out one after the other).
//
// --pid NAME=PID (repeatable): CPU seconds (utime + stime, /proc) of that process from the first
// send to the end of the drain. --redis HOST:PORT: `INFO commandstats` at the same two points;
// the calls of each command in between (fanload's own INFO excluded).
//
// Last line: RESULT {json}. Exit 1 on any duplicate, any order violation, a malformed message, a
// connection the host closed or refused; lost messages are reported, not failed (the cluster
// bus delivers at most once across hosts).
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <queue>
#include <random>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace {

std::int64_t nowNs()
{
	timespec t{};
	::clock_gettime(CLOCK_MONOTONIC, &t);
	return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

[[noreturn]] void die(const std::string& what)
{
	std::fprintf(stderr, "fanload: %s\n", what.c_str());
	std::exit(1);
}

[[noreturn]] void usage(const std::string& why)
{
	std::fprintf(stderr, "fanload: %s\nusage: fanload --targets HOST:PORT[,HOST:PORT...] [--path /chat] [--conns N] "
		"[--rate R | --window W] [--duration S] [--size B] [--settle S] [--drain S] [--pid NAME=PID ...] "
		"[--redis HOST:PORT]\n", why.c_str());
	std::exit(2);
}

struct Endpoint
{
	std::string host;
	int port = 0;
};

Endpoint endpoint(const std::string& text)
{
	const std::size_t colon = text.rfind(':');
	if (colon == std::string::npos || colon == 0) usage("not HOST:PORT: " + text);
	Endpoint e{text.substr(0, colon), std::atoi(text.c_str() + colon + 1)};
	if (e.port <= 0 || e.port > 65535) usage("bad port in " + text);
	return e;
}

struct Options
{
	std::vector<Endpoint> targets;
	std::string path = "/chat";
	int conns = 300;
	double rate = 0;  // 0: windowed, as fast as it goes
	int window = 4;
	double duration = 10;
	std::size_t size = 32;
	double settle = 1;
	double drain = 3;
	std::vector<std::pair<std::string, int>> pids;
	std::string redis;
};

Options parse(int argc, char** argv)
{
	Options o;
	for (int i = 1; i < argc; ++i)
	{
		const std::string a = argv[i];
		auto value = [&]() -> std::string {
			if (i + 1 >= argc) usage("missing value for " + a);
			return argv[++i];
		};
		if (a == "--targets")
		{
			const std::string list = value();
			std::size_t start = 0;
			while (start <= list.size())
			{
				const std::size_t comma = std::min(list.find(',', start), list.size());
				if (comma > start) o.targets.push_back(endpoint(list.substr(start, comma - start)));
				start = comma + 1;
			}
		}
		else if (a == "--path") o.path = value();
		else if (a == "--conns") o.conns = std::atoi(value().c_str());
		else if (a == "--rate") o.rate = std::atof(value().c_str());
		else if (a == "--window") o.window = std::atoi(value().c_str());
		else if (a == "--duration") o.duration = std::atof(value().c_str());
		else if (a == "--size") o.size = static_cast<std::size_t>(std::atol(value().c_str()));
		else if (a == "--settle") o.settle = std::atof(value().c_str());
		else if (a == "--drain") o.drain = std::atof(value().c_str());
		else if (a == "--pid")
		{
			const std::string v = value();
			const std::size_t eq = v.find('=');
			if (eq == std::string::npos) usage("--pid takes NAME=PID");
			o.pids.emplace_back(v.substr(0, eq), std::atoi(v.c_str() + eq + 1));
		}
		else if (a == "--redis") o.redis = value();
		else usage("unknown option " + a);
	}
	if (o.targets.empty()) usage("--targets is required");
	if (o.conns < static_cast<int>(o.targets.size())) usage("--conns must be at least the number of targets");
	if (o.rate < 0) usage("--rate must not be negative");
	if (o.rate == 0 && o.window < 1) usage("--window must be at least 1");
	if (o.size < 32 || o.size > 65535) usage("--size is 32 ... 65535");
	if (o.duration <= 0) usage("--duration must be positive");
	return o;
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

/// Busy time of the whole machine in seconds (/proc/stat: all but idle and iowait).
double machineBusySeconds()
{
	std::ifstream in("/proc/stat");
	std::string cpu;
	unsigned long long v[8] = {};
	in >> cpu;
	for (auto& x : v) in >> x;
	const unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	return static_cast<double>(busy) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// CLOCK_REALTIME - CLOCK_MONOTONIC in ns (the tightest of a few samples).
std::int64_t realtimeOffset()
{
	std::int64_t best = 0, bestWidth = INT64_MAX;
	for (int i = 0; i < 16; ++i)
	{
		timespec a{}, r{}, b{};
		::clock_gettime(CLOCK_MONOTONIC, &a);
		::clock_gettime(CLOCK_REALTIME, &r);
		::clock_gettime(CLOCK_MONOTONIC, &b);
		const std::int64_t ma = static_cast<std::int64_t>(a.tv_sec) * 1000000000 + a.tv_nsec;
		const std::int64_t mb = static_cast<std::int64_t>(b.tv_sec) * 1000000000 + b.tv_nsec;
		const std::int64_t rr = static_cast<std::int64_t>(r.tv_sec) * 1000000000 + r.tv_nsec;
		if (mb - ma < bestWidth)
		{
			bestWidth = mb - ma;
			best = rr - (ma + mb) / 2;
		}
	}
	return best;
}

double ownCpu()
{
	rusage u{};
	::getrusage(RUSAGE_SELF, &u);
	return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int connectTo(const Endpoint& e)
{
	addrinfo hints{};
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	addrinfo* found = nullptr;
	if (::getaddrinfo(e.host.c_str(), std::to_string(e.port).c_str(), &hints, &found) != 0 || !found)
		die("cannot resolve " + e.host);
	const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	const int rc = ::connect(fd, found->ai_addr, found->ai_addrlen);
	::freeaddrinfo(found);
	if (rc != 0) die("connect to " + e.host + ":" + std::to_string(e.port) + " failed: " + std::strerror(errno));
	int one = 1;
	::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/// `INFO commandstats` over RESP (blocking): calls per command.
std::map<std::string, std::uint64_t> redisCommandStats(const std::string& address)
{
	const int fd = connectTo(endpoint(address));
	const std::string request = "*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n";
	if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) die("redis: send failed");
	std::string reply;
	char buffer[16384];
	std::size_t need = std::string::npos;
	while (need == std::string::npos || reply.size() < need)
	{
		const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
		if (n <= 0) die("redis: the INFO reply ended early");
		reply.append(buffer, static_cast<std::size_t>(n));
		if (need == std::string::npos)
		{
			const std::size_t eol = reply.find("\r\n");
			if (eol == std::string::npos) continue;
			if (reply[0] != '$') die("redis: unexpected INFO reply: " + reply.substr(0, eol));
			need = eol + 2 + static_cast<std::size_t>(std::atol(reply.c_str() + 1)) + 2;
		}
	}
	::close(fd);
	std::map<std::string, std::uint64_t> calls;
	std::size_t at = 0;
	while ((at = reply.find("cmdstat_", at)) != std::string::npos)
	{
		const std::size_t colon = reply.find(':', at);
		const std::size_t c = reply.find("calls=", colon);
		if (colon == std::string::npos || c == std::string::npos) break;
		calls[reply.substr(at + 8, colon - at - 8)] = std::strtoull(reply.c_str() + c + 6, nullptr, 10);
		at = c;
	}
	return calls;
}

/// Log-linear latency histogram: 64 linear steps per power of two (<= 1.6 % error).
class Histogram
{
public:
	Histogram() : _buckets(64 + 58 * 64, 0) {}

	void add(std::int64_t ns)
	{
		if (ns < 0) ns = 0;
		const auto v = static_cast<std::uint64_t>(ns);
		++_buckets[index(v)];
		++_count;
		_max = std::max(_max, v);
	}

	void merge(const Histogram& other)
	{
		for (std::size_t i = 0; i < _buckets.size(); ++i) _buckets[i] += other._buckets[i];
		_count += other._count;
		_max = std::max(_max, other._max);
	}

	std::uint64_t count() const { return _count; }
	std::uint64_t max() const { return _max; }

	/// The value at quantile q (lower edge of its bucket, mid-step).
	double quantile(double q) const
	{
		if (_count == 0) return 0;
		const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(_count - 1)) + 1;
		std::uint64_t seen = 0;
		for (std::size_t i = 0; i < _buckets.size(); ++i)
		{
			seen += _buckets[i];
			if (seen >= rank) return std::min(value(i), static_cast<double>(_max));
		}
		return static_cast<double>(_max);
	}

private:
	static std::size_t index(std::uint64_t v)
	{
		if (v < 64) return static_cast<std::size_t>(v);
		const int e = 63 - __builtin_clzll(v);  // >= 6
		return static_cast<std::size_t>(64 + (e - 6) * 64 + static_cast<int>((v >> (e - 6)) & 63));
	}
	static double value(std::size_t i)
	{
		if (i < 64) return static_cast<double>(i);
		const std::size_t e = (i - 64) / 64 + 6, step = (i - 64) % 64;
		const double base = static_cast<double>(1ull << e), width = base / 64;
		return base + (static_cast<double>(step) + 0.5) * width;
	}

	std::vector<std::uint64_t> _buckets;
	std::uint64_t _count = 0;
	std::uint64_t _max = 0;
};

struct Conn
{
	int fd = -1;
	int target = 0;
	std::string rest;          // an incomplete frame left from the last read
	std::string out;           // bytes to write
	std::size_t outPos = 0;
	bool queuedFlush = false;
	std::uint32_t nextSeq = 0;  // own messages sent
	std::uint32_t ownAcked = 0; // own messages that reached every target (highest + 1), or given up
	std::vector<std::uint32_t> reach;  // per target: the highest own message its witness received + 1
	std::int64_t lastOwn = 0;   // when ownAcked last moved (or the window was last reset)
	std::uint8_t mask[4] = {0, 0, 0, 0};
};

const char Hex[] = "0123456789abcdef";

inline void putHex(char* at, std::uint64_t v, int digits)
{
	for (int i = digits - 1; i >= 0; --i)
	{
		at[i] = Hex[v & 15];
		v >>= 4;
	}
}

inline bool getHex(const char* at, int digits, std::uint64_t& v)
{
	v = 0;
	for (int i = 0; i < digits; ++i)
	{
		const char c = at[i];
		std::uint64_t d;
		if (c >= '0' && c <= '9') d = static_cast<std::uint64_t>(c - '0');
		else if (c >= 'a' && c <= 'f') d = static_cast<std::uint64_t>(c - 'a' + 10);
		else return false;
		v = (v << 4) | d;
	}
	return true;
}

class Load
{
public:
	explicit Load(const Options& o) : _o(o), _n(static_cast<std::size_t>(o.conns)), _expect(_n * _n, 0), _random(20261203)
	{
		_epoll = ::epoll_create1(EPOLL_CLOEXEC);
		_read.resize(1 << 20);
		_payload.assign(o.size, 'x');
	}

	int run()
	{
		rlimit limit{};
		::getrlimit(RLIMIT_NOFILE, &limit);
		limit.rlim_cur = limit.rlim_max;
		::setrlimit(RLIMIT_NOFILE, &limit);

		_conns.resize(_n);
		_realtimeOffset = realtimeOffset();
		for (std::size_t i = 0; i < _n; ++i) open(i);
		const std::int64_t settleEnd = nowNs() + static_cast<std::int64_t>(_o.settle * 1e9);
		while (nowNs() < settleEnd) poll(10);
		if (_deliveries) die("messages arrived before any was sent");

		// The measured part: from the first send to the end of the drain.
		std::vector<double> cpuBefore;
		for (const auto& p : _o.pids) cpuBefore.push_back(cpuSeconds(p.second));
		std::map<std::string, std::uint64_t> redisBefore;
		if (!_o.redis.empty()) redisBefore = redisCommandStats(_o.redis);
		const double ownBefore = ownCpu();
		const double machineBefore = machineBusySeconds();
		_sendStart = nowNs();
		_sendEnd = _sendStart + static_cast<std::int64_t>(_o.duration * 1e9);
		_sending = true;
		start();
		while (true)
		{
			const std::int64_t t = nowNs();
			if (t >= _sendEnd) break;
			int timeout = 100;
			if (_o.rate > 0 && !_timers.empty())
				timeout = static_cast<int>(std::max<std::int64_t>(0, (_timers.top().first - t + 999999) / 1000000));
			timeout = static_cast<int>(std::min<std::int64_t>(timeout, (_sendEnd - t) / 1000000 + 1));
			poll(timeout);
			if (_o.rate > 0) fireTimers();
			else unstall();
			flush();
		}
		_sending = false;
		const std::uint64_t deliveredInSend = _deliveries;
		const std::int64_t sendStop = nowNs();
		std::int64_t lastArrival = sendStop;
		std::uint64_t seen = _deliveries;
		while (uniqueDeliveries() < expected())
		{
			poll(50);
			const std::int64_t t = nowNs();
			if (_deliveries != seen)
			{
				seen = _deliveries;
				lastArrival = t;
			}
			else if (t - lastArrival > static_cast<std::int64_t>(_o.drain * 1e9)) break;
		}
		const std::int64_t drainEnd = nowNs();
		const double ownCpuS = ownCpu() - ownBefore;
		std::vector<double> cpuAfter;
		for (const auto& p : _o.pids) cpuAfter.push_back(cpuSeconds(p.second));
		// Whatever else ran meanwhile (other work on this shared machine, and some of the
		// kernel's loopback work that is charged to no process), in cores.
		double others = machineBusySeconds() - machineBefore - ownCpuS;
		for (std::size_t i = 0; i < _o.pids.size(); ++i) others -= cpuAfter[i] - cpuBefore[i];
		std::map<std::string, std::uint64_t> redisAfter;
		if (!_o.redis.empty()) redisAfter = redisCommandStats(_o.redis);
		for (auto& c : _conns) ::close(c.fd);

		Histogram all = _local;
		all.merge(_remote);
		const std::uint64_t sent = _sent, exp = expected(), unique = uniqueDeliveries();
		const std::uint64_t lost = exp > unique ? exp - unique : 0;
		const double sendSeconds = static_cast<double>(sendStop - _sendStart) / 1e9;
		std::string json = "{";
		auto field = [&](const std::string& k, const std::string& v) {
			if (json.size() > 1) json += ",";
			json += "\"" + k + "\":" + v;
		};
		auto num = [](double v) {
			char b[64];
			std::snprintf(b, sizeof(b), "%.6g", v);
			return std::string(b);
		};
		auto u64 = [](std::uint64_t v) { return std::to_string(v); };
		field("conns", u64(_n));
		field("targets", u64(_o.targets.size()));
		field("mode", _o.rate > 0 ? "\"rate\"" : "\"window\"");
		field("rate", num(_o.rate));
		field("window", u64(static_cast<std::uint64_t>(_o.rate > 0 ? 0 : _o.window)));
		field("size", u64(_o.size));
		field("duration_s", num(sendSeconds));
		field("drain_s", num(static_cast<double>(drainEnd - sendStop) / 1e9));
		field("sent", u64(sent));
		field("sent_per_s", num(static_cast<double>(sent) / sendSeconds));
		field("delivered", u64(_deliveries));
		field("expected", u64(exp));
		field("lost", u64(lost));
		field("duplicated", u64(_duplicates));
		field("out_of_order", u64(_outOfOrder));
		field("malformed", u64(_malformed));
		field("closed", u64(_closed));
		field("window_stalls", u64(_stalls));
		field("delivered_per_s", num(static_cast<double>(deliveredInSend) / sendSeconds));
		field("delivered_local", u64(_local.count()));
		field("delivered_remote", u64(_remote.count()));
		auto lat = [&](const std::string& prefix, const Histogram& h) {
			field(prefix + "p50_us", num(h.quantile(0.50) / 1e3));
			field(prefix + "p99_us", num(h.quantile(0.99) / 1e3));
			field(prefix + "max_us", num(static_cast<double>(h.max()) / 1e3));
		};
		lat("", all);
		lat("read_", _readLatency);
		lat("local_", _local);
		lat("remote_", _remote);
		field("load_cpu_s", num(ownCpuS));
		field("other_cores", num(std::max(0.0, others) / (static_cast<double>(drainEnd - _sendStart) / 1e9)));
		std::string cpu = "{";
		for (std::size_t i = 0; i < _o.pids.size(); ++i)
			cpu += (i ? ",\"" : "\"") + _o.pids[i].first + "\":" + num(cpuAfter[i] - cpuBefore[i]);
		field("cpu_s", cpu + "}");
		if (!_o.redis.empty())
		{
			std::string calls = "{";
			std::uint64_t total = 0;
			for (const auto& kv : redisAfter)
			{
				if (kv.first == "info") continue;  // ours
				const std::uint64_t before = redisBefore.count(kv.first) ? redisBefore[kv.first] : 0;
				if (kv.second == before) continue;
				total += kv.second - before;
				calls += (calls.size() > 1 ? ",\"" : "\"") + kv.first + "\":" + u64(kv.second - before);
			}
			field("redis_calls", u64(total));
			field("redis_commands", calls + "}");
		}
		json += "}";

		std::printf("sent %llu, delivered %llu of %llu expected (lost %llu, duplicated %llu, out of order %llu), "
			"%.0f deliveries/s, latency p50 %.0f us p99 %.0f us max %.0f us (local %llu, remote %llu)\n",
			static_cast<unsigned long long>(sent), static_cast<unsigned long long>(_deliveries),
			static_cast<unsigned long long>(exp), static_cast<unsigned long long>(lost),
			static_cast<unsigned long long>(_duplicates), static_cast<unsigned long long>(_outOfOrder),
			static_cast<double>(deliveredInSend) / sendSeconds, all.quantile(0.5) / 1e3, all.quantile(0.99) / 1e3,
			static_cast<double>(all.max()) / 1e3, static_cast<unsigned long long>(_local.count()),
			static_cast<unsigned long long>(_remote.count()));
		if (!_firstError.empty()) std::printf("first error: %s\n", _firstError.c_str());
		std::printf("RESULT %s\n", json.c_str());
		std::fflush(stdout);
		return (_duplicates || _outOfOrder || _malformed || _closed) ? 1 : 0;
	}

private:
	std::uint64_t expected() const { return _sent * _n; }
	std::uint64_t uniqueDeliveries() const { return _deliveries - _duplicates; }

	void error(const std::string& what)
	{
		if (_firstError.empty()) _firstError = what;
	}

	void open(std::size_t i)
	{
		Conn& c = _conns[i];
		c.target = static_cast<int>(i % _o.targets.size());
		c.reach.assign(_o.targets.size(), 0);
		const Endpoint& e = _o.targets[static_cast<std::size_t>(c.target)];
		c.fd = connectTo(e);
		const std::string request = "GET " + _o.path + " HTTP/1.1\r\nHost: " + e.host + ":" + std::to_string(e.port) +
			"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Sec-WebSocket-Version: 13\r\n\r\n";
		if (::send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) die("send failed");
		std::string head;
		char buffer[4096];
		std::size_t end;
		while ((end = head.find("\r\n\r\n")) == std::string::npos)
		{
			const ssize_t n = ::recv(c.fd, buffer, sizeof(buffer), 0);
			if (n <= 0) die("client " + std::to_string(i) + ": the connection ended in the upgrade answer");
			head.append(buffer, static_cast<std::size_t>(n));
		}
		if (head.compare(0, 12, "HTTP/1.1 101") != 0)
			die("client " + std::to_string(i) + ": upgrade refused: " + head.substr(0, head.find('\r')));
		c.rest = head.substr(end + 4);  // nothing is expected yet, but keep it
		const std::uint32_t m = static_cast<std::uint32_t>(_random());
		std::memcpy(c.mask, &m, 4);
		::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
		int one = 1;
		::setsockopt(c.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
		epoll_event ev{};
		ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
		ev.data.u64 = i;
		::epoll_ctl(_epoll, EPOLL_CTL_ADD, c.fd, &ev);
	}

	void start()
	{
		const std::int64_t t = nowNs();
		if (_o.rate > 0)
		{
			const double period = 1e9 / _o.rate;
			std::uniform_real_distribution<double> jitter(0, period);
			for (std::size_t i = 0; i < _n; ++i) _timers.emplace(_sendStart + static_cast<std::int64_t>(jitter(_random)), i);
			return;
		}
		// Windowed: every client fills its window, in an order that rotates the clients so no
		// host gets all of its senders first.
		for (int w = 0; w < _o.window; ++w)
			for (std::size_t i = 0; i < _n; ++i) queueMessage(i, t);
		for (auto& c : _conns) c.lastOwn = t;
		flush();
	}

	void fireTimers()
	{
		const double period = 1e9 / _o.rate;
		std::int64_t t = nowNs();
		while (!_timers.empty() && _timers.top().first <= t)
		{
			auto [when, i] = _timers.top();
			_timers.pop();
			queueMessage(i, t);
			// The schedule does not drift: the next send is one period after the planned one.
			const auto next = when + static_cast<std::int64_t>(period);
			if (next < _sendEnd) _timers.emplace(next, i);
			t = nowNs();
		}
	}

	void unstall()
	{
		const std::int64_t t = nowNs();
		if (t - _lastStallCheck < 100000000) return;
		_lastStallCheck = t;
		for (std::size_t i = 0; i < _n; ++i)
		{
			Conn& c = _conns[i];
			if (c.nextSeq != c.ownAcked && t - c.lastOwn > 2000000000)
			{
				++_stalls;
				c.ownAcked = c.nextSeq;
				for (auto& r : c.reach) r = std::max(r, c.nextSeq);
				c.lastOwn = t;
				while (c.nextSeq - c.ownAcked < static_cast<std::uint32_t>(_o.window)) queueMessage(i, t);
			}
		}
	}

	/// Appends one masked text frame carrying (sender, sequence number, send time).
	void queueMessage(std::size_t i, std::int64_t t)
	{
		Conn& c = _conns[i];
		putHex(&_payload[0], i, 8);
		putHex(&_payload[8], c.nextSeq, 8);
		putHex(&_payload[16], static_cast<std::uint64_t>(t), 16);
		++c.nextSeq;
		++_sent;
		const std::size_t len = _payload.size();
		std::size_t at = c.out.size();
		if (len < 126)
		{
			c.out.resize(at + 2 + 4 + len);
			c.out[at++] = static_cast<char>(0x81);
			c.out[at++] = static_cast<char>(0x80 | len);
		}
		else
		{
			c.out.resize(at + 4 + 4 + len);
			c.out[at++] = static_cast<char>(0x81);
			c.out[at++] = static_cast<char>(0x80 | 126);
			c.out[at++] = static_cast<char>(len >> 8);
			c.out[at++] = static_cast<char>(len & 0xFF);
		}
		std::memcpy(&c.out[at], c.mask, 4);
		at += 4;
		for (std::size_t k = 0; k < len; ++k) c.out[at + k] = static_cast<char>(_payload[k] ^ c.mask[k & 3]);
		if (!c.queuedFlush)
		{
			c.queuedFlush = true;
			_dirty.push_back(i);
		}
	}

	void flush()
	{
		for (const std::size_t i : _dirty)
		{
			Conn& c = _conns[i];
			c.queuedFlush = false;
			write(c);
		}
		_dirty.clear();
	}

	void write(Conn& c)
	{
		while (c.outPos < c.out.size())
		{
			const ssize_t n = ::send(c.fd, c.out.data() + c.outPos, c.out.size() - c.outPos, MSG_NOSIGNAL);
			if (n > 0)
			{
				c.outPos += static_cast<std::size_t>(n);
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // EPOLLOUT resumes
			if (n < 0 && errno == EINTR) continue;
			return;  // the read side sees the close
		}
		c.out.clear();
		c.outPos = 0;
	}

	void poll(int timeoutMs)
	{
		epoll_event events[256];
		const int n = ::epoll_wait(_epoll, events, 256, timeoutMs);
		for (int k = 0; k < n; ++k)
		{
			const std::size_t i = events[k].data.u64;
			Conn& c = _conns[i];
			if (c.fd < 0) continue;
			if (events[k].events & EPOLLOUT) write(c);
			if (events[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read(i);
		}
		flush();
	}

	void read(std::size_t i)
	{
		Conn& c = _conns[i];
		while (true)
		{
			std::size_t have = c.rest.size();
			if (have) std::memcpy(&_read[0], c.rest.data(), have);
			iovec io{&_read[have], _read.size() - have};
			alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
			msghdr m{};
			m.msg_iov = &io;
			m.msg_iovlen = 1;
			m.msg_control = control;
			m.msg_controllen = sizeof(control);
			const ssize_t n = ::recvmsg(c.fd, &m, 0);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			{
				++_closed;
				error("client " + std::to_string(i) + ": the host closed the connection" +
					(n < 0 ? std::string(": ") + std::strerror(errno) : std::string()));
				::epoll_ctl(_epoll, EPOLL_CTL_DEL, c.fd, nullptr);
				::close(c.fd);
				c.fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // keeps close() at the end harmless
				return;
			}
			if (n < 0)
			{
				if (errno == EINTR) continue;
				return;
			}
			const std::int64_t t = nowNs();
			// When the data reached the socket (the kernel's time of the last segment read,
			// CLOCK_REALTIME, moved to CLOCK_MONOTONIC): latency up to the client's socket,
			// without fanload's own delay in getting to it.
			std::int64_t arrived = t;
			for (cmsghdr* h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
			{
				if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_TIMESTAMPNS)
				{
					timespec ts;
					std::memcpy(&ts, CMSG_DATA(h), sizeof(ts));
					arrived = std::min(t, static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec - _realtimeOffset);
				}
			}
			have += static_cast<std::size_t>(n);
			const std::size_t used = frames(i, &_read[0], have, arrived, t);
			c.rest.assign(&_read[used], have - used);
			if (static_cast<std::size_t>(n) < _read.size() - (have - static_cast<std::size_t>(n))) return;  // drained
		}
	}

	/// Handles the complete frames in [data, data + size); returns the bytes used.
	std::size_t frames(std::size_t receiver, const char* data, std::size_t size, std::int64_t arrived, std::int64_t t)
	{
		std::size_t at = 0;
		while (size - at >= 2)
		{
			const auto b0 = static_cast<std::uint8_t>(data[at]);
			const auto b1 = static_cast<std::uint8_t>(data[at + 1]);
			std::size_t header = 2;
			std::uint64_t len = b1 & 0x7F;
			if (len == 126)
			{
				if (size - at < 4) break;
				len = (static_cast<std::uint64_t>(static_cast<std::uint8_t>(data[at + 2])) << 8) |
					static_cast<std::uint8_t>(data[at + 3]);
				header = 4;
			}
			else if (len == 127)
			{
				if (size - at < 10) break;
				len = 0;
				for (int k = 0; k < 8; ++k) len = (len << 8) | static_cast<std::uint8_t>(data[at + 2 + static_cast<std::size_t>(k)]);
				header = 10;
				if (len > (1u << 20)) die("a frame of " + std::to_string(len) + " bytes");
			}
			if (b1 & 0x80) header += 4;  // a server must not mask; tolerate it below as malformed
			if (size - at < header + len) break;
			const char* payload = data + at + header;
			const std::uint8_t opcode = b0 & 0x0F;
			if (opcode == 0x1 && (b0 & 0x80) && !(b1 & 0x80)) reception(receiver, payload, static_cast<std::size_t>(len), arrived, t);
			else if (opcode == 0x9)
			{
				// Ping: answer with a pong carrying the same payload (masked with a zero key).
				Conn& c = _conns[receiver];
				c.out.push_back(static_cast<char>(0x8A));
				c.out.push_back(static_cast<char>(0x80 | len));
				c.out.append(4, '\0');
				c.out.append(payload, static_cast<std::size_t>(len));
				if (!c.queuedFlush)
				{
					c.queuedFlush = true;
					_dirty.push_back(receiver);
				}
			}
			else if (opcode == 0x8)
			{
				++_closed;
				const int code = len >= 2 ? (static_cast<std::uint8_t>(payload[0]) << 8) | static_cast<std::uint8_t>(payload[1]) : 0;
				error("client " + std::to_string(receiver) + ": the host sent close " + std::to_string(code) + " " +
					std::string(payload + std::min<std::uint64_t>(len, 2), payload + len));
			}
			else if (opcode != 0xA)
			{
				++_malformed;
				error("client " + std::to_string(receiver) + ": unexpected frame, first byte " + std::to_string(b0));
			}
			at += header + static_cast<std::size_t>(len);
		}
		return at;
	}

	void reception(std::size_t receiver, const char* p, std::size_t len, std::int64_t arrived, std::int64_t t)
	{
		std::uint64_t sender, seq, sentAt;
		if (len < 32 || !getHex(p, 8, sender) || !getHex(p + 8, 8, seq) || !getHex(p + 16, 16, sentAt) || sender >= _n)
		{
			++_malformed;
			error("client " + std::to_string(receiver) + ": a message not sent by fanload: " + std::string(p, std::min<std::size_t>(len, 40)));
			return;
		}
		++_deliveries;
		const std::int64_t latency = arrived - static_cast<std::int64_t>(sentAt);
		if (_conns[receiver].target == _conns[sender].target) _local.add(latency);
		else _remote.add(latency);
		_readLatency.add(t - static_cast<std::int64_t>(sentAt));
		std::uint32_t& next = _expect[receiver * _n + sender];
		const auto s = static_cast<std::uint32_t>(seq);
		if (s == next) ++next;
		else if (s > next)
		{
			// A gap: remember what is missing, to tell a late arrival from a duplicate.
			for (std::uint32_t k = next; k < s; ++k)
				if (_missing.size() < 50000000) _missing.insert(key(receiver, sender, k));
			next = s + 1;
		}
		else if (_missing.erase(key(receiver, sender, s)))
		{
			++_outOfOrder;
			error("client " + std::to_string(receiver) + ": message " + std::to_string(s) + " of sender " +
				std::to_string(sender) + " after a later one");
		}
		else
		{
			++_duplicates;
			error("client " + std::to_string(receiver) + ": message " + std::to_string(s) + " of sender " +
				std::to_string(sender) + " twice");
		}
		// The window: a message is in flight until it reached every target — the sender itself
		// on its own, and the first client (index = target) on each other one. A host that
		// delivers its own clients at once while the others lag behind cannot run away.
		const int rt = _conns[receiver].target;
		const std::size_t witness = rt == _conns[sender].target ? sender : static_cast<std::size_t>(rt);
		if (receiver == witness && _o.rate == 0)
		{
			Conn& c = _conns[sender];
			std::uint32_t& r = c.reach[static_cast<std::size_t>(rt)];
			if (s + 1 > r && s < c.nextSeq) r = s + 1;
			const std::uint32_t acked = *std::min_element(c.reach.begin(), c.reach.end());
			if (acked > c.ownAcked)
			{
				c.ownAcked = acked;
				c.lastOwn = t;
			}
			if (_sending)
				while (c.nextSeq - c.ownAcked < static_cast<std::uint32_t>(_o.window)) queueMessage(sender, nowNs());
		}
	}

	std::uint64_t key(std::size_t receiver, std::size_t sender, std::uint32_t seq) const
	{
		return ((static_cast<std::uint64_t>(receiver) * _n + sender) << 32) | seq;
	}

	const Options& _o;
	const std::size_t _n;
	std::vector<Conn> _conns;
	std::vector<std::uint32_t> _expect;  // [receiver * n + sender]: the next sequence number
	std::unordered_set<std::uint64_t> _missing;
	std::mt19937_64 _random;
	int _epoll = -1;
	std::string _read;
	std::string _payload;
	std::vector<std::size_t> _dirty;
	std::priority_queue<std::pair<std::int64_t, std::size_t>, std::vector<std::pair<std::int64_t, std::size_t>>,
		std::greater<>> _timers;
	bool _sending = false;
	std::int64_t _sendStart = 0, _sendEnd = 0, _lastStallCheck = 0;
	std::uint64_t _sent = 0, _deliveries = 0, _duplicates = 0, _outOfOrder = 0, _malformed = 0, _closed = 0, _stalls = 0;
	Histogram _local, _remote, _readLatency;
	std::int64_t _realtimeOffset = 0;  // CLOCK_REALTIME - CLOCK_MONOTONIC, ns
	std::string _firstError;
};

} // namespace

int main(int argc, char** argv)
{
	const Options o = parse(argc, argv);
	Load load(o);
	return load.run();
}
