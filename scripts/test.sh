#!/usr/bin/env bash
# Every test: set up, build (Release, warnings as errors), run the whole suite with ctest.
# Then builds with ASan+UBSan into build-asan and runs the suite again (PARLEY_SANITIZE_SUITE=0 skips that).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${PARLEY_BUILD_DIR:-$root/build}"

"$root/scripts/setup.sh"
"$root/scripts/build.sh"
(cd "$build" && ctest --output-on-failure --timeout 900)

if [ "${PARLEY_SANITIZE_SUITE:-1}" = "1" ]; then
  asan="$root/build-asan"
  PARLEY_BUILD_DIR="$asan" PARLEY_BUILD_TYPE=RelWithDebInfo "$root/scripts/build.sh" -DPARLEY_SANITIZE=ON
  (cd "$asan" && ctest --output-on-failure --timeout 1800)
fi
