//
// ClusterBus.cpp
//
#include "ClusterBus.h"
#include "EventLoopPool.h"
#include "HostContext.h"
#include <Poco/Redis/Array.h>
#include <cstdio>
#include <random>
#include <stdexcept>

namespace parley {
namespace host {

using Clock = std::chrono::steady_clock;
using Poco::Redis::Array;
using Poco::Redis::RedisType;

namespace {

constexpr std::uint8_t Version = 1;
constexpr std::uint8_t RecordBroadcast = 1;
constexpr std::uint8_t RecordSend = 2;
constexpr std::uint8_t RecordPing = 3;
constexpr unsigned LinkTimeoutMs = 2000;
/// The subscriber hears our own ping every second; silence this long means the link is dead.
constexpr unsigned SilenceMs = 3500;
/// While a burst goes on, the publisher lets this long pass to gather more (or LingerBytes).
constexpr auto Linger = std::chrono::microseconds(500);
constexpr std::size_t LingerBytes = 256u << 10;
/// A batch is cut at this size (one PUBLISH each).
constexpr std::size_t MaxBatchBytes = 1u << 20;
/// Presence entries of nodes silent this long are removed from the hash.
constexpr std::int64_t PresenceForgetMs = 60000;

void putU16(std::string& out, std::uint16_t v)
{
	out += static_cast<char>(v >> 8);
	out += static_cast<char>(v & 0xff);
}

void putU32(std::string& out, std::uint32_t v)
{
	for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

void putU64(std::string& out, std::uint64_t v)
{
	for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

struct Reader
{
	const std::string& data;
	std::size_t at = 0;
	bool ok = true;

	bool need(std::size_t n)
	{
		if (data.size() - at < n) ok = false;
		return ok;
	}
	std::uint64_t number(int bytes)
	{
		if (!need(static_cast<std::size_t>(bytes))) return 0;
		std::uint64_t v = 0;
		for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(data[at++]);
		return v;
	}
	std::string_view bytes(std::size_t n)
	{
		if (!need(n)) return {};
		std::string_view v(data.data() + at, n);
		at += n;
		return v;
	}
};

std::uint64_t randomInstance()
{
	std::random_device device;
	return (static_cast<std::uint64_t>(device()) << 32) ^ device() ^
		static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
}

std::string hexTag(std::uint16_t tag)
{
	char text[8];
	std::snprintf(text, sizeof(text), "%04x", tag);
	return text;
}

std::int64_t wallMs()
{
	return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

} // namespace

std::uint16_t ClusterBus::tagOf(const std::string& node)
{
	std::uint32_t h = 2166136261u;   // FNV-1a, folded to 16 bits
	for (unsigned char c : node) h = (h ^ c) * 16777619u;
	const std::uint16_t tag = static_cast<std::uint16_t>((h >> 16) ^ (h & 0xffff));
	return tag == 0 ? 1 : tag;
}

ClusterBus::ClusterBus(HostContext& context, EventLoopPool& pool, const ClusterConfig& config, std::string node,
	Poco::Logger& logger)
	: _context(context), _pool(pool), _config(config), _node(std::move(node)), _tag(tagOf(_node)),
	  _instance(randomInstance()), _routePrefix(config.name + ":r:"), _nodeChannel(config.name + ":n:" + hexTag(_tag)),
	  _presenceKey(config.name + ":presence"), _logger(logger)
{
}

ClusterBus::~ClusterBus()
{
	stop();
}

void ClusterBus::start()
{
	_downSince = Clock::now();
	_publisher = std::thread([this] { publisher(); });
	_subscriber = std::thread([this] { subscriber(); });
}

void ClusterBus::stop()
{
	{
		std::lock_guard<std::mutex> lock(_mutex);
		if (_stopping && !_publisher.joinable()) return;
		_stopping = true;
	}
	_wake.notify_all();
	if (_publisher.joinable()) _publisher.join();
	if (_subscriber.joinable()) _subscriber.join();
}

bool ClusterBus::stopRequested()
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _stopping;
}

bool ClusterBus::waitStop(unsigned ms)
{
	std::unique_lock<std::mutex> lock(_mutex);
	return _wake.wait_for(lock, std::chrono::milliseconds(ms), [this] { return _stopping; });
}

bool ClusterBus::queue(const std::string& channel, bool /*node*/, std::uint16_t /*target*/, const std::string& path,
	std::uint8_t type, ConnectionId connection, PayloadKind kind, std::string_view payload)
{
	if (!_pubUp.load(std::memory_order_acquire) || path.size() > 0xffff || payload.size() > 0xffffffffu)
	{
		_unpublished.fetch_add(1, std::memory_order_relaxed);
		return false;
	}
	bool wake = false;
	{
		std::lock_guard<std::mutex> lock(_mutex);
		if (_stopping || _pendingBytes + payload.size() > MaxPendingBytes)
		{
			_unpublished.fetch_add(1, std::memory_order_relaxed);
			return false;
		}
		auto it = _pendingIndex.find(channel);
		if (it == _pendingIndex.end() || _pending[it->second].data.size() >= MaxBatchBytes)
		{
			Batch batch;
			batch.channel = channel;
			batch.data.reserve(64 + payload.size());
			batch.data += static_cast<char>(Version);
			putU64(batch.data, _instance);
			_pending.push_back(std::move(batch));
			_pendingIndex[channel] = _pending.size() - 1;
			it = _pendingIndex.find(channel);
		}
		Batch& batch = _pending[it->second];
		const std::size_t before = batch.data.size();
		batch.data += static_cast<char>(type);
		batch.data += static_cast<char>(kind);
		putU64(batch.data, connection);
		putU16(batch.data, static_cast<std::uint16_t>(path.size()));
		batch.data += path;
		putU32(batch.data, static_cast<std::uint32_t>(payload.size()));
		batch.data.append(payload.data(), payload.size());
		++batch.records;
		wake = _pendingBytes == 0;
		_pendingBytes += batch.data.size() - before;
	}
	if (wake) _wake.notify_all();
	return true;
}

void ClusterBus::publishBroadcast(const std::string& path, PayloadKind kind, std::string_view payload)
{
	// (The channel string is built per call: small next to the payload copy the batch makes.)
	queue(_routePrefix + path, false, 0, path, RecordBroadcast, 0, kind, payload);
}

bool ClusterBus::publishSend(ConnectionId connection, const std::string& path, PayloadKind kind, std::string_view payload)
{
	const std::uint16_t owner = ownerOf(connection);
	return queue(_config.name + ":n:" + hexTag(owner), true, owner, path, RecordSend, connection, kind, payload);
}

void ClusterBus::setState(bool publisherSide, bool up, const std::string& why)
{
	std::lock_guard<std::mutex> lock(_stateMutex);
	std::atomic<bool>& flag = publisherSide ? _pubUp : _subUp;
	const bool wasUp = this->up();
	flag.store(up, std::memory_order_release);
	const bool nowUp = this->up();
	const std::string where = _config.redisHost + ":" + std::to_string(_config.redisPort);
	if (wasUp && !nowUp)
	{
		_downSince = Clock::now();
		_unpublishedAtDown = _unpublished.load();
		_reportedDown = true;
		_logger.warning("cluster bus: lost Redis at %s (%s); serving this host's connections only, reconnecting", where, why);
	}
	else if (!wasUp && nowUp)
	{
		if (!_everUp)
			_logger.information("cluster bus: connected to Redis at %s as node '%s' (connection ids tagged %s), channels %s*",
				where, _node, hexTag(_tag), _config.name + ":");
		else
		{
			const double seconds = std::chrono::duration<double>(Clock::now() - _downSince).count();
			char text[32];
			std::snprintf(text, sizeof(text), "%.1f", seconds);
			_logger.information("cluster bus: Redis at %s is back after %s s; %s messages could not be published meanwhile",
				where, std::string(text), std::to_string(_unpublished.load() - _unpublishedAtDown));
		}
		_everUp = true;
		_reportedDown = false;
	}
	else if (!nowUp && !_everUp && !_reportedDown && !up && !why.empty())
	{
		_reportedDown = true;
		_logger.warning("cluster bus: cannot reach Redis at %s (%s); serving this host's connections only, retrying", where, why);
	}
}

void ClusterBus::publisher()
{
	unsigned backoffMs = 100;
	bool linger = false;
	Clock::time_point nextPresence = Clock::now();
	for (;;)
	{
		if (stopRequested()) break;
		if (!_pub.isOpen())
		{
			try
			{
				_pub.open(_config.redisHost, _config.redisPort, _config.redisPassword, LinkTimeoutMs);
				backoffMs = 100;
				nextPresence = Clock::now();
				setState(true, true, std::string());
			}
			catch (const std::exception& e)
			{
				setState(true, false, e.what());
				if (waitStop(backoffMs)) break;
				backoffMs = std::min(backoffMs * 2, MaxBackoffMs);
				continue;
			}
		}
		std::vector<Batch> batches;
		{
			std::unique_lock<std::mutex> lock(_mutex);
			_wake.wait_until(lock, nextPresence, [this] { return _stopping || !_pending.empty(); });
			if (_stopping) break;
			if (linger && !_pending.empty() && _pendingBytes < LingerBytes)
				_wake.wait_for(lock, Linger, [this] { return _stopping || _pendingBytes >= LingerBytes; });
			batches.swap(_pending);
			_pendingIndex.clear();
			_pendingBytes = 0;
		}
		std::size_t records = 0;
		for (const Batch& b : batches) records += b.records;
		// Two or more records in one go: a burst; let the next round gather a little longer.
		linger = records > batches.size();
		const bool presence = Clock::now() >= nextPresence;
		try
		{
			for (const Batch& b : batches)
			{
				Array publish;
				publish.add("PUBLISH").add(b.channel).add(b.data);
				_pub.write(publish);
			}
			std::vector<Array> extra;
			if (presence) presenceRound(extra);
			for (const Array& command : extra) _pub.write(command);
			_pub.flush();
			for (const Batch& b : batches)
			{
				const RedisType::Ptr reply = _pub.read();
				if (RedisLink::isError(reply))
				{
					_unpublished.fetch_add(b.records, std::memory_order_relaxed);
					_logger.error("cluster bus: Redis refused a PUBLISH of %z messages: %s", b.records, RedisLink::text(reply));
				}
				else
				{
					_published.fetch_add(b.records, std::memory_order_relaxed);
					_publishCommands.fetch_add(1, std::memory_order_relaxed);
				}
			}
			for (std::size_t i = 0; i < extra.size(); ++i)
			{
				const RedisType::Ptr reply = _pub.read();
				if (i == 1) readPresence(reply);   // HSET, HGETALL, PUBLISH ping, HDEL...
			}
			if (presence) nextPresence = Clock::now() + std::chrono::seconds(1);
		}
		catch (const std::exception& e)
		{
			_unpublished.fetch_add(records, std::memory_order_relaxed);
			_pub.close();
			_reconnects.fetch_add(1, std::memory_order_relaxed);
			setState(true, false, e.what());
		}
	}
	// Leave the presence hash, so that the others stop counting our connections at once.
	if (_pub.isOpen())
	{
		try
		{
			Array del;
			del.add("HDEL").add(_presenceKey).add(_node);
			_pub.write(del);
			_pub.flush();
			_pub.read();
		}
		catch (const std::exception&)
		{
		}
		_pub.close();
	}
	_pubUp.store(false);
}

void ClusterBus::presenceRound(std::vector<Array>& commands)
{
	// Our entry: "<wall ms> <instance> <tag>\n<count> <path>\n..."
	std::string value = std::to_string(wallMs()) + " " + std::to_string(_instance) + " " + hexTag(_tag) + "\n";
	const std::vector<std::size_t> counts = _pool.routeConnections();
	std::shared_ptr<const HostConfig> config = _context.config();
	for (std::size_t id = 0; id < counts.size() && id < _context.routeCount(); ++id)
	{
		const std::string path = _context.routePath(id);
		if (config->routes.count(path)) value += std::to_string(counts[id]) + " " + path + "\n";
	}
	Array hset;
	hset.add("HSET").add(_presenceKey).add(_node).add(value);
	commands.push_back(hset);
	Array hgetall;
	hgetall.add("HGETALL").add(_presenceKey);
	commands.push_back(hgetall);
	std::string ping;
	ping += static_cast<char>(Version);
	putU64(ping, _instance);
	ping += static_cast<char>(RecordPing);
	ping += static_cast<char>(PayloadKind::Binary);
	putU64(ping, static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()));
	putU16(ping, 0);
	putU32(ping, 0);
	Array publish;
	publish.add("PUBLISH").add(_nodeChannel).add(ping);
	commands.push_back(publish);
	std::vector<std::string> stale;
	{
		std::lock_guard<std::mutex> lock(_presenceMutex);
		stale.swap(_staleNodes);
	}
	for (const std::string& node : stale)
	{
		Array del;
		del.add("HDEL").add(_presenceKey).add(node);
		commands.push_back(del);
	}
}

void ClusterBus::readPresence(const RedisType::Ptr& reply)
{
	if (reply.isNull() || reply->type() != RedisType::REDIS_ARRAY) return;
	const Array& all = static_cast<const Poco::Redis::Type<Array>&>(*reply).value();
	const std::int64_t now = wallMs();
	std::map<std::string, std::size_t> counts;
	std::size_t nodes = 0;
	std::vector<std::string> stale;
	std::string conflict;
	for (std::size_t i = 0; i + 1 < all.size(); i += 2)
	{
		const std::string node = all.get<Poco::Redis::BulkString>(i).value();
		const std::string value = all.get<Poco::Redis::BulkString>(i + 1).value();
		std::size_t lineEnd = value.find('\n');
		std::int64_t at = 0;
		unsigned long long instance = 0;
		char tag[8] = {0};
		if (lineEnd == std::string::npos ||
			std::sscanf(value.substr(0, lineEnd).c_str(), "%lld %llu %7s", reinterpret_cast<long long*>(&at), &instance, tag) != 3)
			continue;
		if (now - at > PresenceForgetMs) stale.push_back(node);
		if (now - at > static_cast<std::int64_t>(PresenceFreshMs)) continue;
		if (node == _node && instance != _instance) conflict = "another host uses cluster.node = '" + node + "'";
		else if (node != _node && std::string(tag) == hexTag(_tag))
			conflict = "nodes '" + node + "' and '" + _node + "' share the connection-id tag " + hexTag(_tag) +
				" (give one another cluster.node)";
		++nodes;
		while (lineEnd + 1 < value.size())
		{
			const std::size_t next = value.find('\n', lineEnd + 1);
			const std::string line = value.substr(lineEnd + 1, (next == std::string::npos ? value.size() : next) - lineEnd - 1);
			const std::size_t space = line.find(' ');
			if (space != std::string::npos) counts[line.substr(space + 1)] += std::stoull(line.substr(0, space));
			if (next == std::string::npos) break;
			lineEnd = next;
		}
	}
	std::lock_guard<std::mutex> lock(_presenceMutex);
	_clusterCounts.swap(counts);
	_nodes = nodes;
	_countsKnown = true;
	_staleNodes = std::move(stale);
	if (!conflict.empty() && !_conflictLogged)
	{
		_conflictLogged = true;
		_logger.error("cluster bus: %s: Outbox::send to their connections may reach the wrong host", conflict);
	}
}

bool ClusterBus::clusterConnections(const std::string& path, std::size_t& count) const
{
	if (!up()) return false;
	std::lock_guard<std::mutex> lock(_presenceMutex);
	if (!_countsKnown) return false;
	auto it = _clusterCounts.find(path);
	count = it == _clusterCounts.end() ? 0 : it->second;
	return true;
}

void ClusterBus::subscriber()
{
	unsigned backoffMs = 100;
	Clock::time_point lastData = Clock::now();
	for (;;)
	{
		if (stopRequested()) break;
		if (!_sub.isOpen())
		{
			try
			{
				_sub.open(_config.redisHost, _config.redisPort, _config.redisPassword, LinkTimeoutMs);
				Array psubscribe;
				psubscribe.add("PSUBSCRIBE").add(_routePrefix + "*");
				Array subscribe;
				subscribe.add("SUBSCRIBE").add(_nodeChannel);
				_sub.write(psubscribe);
				_sub.write(subscribe);
				_sub.flush();
				for (int i = 0; i < 2; ++i)
				{
					const RedisType::Ptr reply = _sub.read();
					if (RedisLink::isError(reply)) throw std::runtime_error("subscribe refused: " + RedisLink::text(reply));
				}
				backoffMs = 100;
				lastData = Clock::now();
				setState(false, true, std::string());
			}
			catch (const std::exception& e)
			{
				_sub.close();
				setState(false, false, e.what());
				if (waitStop(backoffMs)) break;
				backoffMs = std::min(backoffMs * 2, MaxBackoffMs);
				continue;
			}
		}
		try
		{
			if (!_sub.readable(200))
			{
				if (Clock::now() - lastData > std::chrono::milliseconds(SilenceMs))
					throw std::runtime_error("nothing from Redis for " + std::to_string(SilenceMs) + " ms");
				continue;
			}
			const RedisType::Ptr reply = _sub.read();
			lastData = Clock::now();
			if (reply->type() != RedisType::REDIS_ARRAY) continue;
			const Array& message = static_cast<const Poco::Redis::Type<Array>&>(*reply).value();
			if (message.size() < 3) continue;
			const std::string kind = message.get<Poco::Redis::BulkString>(0).value();
			if (kind != "message" && kind != "pmessage") continue;
			deliver(message.get<Poco::Redis::BulkString>(message.size() - 1).value());
		}
		catch (const std::exception& e)
		{
			_sub.close();
			_reconnects.fetch_add(1, std::memory_order_relaxed);
			setState(false, false, e.what());
		}
	}
	_sub.close();
	_subUp.store(false);
}

int ClusterBus::routeId(const std::string& path)
{
	const std::uint64_t generation = _context.configGeneration();
	if (generation != _routeGeneration)
	{
		_routeIds.clear();
		_routeGeneration = generation;
	}
	auto it = _routeIds.find(path);
	if (it != _routeIds.end()) return it->second;
	std::shared_ptr<const HostConfig> config;
	const int id = _context.activeRoute(path, config);
	_routeIds.emplace(path, id);
	return id;
}

void ClusterBus::deliver(const std::string& data)
{
	Reader r{data};
	if (r.number(1) != Version) return;
	const std::uint64_t instance = r.number(8);
	if (!r.ok) return;
	const bool ours = instance == _instance;
	std::uint64_t received = 0;
	while (r.ok && r.at < data.size())
	{
		const auto type = static_cast<std::uint8_t>(r.number(1));
		const auto kind = static_cast<std::uint8_t>(r.number(1));
		const std::uint64_t field = r.number(8);
		const std::string_view path = r.bytes(r.number(2));
		const std::string_view payload = r.bytes(r.number(4));
		if (!r.ok) break;
		if (type == RecordPing)
		{
			if (ours)
			{
				const auto sent = Clock::time_point(Clock::duration(static_cast<Clock::rep>(field)));
				_busLatencyUs.store(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent).count());
			}
			continue;
		}
		// Our own broadcasts went to our connections when they were made.
		if (ours || (kind != 1 && kind != 2)) continue;
		const int route = routeId(std::string(path));
		if (route < 0) continue;
		// The loops apply what is pushed on their next turn; wait while they are far behind
		// (Redis holds what arrives meanwhile, up to its client-output-buffer-limit).
		for (unsigned waited = 0; _pool.inboxBytes() > MaxInboxBytes && waited < 10000; ++waited)
		{
			if (waitStop(1)) return;
		}
		if (type == RecordBroadcast)
			_pool.broadcast(static_cast<std::uint16_t>(route), static_cast<PayloadKind>(kind), payload);
		else if (type == RecordSend && ownerOf(field) == _tag)
			_pool.push(field, static_cast<std::uint16_t>(route), static_cast<PayloadKind>(kind), payload);
		++received;
	}
	if (received) _received.fetch_add(received, std::memory_order_relaxed);
}

void ClusterBus::collect(Metrics& m) const
{
	m.cluster = true;
	m.clusterUp = up();
	m.clusterPublished = _published.load(std::memory_order_relaxed);
	m.clusterPublishCommands = _publishCommands.load(std::memory_order_relaxed);
	m.clusterUnpublished = _unpublished.load(std::memory_order_relaxed);
	m.clusterReceived = _received.load(std::memory_order_relaxed);
	m.clusterReconnects = _reconnects.load(std::memory_order_relaxed);
	const std::int64_t latency = _busLatencyUs.load(std::memory_order_relaxed);
	m.clusterBusLatencySeconds = latency < 0 ? -1.0 : static_cast<double>(latency) / 1e6;
	std::lock_guard<std::mutex> lock(_presenceMutex);
	m.clusterNodes = _nodes;
	m.clusterRouteConnections = _clusterCounts;
}

} // namespace host
} // namespace parley
