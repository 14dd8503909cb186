// zload — echo load with or without permessage-deflate (RFC 7692), for bench/deflate.sh. The kit's
// wsload speaks no deflate; this one does, through Parley's own codec (core/codec: the same
// MessageDeflater/MessageInflater and negotiation the host uses, each tested against RFC 7692's
// bytes). One thread, epoll.
//
//   zload --port P --path /echo --conns 100 --window 10 --size 1024 --kind json --deflate
//         [--client-takeover] [--server-takeover] [--level 1] --duration 5 --pid HOSTPID
//   zload --port P --path /echo --idle 2000 --deflate --pid HOSTPID   (memory per idle connection)
//
// load: `conns` connections keep `window` echo messages in flight each for `duration` seconds.
//   Messages come from a pool (96 KiB of them, 16 at least) per kind (json: JSON-like text that compresses ~10x; random:
//   incompressible bytes), each starting with its index. Every reply is checked: inflated and
//   compared with what was sent. Without client context takeover a pool message always
//   compresses to the same bytes, so they are compressed once; without server context takeover
//   the host's reply to a pool message is always the same bytes, so each is inflated and checked
//   once and later replies are compared byte for byte (that keeps the load's own CPU small).
// idle: opens `idle` connections, each exchanges one message (so any lazy state exists), then
//   reads the host's RSS: bytes per connection against the RSS before connecting.
// Last line: RESULT {json}. Exit 1 on any failure (wrong reply, refused upgrade, no deflate when
// asked for, a close from the host).
#include "parley/codec/Deflate.h"
#include "parley/codec/DeflateNegotiation.h"
#include "parley/codec/FrameEncoder.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using parley::codec::DeflateClientConfig;
using parley::codec::DeflateNegotiation;
using parley::codec::DeflateParams;
using parley::codec::FrameEncoder;
using parley::codec::MessageDeflater;
using parley::codec::MessageInflater;
using parley::codec::Opcode;

double now()
{
	return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

[[noreturn]] void die(const std::string& what)
{
	std::fprintf(stderr, "zload: %s\n", what.c_str());
	std::exit(1);
}

struct Options
{
	int port = 0;
	std::string path = "/echo";
	int conns = 100;
	int window = 10;
	std::size_t size = 1024;
	std::string kind = "json";
	bool deflate = false;
	bool clientTakeover = false;
	bool serverTakeover = false;
	int level = 1;
	double duration = 5;
	int pid = 0;
	int idle = 0;
};

/// Messages come from a pool this large: with 1 KiB messages 96 KiB of them, three times a
/// 32 KiB window, so a compressor that keeps its context never finds a whole earlier message
/// (a pool that fits the window would flatter context takeover).
int poolSize(std::size_t size)
{
	return static_cast<int>(std::max<std::size_t>(16, (96u * 1024u + size - 1) / size));
}

std::string poolMessage(const std::string& kind, std::size_t size, int index)
{
	std::string s = std::to_string(index) + ":";
	if (kind == "random")
	{
		std::mt19937 rng(static_cast<unsigned>(index) * 7919u + 1);
		while (s.size() < size) s += static_cast<char>(rng() & 0xFF);
	}
	else
	{
		std::mt19937 rng(static_cast<unsigned>(index) + 1);
		static const char* names[] = {"alice", "bob", "carol", "dave", "erin", "frank"};
		s += "[";
		while (s.size() < size)
		{
			s += "{\"id\":" + std::to_string(rng() % 100000) + ",\"user\":\"" + names[rng() % 6] +
				"\",\"text\":\"hello parley\",\"score\":" + std::to_string(rng() % 1000) + ",\"ok\":true},";
		}
	}
	s.resize(size);
	return s;
}

long rssBytes(int pid)
{
	std::ifstream in("/proc/" + std::to_string(pid) + "/statm");
	long pages = 0, resident = 0;
	in >> pages >> resident;
	return resident * sysconf(_SC_PAGESIZE);
}

double cpuSeconds(int pid)
{
	std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
	std::string line;
	std::getline(in, line);
	const std::size_t close = line.rfind(')');
	if (close == std::string::npos) return 0;
	std::vector<std::string> fields;
	std::string field;
	for (std::size_t i = close + 2; i <= line.size(); ++i)
	{
		if (i == line.size() || line[i] == ' ')
		{
			fields.push_back(field);
			field.clear();
		}
		else
			field += line[i];
	}
	// Fields after the command: state is [0]; utime [11], stime [12].
	if (fields.size() < 13) return 0;
	return (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double ownCpu()
{
	rusage u{};
	getrusage(RUSAGE_SELF, &u);
	return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Conn
{
	int fd = -1;
	DeflateParams params;
	bool deflate = false;
	std::unique_ptr<MessageDeflater> deflater;  // client context takeover
	std::unique_ptr<MessageInflater> inflater;  // server context takeover
	std::string in;
	std::size_t inPos = 0;
	std::string out;
	std::uint64_t sent = 0;      // messages sent
	std::uint64_t received = 0;  // replies checked
	std::uint8_t mask[4] = {1, 2, 3, 4};
};

struct Totals
{
	std::uint64_t messages = 0, wireOut = 0, wireIn = 0, payload = 0, compressedReplies = 0;
};

class Load
{
public:
	explicit Load(const Options& o) : _o(o)
	{
		_poolSize = poolSize(o.size);
		for (int i = 0; i < _poolSize; ++i) _pool.push_back(poolMessage(o.kind, o.size, i));
		_offer.level = o.level;
		_offer.clientNoContextTakeover = !o.clientTakeover;
		_offer.serverNoContextTakeover = !o.serverTakeover;
		_offer.offerClientMaxWindowBits = true;
		_shared = std::make_unique<MessageDeflater>(MessageDeflater::Settings{o.level, 15, 8, false});
		_sharedInflater = std::make_unique<MessageInflater>(MessageInflater::Settings{15, false});
		_compressedPool.resize(static_cast<std::size_t>(_poolSize));
		_replyPool.resize(static_cast<std::size_t>(_poolSize));
	}

	/// Connects and upgrades one connection (blocking), then makes it non-blocking.
	Conn open()
	{
		Conn c;
		c.fd = ::socket(AF_INET, SOCK_STREAM, 0);
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_port = htons(static_cast<std::uint16_t>(_o.port));
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (::connect(c.fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) die("connect failed: " + std::string(std::strerror(errno)));
		int one = 1;
		::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		std::string request = "GET " + _o.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
		if (_o.deflate) request += "Sec-WebSocket-Extensions: " + DeflateNegotiation::clientOffer(_offer) + "\r\n";
		request += "\r\n";
		if (::send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) die("send failed");
		std::string head;
		char ch;
		while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0)
		{
			if (::recv(c.fd, &ch, 1, 0) != 1) die("connection ended in the upgrade answer");
			head += ch;
		}
		if (head.compare(0, 12, "HTTP/1.1 101") != 0) die("upgrade refused: " + head.substr(0, head.find('\r')));
		std::string extensions;
		const std::size_t at = head.find("\r\nSec-WebSocket-Extensions: ");
		if (at != std::string::npos)
		{
			const std::size_t start = at + 28;
			extensions = head.substr(start, head.find("\r\n", start) - start);
		}
		if (_o.deflate)
		{
			std::string why;
			if (!DeflateNegotiation::acceptServerResponse(extensions, _offer, c.params, &why))
				die("permessage-deflate was not negotiated: " + (why.empty() ? std::string("declined") : why));
			c.deflate = true;
			if (!c.params.clientNoContextTakeover)
				c.deflater = std::make_unique<MessageDeflater>(
					MessageDeflater::Settings{_o.level, std::max(9, c.params.clientMaxWindowBits), 8, true});
			if (!c.params.serverNoContextTakeover)
				c.inflater = std::make_unique<MessageInflater>(MessageInflater::Settings{c.params.serverMaxWindowBits, true});
			_extensions = extensions;
		}
		else if (!extensions.empty())
			die("the host negotiated an extension that was not offered: " + extensions);
		std::mt19937 rng(static_cast<unsigned>(c.fd) * 2654435761u);
		for (auto& m : c.mask) m = static_cast<std::uint8_t>(rng());
		return c;
	}

	/// Queues the next message of `c`.
	void queue(Conn& c)
	{
		const int index = static_cast<int>(c.sent % static_cast<std::uint64_t>(_poolSize));
		const std::string& message = _pool[static_cast<std::size_t>(index)];
		const std::string* payload = &message;
		Opcode op = _o.kind == "random" ? Opcode::Binary : Opcode::Text;
		std::string scratch;
		if (c.deflate)
		{
			if (c.deflater)
			{
				if (!c.deflater->compress(message, scratch)) die("compress failed");
				payload = &scratch;
			}
			else
			{
				std::string& cached = _compressedPool[static_cast<std::size_t>(index)];
				if (cached.empty() && !_shared->compress(message, cached)) die("compress failed");
				payload = &cached;
			}
			op = FrameEncoder::compressed(op);
		}
		const std::size_t start = c.out.size();
		c.out.resize(start + FrameEncoder::MaxHeaderSize + payload->size());
		const std::size_t header = FrameEncoder::writeHeader(&c.out[start], op, true, payload->size(), c.mask);
		char* p = &c.out[start + header];
		std::memcpy(p, payload->data(), payload->size());
		FrameEncoder::applyMask(p, payload->size(), c.mask);
		c.out.resize(start + header + payload->size());
		_t.wireOut += payload->size();
		++c.sent;
	}

	bool flush(Conn& c)
	{
		std::size_t done = 0;
		while (done < c.out.size())
		{
			const ssize_t n = ::send(c.fd, c.out.data() + done, c.out.size() - done, MSG_NOSIGNAL);
			if (n > 0) done += static_cast<std::size_t>(n);
			else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
			else die("send failed");
		}
		c.out.erase(0, done);
		return c.out.empty();
	}

	/// Parses the replies read so far; returns how many were checked.
	int parse(Conn& c)
	{
		int got = 0;
		for (;;)
		{
			const std::size_t have = c.in.size() - c.inPos;
			if (have < 2) break;
			const auto* h = reinterpret_cast<const unsigned char*>(c.in.data() + c.inPos);
			std::uint64_t len = h[1] & 0x7F;
			std::size_t header = 2;
			if (len == 126)
			{
				if (have < 4) break;
				len = (std::uint64_t(h[2]) << 8) | h[3];
				header = 4;
			}
			else if (len == 127)
			{
				if (have < 10) break;
				len = 0;
				for (int i = 2; i < 10; ++i) len = (len << 8) | h[i];
				header = 10;
			}
			if (have < header + len) break;
			const unsigned op = h[0] & 0x0F;
			const bool rsv1 = (h[0] & 0x40) != 0;
			if (!(h[0] & 0x80)) die("a fragmented reply (not expected from an echo of small messages)");
			const std::string_view payload(c.in.data() + c.inPos + header, static_cast<std::size_t>(len));
			c.inPos += header + static_cast<std::size_t>(len);
			if (op == 0x8)
			{
				const unsigned code = payload.size() >= 2 ? (unsigned(static_cast<unsigned char>(payload[0])) << 8) |
					static_cast<unsigned char>(payload[1]) : 1005;
				die("the host closed a connection with " + std::to_string(code) + ": " +
					std::string(payload.size() > 2 ? payload.substr(2) : std::string_view()));
			}
			if (op == 0x9 || op == 0xA) continue;
			check(c, payload, rsv1);
			++got;
		}
		if (c.inPos == c.in.size())
		{
			c.in.clear();
			c.inPos = 0;
		}
		else if (c.inPos > (1u << 20))
		{
			c.in.erase(0, c.inPos);
			c.inPos = 0;
		}
		return got;
	}

	void check(Conn& c, std::string_view payload, bool rsv1)
	{
		const std::size_t index = static_cast<std::size_t>(c.received % static_cast<std::uint64_t>(_poolSize));
		const std::string& expected = _pool[index];
		_t.wireIn += payload.size();
		++c.received;
		++_t.messages;
		_t.payload += expected.size();
		if (!rsv1)
		{
			if (payload != expected) die("wrong reply (uncompressed) on message " + std::to_string(c.received));
			return;
		}
		if (!c.deflate) die("a compressed reply without permessage-deflate");
		++_t.compressedReplies;
		if (!c.inflater)
		{
			// The host compresses each message on its own: the same message, the same bytes.
			std::string& known = _replyPool[index];
			if (!known.empty() && payload == known) return;
			inflateAndCompare(*_sharedInflater, payload, expected, c.received);
			if (known.empty()) known.assign(payload.data(), payload.size());
			return;
		}
		inflateAndCompare(*c.inflater, payload, expected, c.received);
	}

	void inflateAndCompare(MessageInflater& inflater, std::string_view payload, const std::string& expected, std::uint64_t n)
	{
		_plain.clear();
		MessageInflater::Error error = MessageInflater::Error::None;
		if (!inflater.feed(payload, _plain, 1u << 30, error) || !inflater.finish(_plain, 1u << 30, error))
			die("a reply does not inflate (message " + std::to_string(n) + ")");
		if (_plain != expected) die("wrong reply (inflated) on message " + std::to_string(n));
	}

	int runLoad()
	{
		std::vector<Conn> conns;
		for (int i = 0; i < _o.conns; ++i) conns.push_back(open());
		const int ep = epoll_create1(0);
		for (std::size_t i = 0; i < conns.size(); ++i)
		{
			Conn& c = conns[i];
			setNonBlocking(c);
			epoll_event e{};
			e.events = EPOLLIN | EPOLLOUT | EPOLLET;
			e.data.u64 = i;
			epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &e);
		}
		const double cpu0 = _o.pid ? cpuSeconds(_o.pid) : 0;
		const double own0 = ownCpu();
		const double t0 = now();
		const double end = t0 + _o.duration;
		for (Conn& c : conns)
		{
			for (int k = 0; k < _o.window; ++k) queue(c);
			flush(c);
		}
		std::vector<epoll_event> events(256);
		std::vector<char> buffer(1u << 20);
		bool sending = true;
		double lastReply = now();
		for (;;)
		{
			std::uint64_t outstanding = 0;
			for (const Conn& c : conns) outstanding += c.sent - c.received;
			if (!sending && outstanding == 0) break;
			if (now() - lastReply > 10) die("no reply for 10 s");
			const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
			for (int k = 0; k < n; ++k)
			{
				Conn& c = conns[events[static_cast<std::size_t>(k)].data.u64];
				if (events[static_cast<std::size_t>(k)].events & EPOLLOUT) flush(c);
				if (!(events[static_cast<std::size_t>(k)].events & EPOLLIN)) continue;
				for (;;)
				{
					const ssize_t r = ::recv(c.fd, buffer.data(), buffer.size(), 0);
					if (r > 0)
					{
						c.in.append(buffer.data(), static_cast<std::size_t>(r));
						if (static_cast<std::size_t>(r) < buffer.size()) break;
						continue;
					}
					if (r == 0) die("the host ended a connection");
					if (errno == EAGAIN || errno == EWOULDBLOCK) break;
					die("recv failed");
				}
				const int got = parse(c);
				if (got > 0) lastReply = now();
				if (sending && now() >= end) sending = false;
				if (sending)
				{
					for (int j = 0; j < got; ++j) queue(c);
					flush(c);
				}
			}
		}
		const double elapsed = now() - t0;
		const double cpu = _o.pid ? cpuSeconds(_o.pid) - cpu0 : 0;
		const double own = ownCpu() - own0;
		const double msgs = static_cast<double>(_t.messages);
		std::printf("RESULT {\"mode\":\"load\",\"path\":\"%s\",\"kind\":\"%s\",\"size\":%zu,\"conns\":%d,\"window\":%d,"
			"\"deflate\":%s,\"extensions\":\"%s\",\"messages\":%llu,\"seconds\":%.3f,\"msgs_per_s\":%.0f,"
			"\"payload_MBps\":%.2f,\"wire_MBps\":%.2f,\"wire_out_bytes\":%llu,\"wire_in_bytes\":%llu,"
			"\"compressed_replies\":%llu,\"server_cpu_s\":%.2f,\"server_us_per_msg\":%.3f,\"client_cpu_s\":%.2f}\n",
			_o.path.c_str(), _o.kind.c_str(), _o.size, _o.conns, _o.window, _o.deflate ? "true" : "false",
			_extensions.c_str(), static_cast<unsigned long long>(_t.messages), elapsed, msgs / elapsed,
			static_cast<double>(_t.payload) / elapsed / 1e6, static_cast<double>(_t.wireIn) / elapsed / 1e6,
			static_cast<unsigned long long>(_t.wireOut), static_cast<unsigned long long>(_t.wireIn),
			static_cast<unsigned long long>(_t.compressedReplies), cpu, msgs > 0 ? cpu / msgs * 1e6 : 0, own);
		return 0;
	}

	int runIdle()
	{
		if (!_o.pid) die("--idle needs --pid");
		const long before = rssBytes(_o.pid);
		std::vector<Conn> conns;
		conns.reserve(static_cast<std::size_t>(_o.idle));
		for (int i = 0; i < _o.idle; ++i)
		{
			conns.push_back(open());
			Conn& c = conns.back();
			// One message each, blocking: the connection's lazy state now exists.
			queue(c);
			if (::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(c.out.size())) die("send failed");
			c.out.clear();
			char buffer[65536];
			while (c.received == 0)
			{
				const ssize_t r = ::recv(c.fd, buffer, sizeof(buffer), 0);
				if (r <= 0) die("no reply on an idle connection");
				c.in.append(buffer, static_cast<std::size_t>(r));
				parse(c);
			}
		}
		::usleep(1000000);
		const long during = rssBytes(_o.pid);
		std::printf("RESULT {\"mode\":\"idle\",\"path\":\"%s\",\"deflate\":%s,\"extensions\":\"%s\",\"conns\":%d,"
			"\"rss_before\":%ld,\"rss_during\":%ld,\"bytes_per_conn\":%.0f,\"compressed_replies\":%llu}\n",
			_o.path.c_str(), _o.deflate ? "true" : "false", _extensions.c_str(), _o.idle, before, during,
			static_cast<double>(during - before) / _o.idle, static_cast<unsigned long long>(_t.compressedReplies));
		for (Conn& c : conns) ::close(c.fd);
		return 0;
	}

private:
	static void setNonBlocking(Conn& c)
	{
		const int flags = fcntl(c.fd, F_GETFL);
		fcntl(c.fd, F_SETFL, flags | O_NONBLOCK);
	}

	const Options& _o;
	int _poolSize = 16;
	DeflateClientConfig _offer;
	std::vector<std::string> _pool;
	std::vector<std::string> _compressedPool;  // client without takeover: each pool message compressed once
	std::vector<std::string> _replyPool;       // server without takeover: each pool reply's known bytes
	std::unique_ptr<MessageDeflater> _shared;
	std::unique_ptr<MessageInflater> _sharedInflater;
	std::string _plain;
	std::string _extensions;
	Totals _t;
};

} // namespace

int main(int argc, char** argv)
{
	Options o;
	for (int i = 1; i < argc; ++i)
	{
		const std::string a = argv[i];
		auto value = [&]() -> std::string {
			if (i + 1 >= argc) die(a + " needs a value");
			return argv[++i];
		};
		if (a == "--port") o.port = std::stoi(value());
		else if (a == "--path") o.path = value();
		else if (a == "--conns") o.conns = std::stoi(value());
		else if (a == "--window") o.window = std::stoi(value());
		else if (a == "--size") o.size = static_cast<std::size_t>(std::stoul(value()));
		else if (a == "--kind") o.kind = value();
		else if (a == "--deflate") o.deflate = true;
		else if (a == "--client-takeover") o.clientTakeover = true;
		else if (a == "--server-takeover") o.serverTakeover = true;
		else if (a == "--level") o.level = std::stoi(value());
		else if (a == "--duration") o.duration = std::stod(value());
		else if (a == "--pid") o.pid = std::stoi(value());
		else if (a == "--idle") o.idle = std::stoi(value());
		else die("unknown option " + a);
	}
	if (o.port <= 0) die("--port is required");
	if (o.kind != "json" && o.kind != "random") die("--kind is json or random");
	if (o.size < 8) die("--size is at least 8");
	Load load(o);
	return o.idle > 0 ? load.runIdle() : load.runLoad();
}
