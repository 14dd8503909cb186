//
// ReplayMain.cpp — runs every file of the given corpus folders through parleyFuzzDecode (a plain
// program for ctest, no libFuzzer needed). Exits non-zero if a folder is missing or empty.
// Built once per fuzz body: PARLEY_FUZZ_BODY names another one (parleyFuzzInflate).
//
#include "FrameDecoderFuzz.h"
#include "InflateFuzz.h"
#include <Poco/DirectoryIterator.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>
#include <unistd.h>

#ifndef PARLEY_FUZZ_BODY
#define PARLEY_FUZZ_BODY parleyFuzzDecode
#endif

namespace {

/// The file being replayed, named on stderr if an invariant aborts.
char currentFile[4096] = "";

extern "C" void onAbort(int)
{
	const char prefix[] = "parley-fuzz-replay: invariant broken on input ";
	(void)!write(2, prefix, sizeof(prefix) - 1);
	(void)!write(2, currentFile, std::strlen(currentFile));
	(void)!write(2, "\n", 1);
	std::signal(SIGABRT, SIG_DFL);
	std::raise(SIGABRT);
}

bool replayFile(const std::string& path)
{
	std::ifstream in(path, std::ios::binary);
	if (!in)
	{
		std::fprintf(stderr, "parley-fuzz-replay: cannot read %s\n", path.c_str());
		return false;
	}
	const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	std::strncpy(currentFile, path.c_str(), sizeof(currentFile) - 1);
	PARLEY_FUZZ_BODY(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
	return true;
}

} // namespace

int main(int argc, char** argv)
{
	if (argc < 2)
	{
		std::fprintf(stderr, "usage: parley-fuzz-replay CORPUS-DIR-OR-FILE...\n");
		return 2;
	}
	std::signal(SIGABRT, onAbort);
	std::size_t files = 0;
	for (int i = 1; i < argc; ++i)
	{
		const std::string arg = argv[i];
		try
		{
			Poco::File f(arg);
			if (f.isFile())
			{
				if (!replayFile(arg))
					return 1;
				++files;
				continue;
			}
			for (Poco::DirectoryIterator it(f), end; it != end; ++it)
			{
				if (!it->isFile())
					continue;
				if (!replayFile(it->path()))
					return 1;
				++files;
			}
		}
		catch (const Poco::Exception& e)
		{
			std::fprintf(stderr, "parley-fuzz-replay: %s: %s\n", arg.c_str(), e.displayText().c_str());
			return 1;
		}
	}
	if (files == 0)
	{
		std::fprintf(stderr, "parley-fuzz-replay: no input files\n");
		return 1;
	}
	std::printf("parley-fuzz-replay: %zu inputs, all invariants held\n", files);
	return 0;
}
