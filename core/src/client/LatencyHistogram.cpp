//
// LatencyHistogram.cpp
//
#include "LatencyHistogram.h"
#include <algorithm>
#include <cmath>

namespace parley {
namespace client {

std::uint64_t LatencyHistogram::upperEdge(unsigned index) noexcept
{
	unsigned group = index / Sub;
	unsigned sub = index % Sub;
	if (group == 0)
		return sub;
	unsigned shift = group - 1;
	std::uint64_t base = (static_cast<std::uint64_t>(Sub) + sub) << shift;
	return base + ((std::uint64_t(1) << shift) - 1);
}

std::int64_t LatencyHistogram::quantile(double q) const noexcept
{
	if (_count == 0)
		return 0;
	q = std::min(1.0, std::max(0.0, q));
	std::uint64_t rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(_count)));
	if (rank == 0)
		rank = 1;
	std::uint64_t seen = 0;
	for (unsigned i = 0; i < Buckets; ++i)
	{
		seen += _buckets[i];
		if (seen >= rank)
			return std::min(static_cast<std::int64_t>(upperEdge(i)), _max);
	}
	return _max;
}

void LatencyHistogram::clear() noexcept
{
	_buckets.fill(0);
	_count = 0;
	_max = 0;
}

} // namespace client
} // namespace parley
