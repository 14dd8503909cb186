//
// TrafficHistory.cpp
//
#include "TrafficHistory.h"

namespace parley {
namespace gui {

TrafficHistory::TrafficHistory(std::size_t seconds):
	_buckets(seconds ? seconds + 1 : 2)
{
}

std::int64_t TrafficHistory::secondOf(Clock::time_point t)
{
	return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

TrafficHistory::Bucket& TrafficHistory::bucketFor(Clock::time_point now)
{
	const std::int64_t second = secondOf(now);
	Bucket& bucket = _buckets[static_cast<std::size_t>(second) % _buckets.size()];
	if (bucket.second != second) bucket = Bucket{second, 0, 0, 0};
	return bucket;
}

void TrafficHistory::addMessages(std::uint64_t n, Clock::time_point now)
{
	bucketFor(now).messages += n;
}

void TrafficHistory::addRtt(double micros, Clock::time_point now)
{
	Bucket& bucket = bucketFor(now);
	bucket.rttSum += micros;
	++bucket.rttCount;
}

std::vector<TrafficHistory::Sample> TrafficHistory::samples(Clock::time_point now) const
{
	const std::size_t n = _buckets.size() - 1;
	const std::int64_t current = secondOf(now);
	std::vector<Sample> out(n);
	for (std::size_t i = 0; i < n; ++i)
	{
		const std::int64_t second = current - static_cast<std::int64_t>(n - i);
		if (second < 0) continue;
		const Bucket& bucket = _buckets[static_cast<std::size_t>(second) % _buckets.size()];
		if (bucket.second != second) continue;
		out[i].messages = static_cast<double>(bucket.messages);
		if (bucket.rttCount) out[i].rttMicros = bucket.rttSum / static_cast<double>(bucket.rttCount);
	}
	return out;
}

void TrafficHistory::clear()
{
	for (Bucket& bucket : _buckets) bucket = Bucket{};
}

} // namespace gui
} // namespace parley
