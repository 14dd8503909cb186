//
// FuzzerMain.cpp — libFuzzer entry point (built only with PARLEY_FUZZ and clang): the decoder, or
// the body PARLEY_FUZZ_BODY names (parleyFuzzInflate).
//
#include "FrameDecoderFuzz.h"
#include "InflateFuzz.h"

#ifndef PARLEY_FUZZ_BODY
#define PARLEY_FUZZ_BODY parleyFuzzDecode
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
	return PARLEY_FUZZ_BODY(data, size);
}
