#!/usr/bin/env bash
# Configures and builds Parley (Release) into ${PARLEY_BUILD_DIR:-build}. Extra arguments go to cmake.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${PARLEY_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${PARLEY_BUILD_TYPE:-Release}" -DPARLEY_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
