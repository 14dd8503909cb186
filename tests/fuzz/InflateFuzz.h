//
// InflateFuzz.h — the inflate fuzz body shared by the libFuzzer target and the corpus replay.
//
#ifndef PARLEY_TESTS_INFLATEFUZZ_INCLUDED
#define PARLEY_TESTS_INFLATEFUZZ_INCLUDED

#include <cstddef>
#include <cstdint>

/// Drives MessageInflater over data: byte 0 picks the size limit, context takeover and window
/// bits, the rest is a sequence of compressed message payloads separated by "|PMD|". Aborts on
/// any broken invariant; returns 0.
int parleyFuzzInflate(const std::uint8_t* data, std::size_t size);

#endif
