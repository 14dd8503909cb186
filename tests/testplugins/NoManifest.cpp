//
// NoManifest.cpp — a shared library that is not a Parley plugin (no manifest, no version).
//
extern "C" __attribute__((visibility("default"))) int parleyTestNotAPlugin()
{
	return 42;
}
