#!/usr/bin/env bash
# Benchmarks parley-host against the peers of ../shared/bench in one interleaved run.
# Usage: bench/run.sh [--reps N] [--scenarios S1,S2L,S3,S4,S5] [--servers ...] [bench.py options]
# Writes build/bench-results/<date>.jsonl and prints the median table and the ratios to `limit`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kit="${PARLEY_BENCH_KIT:-$root/../shared/bench}"
build="${PARLEY_BUILD_DIR:-$root/build}"
out="$root/build/bench-results"

"$root/scripts/setup.sh"
PARLEY_SETUP_EXTRA="libboost-dev libwebsocketpp-dev" "$root/scripts/setup.sh"
"$root/scripts/build.sh"
make -s -C "$kit" BUILD="$build/bench-kit" >/dev/null
mkdir -p "$out"

host="$build/bin/parley-host --config=$root/bench/parley-bench.properties --port={port}"
servers="parley_echo,parley_rs,limit,limit16k,wspp"
scenarios="S1,S2L,S3,S4,S5"
reps=3
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --scenarios) scenarios="$2"; shift 2 ;;
    --servers) servers="$2"; shift 2 ;;
    *) extra+=("$1"); shift ;;   # passed on to bench.py, e.g. --extra-reps 0
  esac
done
results="$out/$(date +%F-%H%M).jsonl"
# (Not inline in ${...:-...}: the } of {port} would end the expansion.)
limit16k="limit16k=$build/bench-kit/limit_echo {port} 1 16384"
BENCH_BUILD="$build/bench-kit" BENCH_RESULTS="$out" \
EXTRA_SERVER="parley_echo=$host@/echo" EXTRA_SERVER2="parley_rs=$host@/ws" \
EXTRA_SERVER3="${EXTRA_SERVER3:-$limit16k}" \
  python3 "$kit/bench.py" --servers "$servers" --scenarios "$scenarios" --reps "$reps" --out "$results" "${extra[@]}"
python3 "$kit/bench.py" table "$results"
python3 "$kit/bench.py" summary "$results" --ref limit
echo "results: $results"
