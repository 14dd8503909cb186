//
// TrafficHistory.h — messages per second and round-trip times, bucketed by second over the last
// minute, for the live chart. Plain C++; the UI thread feeds and reads it.
//
#ifndef PARLEY_GUI_TRAFFICHISTORY_INCLUDED
#define PARLEY_GUI_TRAFFICHISTORY_INCLUDED

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace parley {
namespace gui {

class TrafficHistory
{
public:
	using Clock = std::chrono::steady_clock;

	struct Sample
	{
		double messages = 0;   ///< messages sent + received in that second
		double rttMicros = -1; ///< mean round-trip time in that second, -1 if none was measured
	};

	/// Keeps the last `seconds` whole seconds.
	explicit TrafficHistory(std::size_t seconds = 60);

	/// Counts n messages at time now.
	void addMessages(std::uint64_t n, Clock::time_point now);
	/// Records one round-trip time at time now.
	void addRtt(double micros, Clock::time_point now);
	/// Returns one sample per whole second before now, oldest first (always `seconds` samples).
	std::vector<Sample> samples(Clock::time_point now) const;
	/// Forgets everything.
	void clear();

private:
	struct Bucket
	{
		std::int64_t second = -1;
		std::uint64_t messages = 0;
		double rttSum = 0;
		std::uint64_t rttCount = 0;
	};
	Bucket& bucketFor(Clock::time_point now);
	static std::int64_t secondOf(Clock::time_point t);

	std::vector<Bucket> _buckets;
};

} // namespace gui
} // namespace parley

#endif
