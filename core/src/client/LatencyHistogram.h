//
// LatencyHistogram.h — log-linear histogram of latencies in nanoseconds (about 1.6% resolution),
// constant memory, O(1) record.
//
#ifndef PARLEY_CLIENT_LATENCYHISTOGRAM_INCLUDED
#define PARLEY_CLIENT_LATENCYHISTOGRAM_INCLUDED

#include <array>
#include <cstdint>

namespace parley {
namespace client {

class LatencyHistogram
{
public:
	/// Adds one latency (negative values count as 0).
	void record(std::int64_t nanos) noexcept
	{
		std::uint64_t v = nanos > 0 ? static_cast<std::uint64_t>(nanos) : 0;
		++_buckets[indexOf(v)];
		++_count;
		if (static_cast<std::int64_t>(v) > _max)
			_max = static_cast<std::int64_t>(v);
	}

	/// Returns the latency at quantile q (0..1) in nanoseconds (upper edge of its bucket, never
	/// above max()); 0 when empty.
	std::int64_t quantile(double q) const noexcept;

	std::int64_t max() const noexcept { return _max; }
	std::uint64_t count() const noexcept { return _count; }
	void clear() noexcept;

private:
	static constexpr unsigned SubBits = 6;                       // 64 sub-buckets per power of two
	static constexpr unsigned Sub = 1u << SubBits;
	static constexpr unsigned Buckets = (64 - SubBits + 1) * Sub;

	// Values below Sub get one bucket each; above, a value with its top bit at position b
	// (b >= SubBits) falls into group b - SubBits + 1, sub-bucket = the SubBits bits below the top bit.
	static unsigned indexOf(std::uint64_t v) noexcept
	{
		if (v < Sub)
			return static_cast<unsigned>(v);
		const unsigned top = 63u - static_cast<unsigned>(__builtin_clzll(v));
		const unsigned group = top - SubBits + 1;
		const unsigned sub = static_cast<unsigned>((v >> (top - SubBits)) & (Sub - 1));
		return group * Sub + sub;
	}
	static std::uint64_t upperEdge(unsigned index) noexcept;

	std::array<std::uint64_t, Buckets> _buckets{};
	std::uint64_t _count = 0;
	std::int64_t _max = 0;
};

} // namespace client
} // namespace parley

#endif
