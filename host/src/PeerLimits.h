//
// PeerLimits.h — per-client limits on the public port: open connections per address and new
// connections per address per second (engine.max_connections_per_ip,
// engine.handshakes_per_ip_per_s). IPv4 counts per address, IPv6 per /64 (one subscriber's
// prefix). Shared by the event loops; sharded locks, one short critical section per accept and
// per close.
//
#ifndef PARLEY_HOST_PEERLIMITS_INCLUDED
#define PARLEY_HOST_PEERLIMITS_INCLUDED

#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <unordered_map>

namespace parley {
namespace host {

/// A client's address as accepted (IPv4 kept as an IPv4-mapped IPv6 address) and its port.
struct PeerAddress
{
	std::uint8_t bytes[16] = {};
	std::uint16_t port = 0;
	bool v4 = false;

	static PeerAddress from(const sockaddr_storage& address);
	/// "203.0.113.7" or "2001:db8::1" ("" for an address of another family).
	std::string text() const;
};

class PeerLimits
{
public:
	enum class Outcome { Admitted, TooManyConnections, TooFast };

	/// 0 turns a limit off.
	PeerLimits(unsigned maxPerAddress, unsigned perSecond) : _max(maxPerAddress), _rate(perSecond) {}

	bool enabled() const { return _max != 0 || _rate != 0; }

	/// Changes the limits (SIGHUP; any thread): they apply to connections accepted from now on.
	void setLimits(unsigned maxPerAddress, unsigned perSecond)
	{
		_max.store(maxPerAddress);
		_rate.store(perSecond);
	}

	/// A connection from `peer` was accepted at `nowMs` (any monotonic clock in ms). Admitted:
	/// it holds one of its address's connections until release().
	Outcome admit(const PeerAddress& peer, std::uint64_t nowMs);

	/// A connection admitted by admit() closed.
	void release(const PeerAddress& peer, std::uint64_t nowMs);

	/// Addresses tracked now (for tests and /metrics).
	std::size_t tracked() const;

private:
	static constexpr std::size_t Shards = 16;
	struct Key
	{
		std::uint64_t hi = 0, lo = 0;
		bool operator==(const Key& o) const { return hi == o.hi && lo == o.lo; }
	};
	struct KeyHash
	{
		std::size_t operator()(const Key& k) const { return std::hash<std::uint64_t>()(k.hi * 0x9E3779B97F4A7C15ull ^ k.lo); }
	};
	struct Entry
	{
		std::uint32_t connections = 0;
		double tokens = 0;               // new connections allowed now (token bucket of _rate)
		std::uint64_t lastMs = 0;        // when tokens were last refilled
	};
	struct Shard
	{
		std::mutex mutex;
		std::unordered_map<Key, Entry, KeyHash> entries;
		std::uint64_t lastSweepMs = 0;
	};

	static Key keyOf(const PeerAddress& peer);
	void refill(Entry& e, std::uint64_t nowMs) const;
	/// Drops entries that hold no connection and whose bucket is full again (shard lock held).
	void sweep(Shard& shard, std::uint64_t nowMs);

	std::atomic<unsigned> _max;
	std::atomic<unsigned> _rate;
	mutable Shard _shards[Shards];
};

} // namespace host
} // namespace parley

#endif
