#!/usr/bin/env bash
# Counts the host's instructions per message with callgrind: the CPU-independent figure to track
# the hot path by (the machines are shared and noisy, instruction counts are not).
# Usage: bench/instructions.sh [ROUTE ...]      (default: /echo /ws; needs a Release build in build/)
# For each route: two runs of parley-host under callgrind, driven by wsload over one connection
# with 1000 messages in flight, one with MESSAGES and one with BASE messages of SIZE bytes; the
# difference divided by (MESSAGES - BASE) leaves start-up, handshake and shutdown out.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kit="${PARLEY_BENCH_KIT:-$root/../shared/bench}"
build="${PARLEY_BUILD_DIR:-$root/build}"
messages="${MESSAGES:-200000}"
base="${BASE:-20000}"
size="${SIZE:-32}"
window="${WINDOW:-1000}"
binary="${BINARY:+--binary}"
port="${PORT:-18931}"
routes=("$@")
[ ${#routes[@]} -eq 0 ] && routes=(/echo /ws)

command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 1; }
[ -x "$build/bin/parley-host" ] || { echo "instructions.sh: no $build/bin/parley-host (run scripts/build.sh)" >&2; exit 1; }
make -s -C "$kit" BUILD="$build/bench-kit" "$build/bench-kit/wsload" >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Prints the instructions the host executed while serving $2 messages on route $1.
count() {
  local route="$1" n="$2" log="$work/callgrind.log" pid
  valgrind --tool=callgrind --callgrind-out-file="$work/out.%p" --log-file="$log" \
    "$build/bin/parley-host" --config="$root/bench/parley-bench.properties" --port="$port" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  "$build/bench-kit/wsload" --url "ws://127.0.0.1:$port$route" --conns 1 --window "$window" $binary \
    --messages "$n" --size "$size" --quiet >/dev/null
  kill -TERM "$pid"
  wait "$pid" || true
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log"
}

for route in "${routes[@]}"; do
  small=$(count "$route" "$base")
  large=$(count "$route" "$messages")
  echo "$route: $(( (large - small) / (messages - base) )) instructions per $size-byte message" \
    "(callgrind, $messages vs $base messages, window $window)"
done
