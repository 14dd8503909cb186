//
// HostClusterTest.cpp — chat rooms that span three real parley-host processes through the
// cluster bus (cluster.redis: Debian's redis-server started by the test), behind Debian's haproxy
// running etc/haproxy/parley.cfg, with the hosts' etc/haproxy/host.properties (route /chat =
// broadcast). Every client sends numbered messages ("c<sender> m<number>"); every client must
// receive every one of them, once, in each sender's order, whichever host it and the sender are
// on; also while one host drains (SIGTERM) in the middle of the traffic.
//
// The clients are read together (poll over all of them, each with a buffer and a frame parser of
// its own), never one to its end before the next: a client left unread would hold its host's
// output and, at the host's limits, be cut.
//
#include "HaproxyHosts.h"
#include "RedisServer.h"
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <poll.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <vector>

using namespace parley::test;

namespace {

using Clock = std::chrono::steady_clock;

std::string chatText(std::size_t sender, int number)
{
	return "c" + std::to_string(sender) + " m" + std::to_string(number);
}

/// What one client received of each sender's numbered messages.
struct Tally
{
	explicit Tally(std::size_t senders) : seen(senders), next(senders, 0) {}

	std::vector<std::vector<char>> seen; ///< per sender, per number: received at least once
	std::vector<int> next;               ///< per sender: the highest number received + 1
	long received = 0, duplicated = 0, outOfOrder = 0;

	void add(std::size_t sender, int number)
	{
		++received;
		std::vector<char>& s = seen[sender];
		if (static_cast<std::size_t>(number) >= s.size()) s.resize(static_cast<std::size_t>(number) + 1 + 128, 0);
		if (s[static_cast<std::size_t>(number)])
		{
			++duplicated;
			return;
		}
		s[static_cast<std::size_t>(number)] = 1;
		if (number < next[sender]) ++outOfOrder;
		else next[sender] = number + 1;
	}

	/// Numbers of `sender` in [from, to) never received.
	long lost(std::size_t sender, int from, int to) const
	{
		long n = 0;
		const std::vector<char>& s = seen[sender];
		for (int i = from; i < to; ++i)
			if (static_cast<std::size_t>(i) >= s.size() || !s[static_cast<std::size_t>(i)]) ++n;
		return n;
	}
};

/// One member of a room: a WebSocket through HAProxy, what it has read and not parsed yet, its
/// tally, and how many messages it has sent.
struct Member
{
	Member(std::uint16_t port, std::size_t senders) : ws(std::make_unique<WsClient>(port, "/chat")), tally(senders) {}

	std::unique_ptr<WsClient> ws;
	std::string in;
	std::size_t at = 0;
	Tally tally;
	int sent = 0;
	long syncs = 0;
	bool closed = false;      ///< a close frame came (it is answered and the connection ended)
	std::uint16_t closeCode = 0;
};

/// A chat room of `Member`s read together. WsClient reads the 101 answer with its own buffer: a
/// member is only (re)connected while no message is on its way to the room, so nothing follows
/// the 101 in that buffer and every later byte is read here, from the socket.
class Room
{
public:
	Room(std::uint16_t port, std::size_t size) : _port(port)
	{
		for (std::size_t i = 0; i < size; ++i) members.emplace_back(port, size);
	}

	/// Sends message number `members[i].sent` of member i (and counts it).
	void send(std::size_t i)
	{
		Member& m = members[i];
		m.ws->sendText(chatText(i, m.sent));
		++m.sent;
	}

	/// Connects member i again (after its close), keeping its tally and count.
	void reconnect(std::size_t i)
	{
		Member& m = members[i];
		m.ws = std::make_unique<WsClient>(_port, "/chat");
		m.in.clear();
		m.at = 0;
		m.closed = false;
	}

	/// Waits up to `ms` for bytes, then reads what every open member has; returns the number of
	/// frames parsed. A close frame is answered (1001 back) and the member's end of the stream is
	/// read; `onClose(i)` is called then.
	template <typename OnClose> long pump(int ms, OnClose onClose)
	{
		std::vector<pollfd> fds;
		for (const Member& m : members) fds.push_back({m.closed ? -1 : m.ws->fd(), POLLIN, 0});
		if (::poll(fds.data(), fds.size(), ms) <= 0) return 0;
		long frames = 0;
		char buffer[65536];
		for (std::size_t i = 0; i < members.size(); ++i)
		{
			if (fds[i].revents == 0) continue;
			Member& m = members[i];
			const ssize_t n = ::recv(m.ws->fd(), buffer, sizeof buffer, MSG_DONTWAIT);
			if (n <= 0)
			{
				if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
				CPPUNIT_FAIL("member " + std::to_string(i) + ": the connection ended without a close frame");
			}
			m.in.append(buffer, static_cast<std::size_t>(n));
			frames += parse(i, onClose);
		}
		return frames;
	}

	std::vector<Member> members;

private:
	template <typename OnClose> long parse(std::size_t i, OnClose onClose)
	{
		Member& m = members[i];
		long frames = 0;
		for (;;)
		{
			const std::size_t left = m.in.size() - m.at;
			if (left < 2) break;
			const auto b0 = static_cast<unsigned char>(m.in[m.at]);
			const auto b1 = static_cast<unsigned char>(m.in[m.at + 1]);
			CPPUNIT_ASSERT_MESSAGE("member " + std::to_string(i) + ": a masked or long frame from the host", b1 < 126);
			if (left < 2u + b1) break;
			const char* payload = m.in.data() + m.at + 2;
			const std::size_t length = b1;
			m.at += 2 + length;
			++frames;
			const int opcode = b0 & 0x0F;
			if (opcode == OpClose)
			{
				Frame close;
				close.opcode = OpClose;
				close.payload.assign(payload, length);
				m.closed = true;
				m.closeCode = close.closeCode();
				CPPUNIT_ASSERT_EQUAL_MESSAGE("member " + std::to_string(i) + ": bytes after the close frame", m.in.size(), m.at);
				m.ws->send(closeFrame(1001));
				CPPUNIT_ASSERT(m.ws->readEof());
				onClose(i);
				break;
			}
			CPPUNIT_ASSERT_EQUAL_MESSAGE("member " + std::to_string(i), int(OpText), opcode);
			if (length > 0 && payload[0] == 's')
			{
				++m.syncs; // "sync": see sync()
				continue;
			}
			// "c<sender> m<number>"
			std::size_t p = 1, sender = 0;
			while (p < length && payload[p] != ' ') sender = sender * 10 + static_cast<std::size_t>(payload[p++] - '0');
			int number = 0;
			for (p += 2; p < length; ++p) number = number * 10 + (payload[p] - '0');
			CPPUNIT_ASSERT_MESSAGE("member " + std::to_string(i) + ": " + std::string(payload, length), sender < members.size());
			m.tally.add(sender, number);
		}
		if (m.at == m.in.size())
		{
			m.in.clear();
			m.at = 0;
		}
		return frames;
	}

	std::uint16_t _port;
};

/// The value of the sample `name` (a line "name value") of a host's /metrics, or -1.
double metric(std::uint16_t adminPort, const std::string& name)
{
	const HttpAnswer answer = httpGet(adminPort, "/metrics");
	const std::string key = "\n" + name + " ";
	const std::size_t at = answer.body.find(key);
	return at == std::string::npos ? -1 : std::stod(answer.body.substr(at + key.size()));
}

} // namespace

class HostClusterTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HostClusterTest);
	CPPUNIT_TEST(testChatRoomAcrossThreeHosts);
	CPPUNIT_TEST(testDrainWhileTheRoomIsBusy);
	CPPUNIT_TEST(testDrainWhileTheRoomKeepsSending);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override { _farm = std::make_unique<HaproxyHosts>("cluster"); }
	void tearDown() override { _farm.reset(); }

	/// 100 clients join /chat through HAProxy (about a third on each host); once every host's bus
	/// is subscribed, each sends 100 numbered messages: every client receives all 10,000, each
	/// sender's in order, none twice (1,000,000 deliveries, two thirds of them through Redis).
	void testChatRoomAcrossThreeHosts()
	{
		if (!debianToolOrSkip("haproxy", "haproxy") || !debianToolOrSkip("redis-server", "redis-server")) return;
		const std::size_t clients = 100;
		const int perClient = 100;
		RedisServer redis;
		_farm->start(false, "cluster.redis = " + redis.address() + "\n");
		Haproxy haproxy("parley.cfg", _farm->backends(), HaproxyHosts::checkEdits(), _farm->dir());
		HaproxyHosts::waitAllUp(haproxy, "parley_hosts");
		Room room(haproxy.plainPort(), clients);
		CPPUNIT_ASSERT(eventually([this] { return _farm->connections(0) + _farm->connections(1) + _farm->connections(2) == 100; }));
		for (std::size_t h = 0; h < 3; ++h)
		{
			const int n = _farm->connections(h);
			CPPUNIT_ASSERT_MESSAGE("host " + std::to_string(h + 1) + " has " + std::to_string(n), n >= 32 && n <= 35);
		}
		sync(room);

		const auto start = Clock::now();
		int round = 0;
		long quietSince = 0; // pumps in a row without a frame, once everything is sent
		const long expected = static_cast<long>(clients * clients) * perClient;
		for (;;)
		{
			if (round < perClient)
			{
				for (std::size_t i = 0; i < clients; ++i) room.send(i);
				++round;
			}
			const long frames = room.pump(round < perClient ? 0 : 100, [](std::size_t i) {
				CPPUNIT_FAIL("member " + std::to_string(i) + " was closed");
			});
			long received = 0;
			for (const Member& m : room.members) received += m.tally.received;
			if (round < perClient) continue;
			// All there (then a little longer, for anything sent twice); or nothing for 5 s.
			quietSince = frames == 0 ? quietSince + 1 : 0;
			if ((received >= expected && quietSince >= 2) || quietSince >= 50) break;
		}
		const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

		long received = 0, lost = 0, duplicated = 0, outOfOrder = 0;
		for (const Member& m : room.members)
		{
			received += m.tally.received;
			duplicated += m.tally.duplicated;
			outOfOrder += m.tally.outOfOrder;
			for (std::size_t s = 0; s < clients; ++s) lost += m.tally.lost(s, 0, perClient);
		}
		std::ostringstream counts;
		counts << "sent=" << clients * perClient << " received=" << received << " (of " << expected << ") lost=" << lost
			   << " duplicated=" << duplicated << " out_of_order=" << outOfOrder << " in " << seconds << " s";
		std::cout << " [" << counts.str() << "; " << busCounters() << "] " << std::flush;
		CPPUNIT_ASSERT_EQUAL_MESSAGE(counts.str(), 0L, lost);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(counts.str(), 0L, duplicated);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(counts.str(), 0L, outOfOrder);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(counts.str(), expected, received);
	}

	/// A room of 30 clients (10 per host) through HAProxy, every client sending a message each
	/// 20 ms; SIGTERM to host 1 in the middle of it. Host 1 keeps serving while HAProxy takes it
	/// out (no client gets anything but chat until then); the room stops sending shortly after
	/// (well inside the drain delay); then host 1's clients, and only they, get 1001. Everything
	/// sent before reached all 30 clients (host 1's clients until their close), host 1's clients'
	/// messages included (nothing host 1 read before its close is left unanswered), once and in
	/// order. They reconnect through HAProxy to the two others; each client sends 20 more, and
	/// all 30 receive all 600.
	void testDrainWhileTheRoomIsBusy() { drainWhileBusy(false); }

	/// As testDrainWhileTheRoomIsBusy, but the room keeps sending (a message from every client
	/// each 5 ms) through the 1001s: every client until host 1's clients all have theirs, each of those until its own. What host 1 read
	/// before a client's close it answered before that close: the client received its own messages
	/// up to some number k (those host 1 read; the rest came after host 1's close and are dropped,
	/// RFC 6455 5.5.1, and counted), and every client on the two other hosts received all k of
	/// them and none beyond. Host 1's clients miss nothing in the middle of any sender's messages.
	void testDrainWhileTheRoomKeepsSending() { drainWhileBusy(true); }

private:
	void drainWhileBusy(bool untilTheClose)
	{
		if (!debianToolOrSkip("haproxy", "haproxy") || !debianToolOrSkip("redis-server", "redis-server")) return;
		const std::size_t clients = 30;
		RedisServer redis;
		// A drain delay of 3 s: the room stops sending (testDrainWhileTheRoomIsBusy) some 200 ms
		// after HAProxy has host 1 DOWN (about 300 ms after the SIGTERM), long before the 1001.
		_farm->start(false, "cluster.redis = " + redis.address() + "\n", 3000);
		Haproxy haproxy("parley.cfg", _farm->backends(), HaproxyHosts::checkEdits(), _farm->dir());
		HaproxyHosts::waitAllUp(haproxy, "parley_hosts");
		Room room(haproxy.plainPort(), clients);
		CPPUNIT_ASSERT(eventually([this] { return _farm->connections(0) + _farm->connections(1) + _farm->connections(2) == 30; }));
		const int onFirst = _farm->connections(0);
		CPPUNIT_ASSERT_MESSAGE(std::to_string(onFirst), onFirst >= 9 && onFirst <= 11);
		sync(room);

		// The busy room: a round (one message from every open client) each 20 ms (5 ms while it
		// keeps sending through the closes, so that messages arrive at host 1 around each close);
		// SIGTERM after 10 rounds; sending stops 10 rounds after HAProxy has host 1 DOWN, or (untilTheClose)
		// once host 1's clients all have their 1001.
		bool sending = true, terminated = false, down = false;
		int rounds = 0, roundsAfterDown = 0;
		std::vector<std::size_t> closed;
		auto onClose = [&](std::size_t i) {
			CPPUNIT_ASSERT_MESSAGE("member " + std::to_string(i) + " got its close before HAProxy had its host DOWN", down);
			CPPUNIT_ASSERT_MESSAGE("member " + std::to_string(i) + " got its close while the room was still sending",
				untilTheClose || !sending);
			CPPUNIT_ASSERT_EQUAL_MESSAGE("member " + std::to_string(i), std::uint16_t(1001), room.members[i].closeCode);
			closed.push_back(i);
		};
		auto nextRound = Clock::now();
		auto nextCheck = Clock::now();
		const auto deadline = Clock::now() + std::chrono::seconds(30);
		while (sending)
		{
			CPPUNIT_ASSERT_MESSAGE(down ? "host 1's clients did not all get their close within 30 s"
										: "host 1 is not DOWN at HAProxy after 30 s",
				Clock::now() < deadline);
			if (Clock::now() >= nextRound)
			{
				for (std::size_t i = 0; i < clients; ++i)
					if (!room.members[i].closed) room.send(i);
				++rounds;
				if (down) ++roundsAfterDown;
				nextRound += std::chrono::milliseconds(untilTheClose ? 5 : 20);
				if (rounds == 10)
				{
					_farm->hosts[0]->signal(SIGTERM);
					terminated = true;
				}
				if (untilTheClose ? static_cast<int>(closed.size()) == onFirst : roundsAfterDown == 10) sending = false;
			}
			if (terminated && !down && Clock::now() >= nextCheck)
			{
				down = haproxy.server("parley_hosts/host1").status == "DOWN";
				nextCheck = Clock::now() + std::chrono::milliseconds(20);
			}
			room.pump(5, onClose);
		}
		std::vector<int> sentBefore;
		for (const Member& m : room.members) sentBefore.push_back(m.sent);

		// Host 1's clients get 1001; everyone else receives the rest of what was sent.
		const auto closeDeadline = Clock::now() + std::chrono::seconds(20);
		long quiet = 0;
		while (Clock::now() < closeDeadline && (static_cast<int>(closed.size()) < onFirst || quiet < 5))
			quiet = room.pump(100, onClose) == 0 ? quiet + 1 : 0;
		CPPUNIT_ASSERT_EQUAL_MESSAGE("clients closed", onFirst, static_cast<int>(closed.size()));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(_farm->hosts[0]->runner.output(), 0, _farm->hosts[0]->runner.wait());
		CPPUNIT_ASSERT_MESSAGE(_farm->hosts[0]->runner.output(),
			_farm->hosts[0]->runner.output().find("drained " + std::to_string(onFirst) + " connections in ") != std::string::npos);
		_farm->hosts[0].reset();

		// What each sender's messages should have reached: all it sent, but for host 1's clients
		// while the room keeps sending: what host 1 read, their own messages they received.
		auto isClosed = [&closed](std::size_t i) { return std::find(closed.begin(), closed.end(), i) != closed.end(); };
		std::vector<int> answered = sentBefore;
		long dropped = 0;
		if (untilTheClose)
			for (std::size_t s : closed)
			{
				answered[s] = room.members[s].tally.next[s];
				dropped += sentBefore[s] - answered[s];
			}
		long sent1 = 0, received1 = 0, lost1 = 0, beyond = 0, gaps = 0, duplicated1 = 0, outOfOrder1 = 0;
		long fromStopped = 0, fromStoppedDelivered = 0, fromStoppedExpected = 0;
		for (std::size_t s = 0; s < clients; ++s) sent1 += sentBefore[s];
		for (std::size_t r = 0; r < clients; ++r)
		{
			const Tally& t = room.members[r].tally;
			received1 += t.received;
			duplicated1 += t.duplicated;
			outOfOrder1 += t.outOfOrder;
			for (std::size_t s = 0; s < clients; ++s)
			{
				if (untilTheClose && isClosed(r))
				{
					// Host 1's clients, closed while the others kept sending: nothing missing
					// below the last message received from each sender.
					gaps += t.lost(s, 0, t.next[s]);
					continue;
				}
				lost1 += t.lost(s, 0, answered[s]);
				if (t.next[s] > answered[s]) beyond += t.next[s] - answered[s];
			}
		}
		for (std::size_t s : closed)
		{
			fromStopped += sentBefore[s];
			for (std::size_t r = 0; r < clients; ++r)
			{
				if (untilTheClose && isClosed(r) && r != s) continue;
				fromStoppedExpected += answered[s];
				fromStoppedDelivered += answered[s] - room.members[r].tally.lost(s, 0, answered[s]);
			}
		}

		// They reconnect through HAProxy to the two others; 20 more from everyone.
		for (std::size_t i : closed) room.reconnect(i);
		CPPUNIT_ASSERT(eventually([this] { return _farm->connections(1) + _farm->connections(2) == 30; }));
		sync(room);
		const long receivedBefore = received1;
		for (int j = 0; j < 20; ++j)
		{
			for (std::size_t i = 0; i < clients; ++i) room.send(i);
			room.pump(0, [](std::size_t i) { CPPUNIT_FAIL("member " + std::to_string(i) + " was closed again"); });
		}
		quiet = 0;
		const long expected2 = static_cast<long>(clients * clients) * 20;
		auto received = [&room] {
			long n = 0;
			for (const Member& m : room.members) n += m.tally.received;
			return n;
		};
		const auto lastDeadline = Clock::now() + std::chrono::seconds(30);
		while (Clock::now() < lastDeadline && quiet < 20 && !(received() - receivedBefore >= expected2 && quiet >= 2))
			quiet = room.pump(100, [](std::size_t i) { CPPUNIT_FAIL("member " + std::to_string(i) + " was closed again"); }) == 0
				? quiet + 1
				: 0;
		long lost2 = 0, duplicated = 0, outOfOrder = 0;
		for (const Member& m : room.members)
		{
			duplicated += m.tally.duplicated;
			outOfOrder += m.tally.outOfOrder;
			for (std::size_t s = 0; s < clients; ++s) lost2 += m.tally.lost(s, sentBefore[s], room.members[s].sent);
		}
		const long received2 = received() - receivedBefore;

		std::ostringstream counts;
		counts << "before the close: sent=" << sent1 << " received=" << received1 << " lost=" << lost1
			   << " duplicated=" << duplicated1 << " out_of_order=" << outOfOrder1 << "; host 1's " << closed.size()
			   << " clients sent " << fromStopped;
		if (untilTheClose)
			counts << ", host 1 read and answered " << fromStopped - dropped << ", dropped after its close " << dropped
				   << ", beyond what it answered " << beyond << ", gaps at its clients " << gaps;
		counts << ", delivered " << fromStoppedDelivered << " of " << fromStoppedExpected << "; after reconnecting: sent="
			   << clients * 20 << " received=" << received2 << " (of " << expected2 << ") lost=" << lost2
			   << " duplicated=" << duplicated - duplicated1 << " out_of_order=" << outOfOrder - outOfOrder1;
		std::cout << " [" << counts.str() << "] " << std::flush;
		CPPUNIT_ASSERT_EQUAL_MESSAGE(counts.str(), 0L, lost1);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(counts.str(), 0L, beyond);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(counts.str(), 0L, gaps);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(counts.str(), fromStoppedExpected, fromStoppedDelivered);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(counts.str(), 0L, lost2);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(counts.str(), 0L, duplicated);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(counts.str(), 0L, outOfOrder);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(counts.str(), expected2, received2);
	}

	/// Waits until every running host's bus is up (parley_cluster_up 1, both links to Redis, the
	/// subscription made) and counts the others (parley_cluster_nodes), then sends "sync" from
	/// member 0 every 200 ms until every member has received one: the room spans the hosts.
	void sync(Room& room)
	{
		std::size_t running = 0;
		for (const auto& host : _farm->hosts) running += host ? 1 : 0;
		for (const auto& host : _farm->hosts)
		{
			if (!host) continue;
			const std::uint16_t admin = host->adminPort;
			CPPUNIT_ASSERT_MESSAGE("the cluster bus of the host on port " + std::to_string(host->port) + " is not up",
				eventually([admin, running] {
					return metric(admin, "parley_cluster_up") == 1 && metric(admin, "parley_cluster_nodes") == double(running);
				}));
		}
		for (Member& m : room.members) m.syncs = 0;
		const auto deadline = Clock::now() + std::chrono::seconds(10);
		for (;;)
		{
			room.members[0].ws->sendText("sync");
			const auto next = Clock::now() + std::chrono::milliseconds(200);
			while (Clock::now() < next)
				room.pump(20, [](std::size_t i) { CPPUNIT_FAIL("member " + std::to_string(i) + " was closed"); });
			bool all = true;
			for (const Member& m : room.members) all = all && m.syncs > 0;
			if (all) return;
			CPPUNIT_ASSERT_MESSAGE("a sync message did not reach every member in 10 s", Clock::now() < deadline);
		}
	}

	/// The bus counters of the running hosts, for the printed line.
	std::string busCounters() const
	{
		std::ostringstream out;
		out << "bus published/commands/received per host:";
		for (const auto& host : _farm->hosts)
		{
			if (!host) continue;
			out << " " << metric(host->adminPort, "parley_cluster_published_total") << "/"
				<< metric(host->adminPort, "parley_cluster_publish_commands_total") << "/"
				<< metric(host->adminPort, "parley_cluster_received_total");
		}
		return out.str();
	}

	std::unique_ptr<HaproxyHosts> _farm;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HostClusterTest, "host");
