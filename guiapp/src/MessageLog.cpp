//
// MessageLog.cpp
//
#include "MessageLog.h"
#include "PayloadFormat.h"
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace parley {
namespace gui {

namespace {

char lower(char c)
{
	return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool containsIgnoreCase(const std::string& haystack, const std::string& lowerNeedle)
{
	if (lowerNeedle.empty()) return true;
	const auto it = std::search(haystack.begin(), haystack.end(), lowerNeedle.begin(), lowerNeedle.end(),
		[](char a, char b) { return lower(a) == b; });
	return it != haystack.end();
}

void appendJsonString(std::string& out, const std::string& text)
{
	out += '"';
	for (const char ch : text)
	{
		const auto c = static_cast<unsigned char>(ch);
		switch (c)
		{
		case '"': out += "\\\""; break;
		case '\\': out += "\\\\"; break;
		case '\n': out += "\\n"; break;
		case '\r': out += "\\r"; break;
		case '\t': out += "\\t"; break;
		default:
			if (c < 0x20)
			{
				char buf[8];
				std::snprintf(buf, sizeof buf, "\\u%04x", c);
				out += buf;
			}
			else
			{
				out += ch;
			}
		}
	}
	out += '"';
}

std::string isoTime(std::chrono::system_clock::time_point time)
{
	const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
	const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
	std::tm tm{};
	gmtime_r(&seconds, &tm);
	char buf[64];
	std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
	return buf;
}

} // namespace

const char* toString(LogOrigin origin)
{
	switch (origin)
	{
	case LogOrigin::Sent: return "sent";
	case LogOrigin::Received: return "received";
	case LogOrigin::Local: return "local";
	}
	return "?";
}

const char* toString(LogKind kind)
{
	switch (kind)
	{
	case LogKind::Text: return "text";
	case LogKind::Binary: return "binary";
	case LogKind::Ping: return "ping";
	case LogKind::Pong: return "pong";
	case LogKind::Close: return "close";
	case LogKind::Info: return "info";
	case LogKind::Error: return "error";
	}
	return "?";
}

LogEntry LogEntry::fromFrame(const client::FrameRecord& frame)
{
	LogEntry entry;
	entry.time = frame.time;
	entry.origin = frame.direction == client::Direction::Sent ? LogOrigin::Sent : LogOrigin::Received;
	switch (frame.kind)
	{
	case client::FrameKind::Text: entry.kind = LogKind::Text; break;
	case client::FrameKind::Binary: entry.kind = LogKind::Binary; break;
	case client::FrameKind::Ping: entry.kind = LogKind::Ping; break;
	case client::FrameKind::Pong: entry.kind = LogKind::Pong; break;
	case client::FrameKind::Close: entry.kind = LogKind::Close; break;
	}
	entry.payload = frame.payload;
	entry.closeCode = frame.closeCode;
	entry.compressed = frame.compressed;
	entry.wireSize = frame.wireSize;
	return entry;
}

LogEntry LogEntry::local(LogKind kind, std::string message)
{
	LogEntry entry;
	entry.time = std::chrono::system_clock::now();
	entry.origin = LogOrigin::Local;
	entry.kind = kind;
	entry.payload = std::move(message);
	return entry;
}

std::string LogEntry::timeText() const
{
	const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
	const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
	std::tm tm{};
	localtime_r(&seconds, &tm);
	char buf[32];
	std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
	return buf;
}

std::string LogEntry::wireText() const
{
	if (!compressed) return {};
	return "deflate " + groupDigits(wireSize) + " B";
}

std::string LogEntry::preview(std::size_t maxChars) const
{
	switch (kind)
	{
	case LogKind::Binary:
		return toHex(payload, maxChars / 3);
	case LogKind::Close:
		return closeCode ? describeClose(closeCode, previewText(payload, maxChars)) : previewText(payload, maxChars);
	case LogKind::Ping:
	case LogKind::Pong:
		return isUtf8(payload) ? previewText(payload, maxChars) : toHex(payload, maxChars / 3);
	default:
		return previewText(payload, maxChars);
	}
}

std::string LogEntry::details(std::size_t maxBytes) const
{
	std::string out;
	if (kind == LogKind::Close)
	{
		out = closeCode ? describeClose(closeCode, {}) : std::string("no status code");
		out += "\nreason: ";
		out += payload.empty() ? "(none)" : payload;
		return out;
	}
	if (kind == LogKind::Binary || !isUtf8(payload))
		return hexDump(payload, maxBytes);
	if (payload.size() <= maxBytes)
		return payload;
	std::size_t cut = maxBytes;
	while (cut > 0 && (static_cast<unsigned char>(payload[cut]) & 0xC0) == 0x80) --cut;
	out = payload.substr(0, cut);
	out += "\n\n… " + groupDigits(payload.size() - cut) + " more bytes not shown (Export writes them all)";
	return out;
}

MessageLog::MessageLog(std::size_t capacity):
	_capacity(capacity ? capacity : 1)
{
}

bool MessageLog::append(LogEntry entry)
{
	if (_entries.size() == _capacity)
	{
		_entries.pop_front();
		if (!_visible.empty() && _visible.front() == _firstId) _visible.pop_front();
		++_firstId;
		++_dropped;
	}
	const bool shown = matches(entry);
	_entries.push_back(std::move(entry));
	if (shown) _visible.push_back(_firstId + _entries.size() - 1);
	return shown;
}

void MessageLog::clear()
{
	_firstId += _entries.size();
	_entries.clear();
	_visible.clear();
}

void MessageLog::setFilter(LogFilter filter, std::string search)
{
	_filter = filter;
	std::transform(search.begin(), search.end(), search.begin(), lower);
	_search = std::move(search);
	_visible.clear();
	for (std::size_t i = 0; i < _entries.size(); ++i)
	{
		if (matches(_entries[i])) _visible.push_back(_firstId + i);
	}
}

const LogEntry& MessageLog::visible(std::size_t row) const
{
	if (row >= _visible.size()) throw std::out_of_range("MessageLog::visible: row out of range");
	return _entries[static_cast<std::size_t>(_visible[row] - _firstId)];
}

std::uint64_t MessageLog::idAt(std::size_t row) const
{
	if (row >= _visible.size()) throw std::out_of_range("MessageLog::idAt: row out of range");
	return _visible[row];
}

long MessageLog::rowOf(std::uint64_t id) const
{
	const auto it = std::lower_bound(_visible.begin(), _visible.end(), id);
	if (it == _visible.end() || *it != id) return -1;
	return static_cast<long>(it - _visible.begin());
}

bool MessageLog::matches(const LogEntry& entry) const
{
	switch (_filter)
	{
	case LogFilter::All: break;
	case LogFilter::Sent:
		if (entry.origin != LogOrigin::Sent) return false;
		break;
	case LogFilter::Received:
		if (entry.origin != LogOrigin::Received) return false;
		break;
	case LogFilter::Control:
		if (!entry.isControl()) return false;
		break;
	}
	if (_search.empty()) return true;
	if (containsIgnoreCase(entry.payload, _search)) return true;
	return entry.kind == LogKind::Close && entry.closeCode && std::to_string(entry.closeCode).find(_search) != std::string::npos;
}

std::size_t MessageLog::exportJsonLines(std::ostream& out) const
{
	std::string line;
	for (std::size_t row = 0; row < _visible.size(); ++row)
	{
		const LogEntry& e = visible(row);
		line.clear();
		line += "{\"time\":\"" + isoTime(e.time) + "\",\"direction\":\"" + toString(e.origin) + "\",\"kind\":\"" +
			toString(e.kind) + "\",\"length\":" + std::to_string(e.payload.size());
		if (e.compressed) line += ",\"compressed\":true,\"wire\":" + std::to_string(e.wireSize);
		if (e.kind == LogKind::Close) line += ",\"code\":" + std::to_string(e.closeCode);
		if (e.kind != LogKind::Binary && isUtf8(e.payload))
		{
			line += ",\"text\":";
			appendJsonString(line, e.payload);
		}
		else
		{
			line += ",\"hex\":\"" + toHex(e.payload) + "\"";
		}
		line += "}\n";
		out << line;
	}
	return _visible.size();
}

std::size_t MessageLog::exportText(std::ostream& out) const
{
	for (std::size_t row = 0; row < _visible.size(); ++row)
	{
		const LogEntry& e = visible(row);
		out << isoTime(e.time) << "  " << toString(e.origin) << "  " << toString(e.kind) << "  " << e.payload.size() << " B";
		if (e.compressed) out << "  (deflate, " << e.wireSize << " B on the wire)";
		out << '\n';
		std::string body = e.details(std::string::npos);
		if (!body.empty() && body.back() != '\n') body += '\n';
		out << body << '\n';
	}
	return _visible.size();
}

} // namespace gui
} // namespace parley
