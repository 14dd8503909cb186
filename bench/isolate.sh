#!/usr/bin/env bash
# Isolated routes against the same chain in the host: wsload (../shared/bench) on /echo and /ws
# (random-suffix) and on the same chains with route.<path>.isolate = process, interleaved,
# the host (one event loop) and its isolated children pinned to CPU 0, wsload to CPU 1.
#
#   S1   1 connection, ping-pong (W=1)
#   S2L  1 connection, 1000 in flight
#   S3   100 connections x 10 in flight
#
# Host CPU per message counts the host and its children (/proc/<pid>/stat utime + stime before
# and after each run). Usage: bench/isolate.sh [--reps N] [--workers N] [--duration S]
# Writes bench/results/isolate-<date>.jsonl and prints the medians and isolated/in-process ratios.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${PARLEY_BUILD_DIR:-$root/build}"
work="$build/bench-isolate"
kit="$build/bench-kit"
reps=3
workers=1
duration=3
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    *) echo "isolate.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

mkdir -p "$work" "$root/bench/results"
[ -x "$kit/wsload" ] || make -C "$root/../shared/bench" BUILD="$kit" "$kit/wsload" >/dev/null
{
  cat "$root/bench/parley-bench.properties"
  echo "route./iecho = echo"
  echo "route./iecho.isolate = process"
  echo "route./iws = random-suffix"
  echo "route./iws.isolate = process"
  echo "plugins.isolated_workers = $workers"
  echo "plugins.watch = false"
} >"$work/host.properties"
ulimit -n "$(ulimit -Hn)"

results="$root/bench/results/isolate-$(date +%F-%H%M).jsonl"
port=19130
host_pid=""
start_host() {
  port=$((port + 1))
  rm -f "$work/host.log"
  taskset -c 0 "$build/bin/parley-host" --config="$work/host.properties" --port="$port" >"$work/host.log" 2>&1 &
  host_pid=$!
  for _ in $(seq 1 100); do
    grep -q "listening on ws://127.0.0.1:$port " "$work/host.log" 2>/dev/null && break
    sleep 0.05
  done
  grep -q "listening on ws://127.0.0.1:$port " "$work/host.log" || { echo "isolate.sh: the host did not start:" >&2; cat "$work/host.log" >&2; exit 1; }
  # The children start with the host: wait for them.
  for _ in $(seq 1 100); do
    [ "$(pgrep -c -P "$host_pid" || true)" -ge "$workers" ] && return 0
    sleep 0.05
  done
  echo "isolate.sh: the isolated children did not start" >&2; exit 1
}
stop_host() {
  kill -TERM "$host_pid" 2>/dev/null || true
  wait "$host_pid" 2>/dev/null || true
}
cpu_ticks() { # the host and its children: utime + stime in clock ticks
  local total=0 p
  for p in "$host_pid" $(pgrep -P "$host_pid" || true); do
    total=$((total + $(awk '{ sub(/.*\) /, ""); split($0, f, " "); print f[12] + f[13] }' "/proc/$p/stat")))
  done
  echo "$total"
}

scenario_args() {
  case "$1" in
    S1) echo "--conns 1 --window 1 --messages 1000000 --duration $duration" ;;
    S2L) echo "--conns 1 --window 1000 --messages 40000000 --duration $duration" ;;
    S3) echo "--conns 100 --window 10 --duration $duration" ;;
  esac
}

tck=$(getconf CLK_TCK)
for rep in $(seq 1 "$reps"); do
  for scenario in S1 S2L S3; do
    # Interleaved: each chain in the host, then isolated, alternating which goes first.
    routes="echo iecho ws iws"
    [ $((rep % 2)) -eq 0 ] && routes="iecho echo iws ws"
    for route in $routes; do
      start_host
      before=$(cpu_ticks)
      line=$(taskset -c 1 "$kit/wsload" --url "ws://127.0.0.1:$port/$route" $(scenario_args "$scenario") --quiet 2>&1 | sed -n 's/^RESULT //p' | tail -1)
      after=$(cpu_ticks)
      stop_host
      [ -n "$line" ] || line='{}'
      echo "{\"scenario\":\"$scenario\",\"route\":\"$route\",\"rep\":$rep,\"workers\":$workers,\"host_cpu_s\":$(awk "BEGIN{print ($after-$before)/$tck}"),\"wsload\":$line}" >>"$results"
      echo "$scenario /$route rep $rep: $(sed -n 's/.*"msgs_per_s":\([0-9.]*\).*"errors":\([0-9]*\).*/\1 msgs\/s, errors \2/p' <<<"$line"), host+children CPU $(awk "BEGIN{print ($after-$before)/$tck}") s"
    done
  done
done

python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def rate(r):
    w = r["wsload"]
    return float(w["msgs_per_s"]) if "msgs_per_s" in w else float("nan")
def msgs(r):
    return float(r["wsload"].get("received", 0))
def med(xs): return statistics.median(xs) if xs else float("nan")
print(f"{'scenario':8} {'chain':14} {'in host msgs/s':>15} {'isolated msgs/s':>16} {'ratio':>6} {'host CPU/msg in host':>21} {'isolated':>9} {'ratio':>6}")
for s in ("S1", "S2L", "S3"):
    for plain, iso, name in (("echo", "iecho", "echo"), ("ws", "iws", "random-suffix")):
        a = [r for r in rows if r["scenario"] == s and r["route"] == plain]
        b = [r for r in rows if r["scenario"] == s and r["route"] == iso]
        ra, rb = med([rate(r) for r in a]), med([rate(r) for r in b])
        ca = med([r["host_cpu_s"] / msgs(r) * 1e6 for r in a if msgs(r) > 0])
        cb = med([r["host_cpu_s"] / msgs(r) * 1e6 for r in b if msgs(r) > 0])
        print(f"{s:8} {name:14} {ra:15,.0f} {rb:16,.0f} {rb / ra:6.2f} {ca:19.2f}us {cb:7.2f}us {cb / ca:6.2f}")
PY
echo "raw data: $results"
