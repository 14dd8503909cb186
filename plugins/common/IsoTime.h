//
// IsoTime.h — the current time as ISO 8601 UTC with milliseconds, for the bundled plugins.
//
#ifndef PARLEY_PLUGINS_ISOTIME_INCLUDED
#define PARLEY_PLUGINS_ISOTIME_INCLUDED

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace parley {
namespace plugins {

/// Returns e.g. "2026-11-26T01:02:03.456Z".
inline std::string isoTimeUtc()
{
	const auto t = std::chrono::system_clock::now();
	const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
	const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
	std::tm utc{};
	gmtime_r(&seconds, &utc);
	char text[32];
	const std::size_t n = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
	char out[40];
	std::snprintf(out, sizeof(out), "%.*s.%03dZ", static_cast<int>(n), text, static_cast<int>(ms));
	return out;
}

} // namespace plugins
} // namespace parley

#endif
