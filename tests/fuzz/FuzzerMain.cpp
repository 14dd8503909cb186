//
// FuzzerMain.cpp — libFuzzer entry point for the decoder (built only with PARLEY_FUZZ and clang).
//
#include "FrameDecoderFuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
	return parleyFuzzDecode(data, size);
}
