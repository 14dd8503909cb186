#!/usr/bin/env bash
# The compression benchmark: permessage-deflate on and off in parley-host, beside Node's ws with
# perMessageDeflate (../shared/bench/peers/node_ws_echo.js PORT deflate: level 1, no context
# takeover either way). Servers pinned to CPU 0, the load (bench/zload.cpp, which speaks deflate
# through Parley's codec and checks every reply) to CPU 1; servers interleaved in every repetition.
#
#   S3   100 connections x 10 in flight, 1 KiB messages
#   S4   1 connection x 16 in flight, 64 KiB messages
#   each with a compressible JSON-like message (json) and with random bytes (random)
#   I    memory per idle connection (2,000 connections, one message each, then idle), each on a
#        fresh host
#
# Servers: plain      parley /echo, deflate off
#          deflate    parley /zecho, deflate on, the shipped engine.deflate defaults (level 1, no
#                     server context takeover); the client keeps no context either (as ws's peer)
#          deflate-ck parley /zecho as deflate, the client keeping its context (the host's default
#                     answer to browsers): the host keeps an inflate window per connection (I only)
#          takeover   parley /zecho with engine.deflate.server_no_context_takeover = false; the
#                     client keeps its context too (what browsers do)
#          node       Node's ws, deflate
#
# Usage: bench/deflate.sh [--reps N] [--duration S] [--scenarios S3,S4,I]
# Writes build/bench-results/deflate-<date>.jsonl and prints medians and ratios.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${PARLEY_BUILD_DIR:-$root/build}"
out="$root/build/bench-results"
work="$build/bench-deflate"
reps=3
duration=3
scenarios="S3,S4,I"
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --scenarios) scenarios="$2"; shift 2 ;;
    *) echo "deflate.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

"$root/scripts/setup.sh"
"$root/scripts/build.sh"
mkdir -p "$out" "$work"
g++ -O2 -Wall -Wextra -std=c++17 -I"$root/core/include" "$root/bench/zload.cpp" "$build/lib/libparley-core.a" \
  -lPocoFoundation -lz -o "$work/zload"
# Node's ws, pinned by tests/node/package-lock.json.
if [ ! -f "$work/node/node_modules/ws/package.json" ]; then
  mkdir -p "$work/node"
  cp "$root/tests/node/package.json" "$root/tests/node/package-lock.json" "$work/node/"
  (cd "$work/node" && npm ci --no-audit --no-fund --ignore-scripts >npm.log 2>&1)
fi

{
  cat "$root/bench/parley-bench.properties"
  echo "route./zecho = echo"
  echo "route./zecho.deflate = on"
} >"$work/deflate.properties"
{
  cat "$work/deflate.properties"
  echo "engine.deflate.server_no_context_takeover = false"
} >"$work/takeover.properties"
ulimit -n "$(ulimit -Hn)"

results="$out/deflate-$(date +%F-%H%M).jsonl"
port=19330
pid=""
start_server() { # name
  port=$((port + 1))
  rm -f "$work/server.log"
  case "$1" in
    node)
      NODE_PATH="$work/node/node_modules" taskset -c 0 node "$root/../shared/bench/peers/node_ws_echo.js" "$port" deflate \
        >"$work/server.log" 2>&1 &
      pid=$!
      ready="listening on $port" ;;
    takeover)
      taskset -c 0 "$build/bin/parley-host" --config="$work/takeover.properties" --port="$port" >"$work/server.log" 2>&1 &
      pid=$!
      ready="listening on ws://127.0.0.1:$port " ;;
    *)
      taskset -c 0 "$build/bin/parley-host" --config="$work/deflate.properties" --port="$port" >"$work/server.log" 2>&1 &
      pid=$!
      ready="listening on ws://127.0.0.1:$port " ;;
  esac
  for _ in $(seq 1 100); do
    grep -q "$ready" "$work/server.log" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "deflate.sh: $1 did not start:" >&2; cat "$work/server.log" >&2; exit 1
}
stop_server() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
load_args() { # server -> zload arguments
  case "$1" in
    plain) echo "--path /echo" ;;
    deflate) echo "--path /zecho --deflate" ;;
    deflate-ck) echo "--path /zecho --deflate --client-takeover" ;;
    takeover) echo "--path /zecho --deflate --server-takeover --client-takeover" ;;
    node) echo "--path / --deflate" ;;
  esac
}
record() { # scenario server rep -- zload output on stdin
  local line
  line="$(grep '^RESULT ' | tail -1 | sed 's/^RESULT //')"
  if [ -z "$line" ]; then echo "deflate.sh: no result for $1 $2" >&2; return 1; fi
  echo "{\"scenario\":\"$1\",\"server\":\"$2\",\"rep\":$3,\"result\":$line}" >>"$results"
}

for rep in $(seq 1 "$reps"); do
  for scenario in ${scenarios//,/ }; do
    for server in plain deflate deflate-ck takeover node; do
      case "$scenario" in
        S3|S4)
          [ "$server" = deflate-ck ] && continue
          start_server "$server"
          for kind in json random; do
            if [ "$scenario" = S3 ]; then shape="--conns 100 --window 10 --size 1024"; else shape="--conns 1 --window 16 --size 65536"; fi
            # shellcheck disable=SC2046
            taskset -c 1 "$work/zload" --port "$port" $(load_args "$server") $shape --kind "$kind" \
              --duration "$duration" --pid "$pid" | record "$scenario-$kind" "$server" "$rep"
          done
          stop_server ;;
        I)
          [ "$server" = node ] && continue
          start_server "$server"
          # shellcheck disable=SC2046
          taskset -c 1 "$work/zload" --port "$port" $(load_args "$server") --idle 2000 --size 1024 --kind json \
            --pid "$pid" | record I "$server" "$rep"
          stop_server ;;
      esac
    done
  done
done

echo "results: $results"
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(xs):
    return statistics.median(xs) if xs else float("nan")
cells = {}
for r in rows:
    cells.setdefault((r["scenario"], r["server"]), []).append(r["result"])
servers = ["plain", "deflate", "deflate-ck", "takeover", "node"]
print("| scenario | server | msgs/s | payload MB/s | wire MB/s (in) | host µs/msg | load CPU s | host µs/msg ÷ plain | msgs/s ÷ node |")
print("|---|---|---|---|---|---|---|---|---|")
for scenario in sorted({s for s, _ in cells if s != "I"}):
    base = cells.get((scenario, "plain"), [])
    node = cells.get((scenario, "node"), [])
    base_us = med([x["server_us_per_msg"] for x in base])
    node_rate = med([x["msgs_per_s"] for x in node])
    for server in servers:
        xs = cells.get((scenario, server))
        if not xs:
            continue
        rate = med([x["msgs_per_s"] for x in xs])
        us = med([x["server_us_per_msg"] for x in xs])
        print(f"| {scenario} | {server} | {rate:,.0f} | {med([x['payload_MBps'] for x in xs]):.1f} | "
              f"{med([x['wire_MBps'] for x in xs]):.1f} | {us:.2f} | {med([x['client_cpu_s'] for x in xs]):.2f} | "
              f"{us / base_us:.2f} | {rate / node_rate:.1f} |")
idle = {s: med([x["bytes_per_conn"] for x in xs]) for (sc, s), xs in cells.items() if sc == "I"}
if idle:
    print()
    print("| idle connection (after one 1 KiB message) | bytes per connection |")
    print("|---|---|")
    for server in servers:
        if server in idle:
            print(f"| {server} | {idle[server]:,.0f} |")
PY
