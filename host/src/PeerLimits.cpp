//
// PeerLimits.cpp
//
#include "PeerLimits.h"
#include <algorithm>
#include <arpa/inet.h>
#include <netinet/in.h>

namespace parley {
namespace host {

PeerAddress PeerAddress::from(const sockaddr_storage& address)
{
	PeerAddress p;
	if (address.ss_family == AF_INET)
	{
		const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
		p.v4 = true;
		p.bytes[10] = p.bytes[11] = 0xff;
		std::memcpy(p.bytes + 12, &in->sin_addr, 4);
		p.port = ntohs(in->sin_port);
	}
	else if (address.ss_family == AF_INET6)
	{
		const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
		std::memcpy(p.bytes, &in6->sin6_addr, 16);
		p.port = ntohs(in6->sin6_port);
		static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		p.v4 = std::memcmp(p.bytes, mapped, 12) == 0;
	}
	return p;
}

std::string PeerAddress::text() const
{
	char buffer[INET6_ADDRSTRLEN] = {};
	if (v4)
		::inet_ntop(AF_INET, bytes + 12, buffer, sizeof(buffer));
	else
		::inet_ntop(AF_INET6, bytes, buffer, sizeof(buffer));
	return buffer;
}

PeerLimits::Key PeerLimits::keyOf(const PeerAddress& peer)
{
	Key k;
	std::memcpy(&k.hi, peer.bytes, 8);
	if (peer.v4) std::memcpy(&k.lo, peer.bytes + 8, 8);   // the whole IPv4 address; IPv6: the /64
	return k;
}

void PeerLimits::refill(Entry& e, std::uint64_t nowMs) const
{
	if (_rate == 0) return;
	if (nowMs > e.lastMs)
	{
		e.tokens = std::min<double>(_rate, e.tokens + static_cast<double>(nowMs - e.lastMs) * _rate / 1000.0);
		e.lastMs = nowMs;
	}
}

void PeerLimits::sweep(Shard& shard, std::uint64_t nowMs)
{
	if (nowMs - shard.lastSweepMs < 1000) return;
	shard.lastSweepMs = nowMs;
	for (auto it = shard.entries.begin(); it != shard.entries.end();)
	{
		refill(it->second, nowMs);
		if (it->second.connections == 0 && (_rate == 0 || it->second.tokens >= _rate))
			it = shard.entries.erase(it);
		else
			++it;
	}
}

PeerLimits::Outcome PeerLimits::admit(const PeerAddress& peer, std::uint64_t nowMs)
{
	const Key key = keyOf(peer);
	Shard& shard = _shards[KeyHash()(key) % Shards];
	std::lock_guard<std::mutex> lock(shard.mutex);
	sweep(shard, nowMs);
	auto [it, fresh] = shard.entries.try_emplace(key);
	Entry& e = it->second;
	if (fresh)
	{
		e.tokens = _rate;
		e.lastMs = nowMs;
	}
	refill(e, nowMs);
	if (_rate != 0)
	{
		if (e.tokens < 1.0) return Outcome::TooFast;
		e.tokens -= 1.0;
	}
	if (_max != 0 && e.connections >= _max) return Outcome::TooManyConnections;
	++e.connections;
	return Outcome::Admitted;
}

void PeerLimits::release(const PeerAddress& peer, std::uint64_t nowMs)
{
	const Key key = keyOf(peer);
	Shard& shard = _shards[KeyHash()(key) % Shards];
	std::lock_guard<std::mutex> lock(shard.mutex);
	auto it = shard.entries.find(key);
	if (it == shard.entries.end()) return;
	if (it->second.connections) --it->second.connections;
	refill(it->second, nowMs);
	if (it->second.connections == 0 && (_rate == 0 || it->second.tokens >= _rate)) shard.entries.erase(it);
}

std::size_t PeerLimits::tracked() const
{
	std::size_t n = 0;
	for (Shard& s : _shards)
	{
		std::lock_guard<std::mutex> lock(s.mutex);
		n += s.entries.size();
	}
	return n;
}

} // namespace host
} // namespace parley
