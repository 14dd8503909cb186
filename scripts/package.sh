#!/usr/bin/env bash
# Builds the Debian package from scratch: a Release build (no tests) for prefix /usr into
# ${PARLEY_PACKAGE_DIR:-build-package}, with Debian's hardening flags (dpkg-buildflags), then
# cpack -G DEB and the package checks of scripts/test-package.sh. Prints the .deb's path last.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${PARLEY_PACKAGE_DIR:-$root/build-package}"
cd "$root"

# Debian's flags (fortify, stack protector, relro, bindnow) without -g and -O2 (Release's -O3 stays).
export DEB_BUILD_MAINT_OPTIONS="hardening=+all"
export DEB_CXXFLAGS_MAINT_STRIP="-g -O2"
CPPFLAGS="$(dpkg-buildflags --get CPPFLAGS)"
CXXFLAGS="$(dpkg-buildflags --get CXXFLAGS) $CPPFLAGS"
LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
export CXXFLAGS LDFLAGS

# lib, not Debian's multiarch lib/<triplet>: the plugins belong in /usr/lib/parley/plugins.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPARLEY_BUILD_TESTS=OFF \
  -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
cmake --build "$build" -j"$(nproc)"
"$root/scripts/test-package.sh" "$build"
ls "$build"/package/*.deb
