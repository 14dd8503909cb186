//
// MessageLog.h — the rows behind the message log: every frame sent or received plus local events
// (connected, errors, load runs), with the filter and search the log view applies. Plain C++, no
// wx: the virtual list asks it for rows by index.
//
#ifndef PARLEY_GUI_MESSAGELOG_INCLUDED
#define PARLEY_GUI_MESSAGELOG_INCLUDED

#include "parley/client/Session.h"
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <ostream>
#include <string>

namespace parley {
namespace gui {

/// Who a row comes from: a frame we sent, a frame we received, or something that happened here.
enum class LogOrigin : std::uint8_t { Sent, Received, Local };

/// What a row is: the five frame kinds, then local events.
enum class LogKind : std::uint8_t { Text, Binary, Ping, Pong, Close, Info, Error };

/// Which rows the view shows.
enum class LogFilter : std::uint8_t { All, Sent, Received, Control };

/// Returns "sent", "received", "local".
const char* toString(LogOrigin origin);
/// Returns "text", "binary", "ping", "pong", "close", "info", "error".
const char* toString(LogKind kind);

struct LogEntry
{
	std::chrono::system_clock::time_point time;
	LogOrigin origin = LogOrigin::Local;
	LogKind kind = LogKind::Info;
	std::string payload;          ///< the frame's payload; for Close the reason; for Info/Error the message
	std::uint16_t closeCode = 0;  ///< Close only
	bool compressed = false;      ///< Text/Binary: it went over the wire compressed (permessage-deflate)
	std::uint64_t wireSize = 0;   ///< payload bytes on the wire (after compression); frames only

	/// Returns the entry for a frame reported by the client session.
	static LogEntry fromFrame(const client::FrameRecord& frame);
	/// Returns a local event row (Info or Error) stamped now.
	static LogEntry local(LogKind kind, std::string message);

	/// Returns true for ping, pong and close.
	bool isControl() const noexcept { return kind == LogKind::Ping || kind == LogKind::Pong || kind == LogKind::Close; }
	/// Returns "HH:MM:SS.mmm" in local time.
	std::string timeText() const;
	/// Returns how the frame went over the wire: "deflate 312 B" for a compressed message, ""
	/// for anything else.
	std::string wireText() const;
	/// Returns the one-line preview shown in the log (text cut to maxChars, binary as hex).
	std::string preview(std::size_t maxChars = 200) const;
	/// Returns the whole payload for the detail pane: text as is, binary as a hex dump, close as
	/// code, name and reason. At most maxBytes bytes are shown.
	std::string details(std::size_t maxBytes) const;
};

class MessageLog
{
public:
	/// Keeps at most capacity entries; the oldest are dropped beyond that.
	explicit MessageLog(std::size_t capacity = 1000000);

	/// Adds a row. Returns true if it is shown under the current filter.
	bool append(LogEntry entry);
	/// Removes every row.
	void clear();
	/// Sets the filter and the search text (case-insensitive substring of the payload; "" = any)
	/// and recomputes the rows shown.
	void setFilter(LogFilter filter, std::string search);

	LogFilter filter() const noexcept { return _filter; }
	const std::string& search() const noexcept { return _search; }
	/// Returns the number of rows kept (shown or not).
	std::size_t size() const noexcept { return _entries.size(); }
	/// Returns the number of rows shown under the filter.
	std::size_t visibleCount() const noexcept { return _visible.size(); }
	/// Returns the shown row at index row (0 = oldest); row must be < visibleCount().
	const LogEntry& visible(std::size_t row) const;
	/// Returns the id of shown row `row` (ids stay with an entry while it is kept).
	std::uint64_t idAt(std::size_t row) const;
	/// Returns the shown row of the entry with that id, or -1 if it is not shown (or gone).
	long rowOf(std::uint64_t id) const;
	/// Returns the number of rows dropped because the log was full.
	std::uint64_t dropped() const noexcept { return _dropped; }
	/// Returns true if entry passes the current filter and search.
	bool matches(const LogEntry& entry) const;

	/// Writes the shown rows, one JSON object per line: time (ISO 8601 UTC), direction, kind,
	/// length, "compressed": true and "wire" (bytes on the wire) for a compressed message, "code"
	/// for close, then "text" (valid UTF-8) or "hex". Returns the number written.
	std::size_t exportJsonLines(std::ostream& out) const;
	/// Writes the shown rows as aligned plain text with the whole payload. Returns the number written.
	std::size_t exportText(std::ostream& out) const;

private:
	std::size_t _capacity;
	std::deque<LogEntry> _entries;
	std::uint64_t _firstId = 0;          ///< id of _entries.front()
	std::deque<std::uint64_t> _visible;  ///< ids of the rows shown, ascending
	std::uint64_t _dropped = 0;
	LogFilter _filter = LogFilter::All;
	std::string _search;                 ///< lower-case
};

} // namespace gui
} // namespace parley

#endif
