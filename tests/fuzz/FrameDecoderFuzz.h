//
// FrameDecoderFuzz.h — the decoder fuzz body shared by the libFuzzer target and the corpus replay.
//
#ifndef PARLEY_TESTS_FRAMEDECODERFUZZ_INCLUDED
#define PARLEY_TESTS_FRAMEDECODERFUZZ_INCLUDED

#include <cstddef>
#include <cstdint>

/// Drives FrameDecoder (both roles) over data: byte 0 picks the size limit and the split pattern,
/// the rest is the wire stream. Aborts on any broken invariant; returns 0.
int parleyFuzzDecode(const std::uint8_t* data, std::size_t size);

#endif
