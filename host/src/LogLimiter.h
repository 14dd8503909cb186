//
// LogLimiter.h — rate-limited log lines: for each kind of event (a refusal status, a close code,
// an I/O error...), at most one line per interval for the whole host, with the count of the
// lines held back meanwhile. Lock-free: every event loop reports through the same atomics.
//
#ifndef PARLEY_HOST_LOGLIMITER_INCLUDED
#define PARLEY_HOST_LOGLIMITER_INCLUDED

#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace parley {
namespace host {

/// One kind of event: lets one line through per interval and counts the others. Thread-safe
/// without a lock (a compare-exchange decides which thread writes the interval's line).
class LogLimiter
{
public:
	/// Returns true if a line may be written at `now` (ms, steady clock); then `held` is the
	/// number of events held back since the last line and `since` the ms since that line.
	/// Returns false (and counts the event) while the interval of the last line runs.
	bool admit(std::uint64_t now, std::uint64_t interval, std::uint64_t& held, std::uint64_t& since) noexcept
	{
		std::uint64_t next = _next.load(std::memory_order_relaxed);
		if (now >= next && _next.compare_exchange_strong(next, now + interval, std::memory_order_acq_rel))
		{
			held = _held.exchange(0, std::memory_order_acq_rel);
			const std::uint64_t last = _last.exchange(now, std::memory_order_relaxed);
			since = last == 0 ? interval : now - last;
			return true;
		}
		_held.fetch_add(1, std::memory_order_acq_rel);
		return false;
	}

	/// Returns the count held back (and starts a new interval) if there is one and the interval
	/// of the last line is over, or `force` is set; else 0. `since` as for admit().
	std::uint64_t takeHeld(std::uint64_t now, std::uint64_t interval, bool force, std::uint64_t& since) noexcept
	{
		if (_held.load(std::memory_order_relaxed) == 0) return 0;
		std::uint64_t next = _next.load(std::memory_order_relaxed);
		if (!force && (now < next || !_next.compare_exchange_strong(next, now + interval, std::memory_order_acq_rel)))
			return 0;
		const std::uint64_t held = _held.exchange(0, std::memory_order_acq_rel);
		const std::uint64_t last = _last.exchange(now, std::memory_order_relaxed);
		since = last == 0 ? interval : now - last;
		return held;
	}

private:
	std::atomic<std::uint64_t> _next{0};   ///< the first time the next line may go out
	std::atomic<std::uint64_t> _held{0};   ///< events held back since the last line
	std::atomic<std::uint64_t> _last{0};   ///< when the last line went out (0: never)
};

/// The host's limiters, one per kind (kinds are small numbers chosen by the caller), all with
/// the same interval (logging.rate_limit_ms; 0 lets every line through).
class LogLimits
{
public:
	/// `describe(kind)` names a kind in the lines flush() writes ("handshakes refused with 404");
	/// `priority(kind)` is the level they are written at.
	LogLimits(Poco::Logger& logger, std::size_t kinds, std::uint64_t intervalMs,
		std::function<std::string(std::size_t)> describe, std::function<Poco::Message::Priority(std::size_t)> priority)
		: _logger(logger), _kinds(kinds), _interval(intervalMs), _limiters(new LogLimiter[kinds]),
		  _describe(std::move(describe)), _priority(std::move(priority))
	{
	}

	std::uint64_t interval() const noexcept { return _interval; }

	/// Writes the line `make()` returns at `prio` unless the limiter of `kind` holds it back (then
	/// it only counts it: the next line of that kind ends with "(N more in the last S s)").
	/// Formats nothing when the logger is off at `prio` or the line is held back.
	template <class Make>
	void log(std::size_t kind, Poco::Message::Priority prio, std::uint64_t now, Make&& make)
	{
		if (!_logger.is(prio)) return;
		std::uint64_t held = 0;
		std::uint64_t since = 0;
		if (_interval != 0 && !_limiters[kind].admit(now, _interval, held, since)) return;
		std::string line = make();
		if (held != 0) line += " (" + heldText(held, since) + ")";
		_logger.log(Poco::Message(_logger.name(), line, prio));
	}

	/// Writes "<kind>: N more in the last S s" for each kind whose interval is over with events
	/// held back (every kind that holds some, if `force`: at the end, so no count is lost).
	void flush(std::uint64_t now, bool force)
	{
		for (std::size_t kind = 0; kind < _kinds; ++kind)
		{
			std::uint64_t since = 0;
			if (const std::uint64_t held = _limiters[kind].takeHeld(now, _interval, force, since))
				_logger.log(Poco::Message(_logger.name(), _describe(kind) + ": " + heldText(held, since), _priority(kind)));
		}
	}

	/// "N more in the last S s" (S rounded to whole seconds, at least 1).
	static std::string heldText(std::uint64_t held, std::uint64_t sinceMs)
	{
		const std::uint64_t seconds = sinceMs < 1500 ? 1 : (sinceMs + 500) / 1000;
		return std::to_string(held) + " more in the last " + std::to_string(seconds) + " s";
	}

private:
	Poco::Logger& _logger;
	const std::size_t _kinds;
	const std::uint64_t _interval;
	std::unique_ptr<LogLimiter[]> _limiters;
	std::function<std::string(std::size_t)> _describe;
	std::function<Poco::Message::Priority(std::size_t)> _priority;
};

} // namespace host
} // namespace parley

#endif
