//
// PayloadFormat.h — text helpers for showing payloads: hex in and out, one-line previews, close
// code names. Plain C++, no wx, so the tests can check them directly.
//
#ifndef PARLEY_GUI_PAYLOADFORMAT_INCLUDED
#define PARLEY_GUI_PAYLOADFORMAT_INCLUDED

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley {
namespace gui {

/// Returns the bytes as lower-case hex pairs separated by single spaces ("01 a2 ff"); at most
/// maxBytes bytes, then " …" if there were more.
std::string toHex(std::string_view data, std::size_t maxBytes = std::string::npos);

/// Returns a classic hex dump: offset, 16 bytes in hex, the printable ASCII; at most maxBytes
/// bytes, then a line saying how many were left out.
std::string hexDump(std::string_view data, std::size_t maxBytes = std::string::npos);

/// Parses hex typed by a person: pairs of hex digits, with any whitespace, ':', ',', '-' between
/// bytes and an optional "0x" before each byte. Returns false and sets error to one line
/// (naming the position) for anything else or an odd digit count; never throws.
bool parseHex(std::string_view text, std::string& out, std::string& error);

/// Returns true if data is well-formed UTF-8.
bool isUtf8(std::string_view data);

/// Returns one line for a log row: control characters shown as symbols (⏎ for new line),
/// cut to at most maxChars characters with "…". Invalid UTF-8 is shown as hex.
std::string previewText(std::string_view text, std::size_t maxChars);

/// Returns the registered name of a close code ("Normal closure", "Protocol error", ...), or ""
/// if the code has none.
const char* closeCodeName(std::uint16_t code);

/// Returns "1000 Normal closure" (or just the number for an unnamed code) plus ": reason" when
/// the reason is not empty.
std::string describeClose(std::uint16_t code, std::string_view reason);

/// Returns n with thousands separators: 10000 -> "10,000".
std::string groupDigits(std::uint64_t n);

} // namespace gui
} // namespace parley

#endif
