#!/usr/bin/env bash
# The edge benchmark: the same parley-host build over ws:// and over wss:// (TLS in the event
# loops), driven by the same load generators, interleaved, host pinned to CPU 0 and load to CPU 1.
#
#   T3  100 connections x 10 in flight, 32-byte messages (S3 through parley-client)
#   T4  1 connection, 64 KiB binary messages, 16 in flight (S4 through parley-client)
#   T5  10,000 idle connections held 5 s, then one message each: host bytes per connection
#   H   new connections per second (connect, TLS handshake, upgrade, one echo, close handshake),
#       16 clients in a loop for 5 s; H+T: the same beside 1,000 connections that trickle their
#       request head a byte every 2 s (and reconnect when the host drops them at its deadline);
#       H and H+T alternate, --hreps pairs per scheme (this VM's noise needs many)
#   P   a perf profile of the wss host during H: the share of its CPU spent in OpenSSL
#
# Usage: bench/edge.sh [--reps N] [--hreps N] [--scenarios T3,T4,T5,H,P]
# Writes build/bench-results/edge-<date>.jsonl and prints the medians and the wss/ws ratios.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${PARLEY_BUILD_DIR:-$root/build}"
out="$root/build/bench-results"
work="$build/bench-edge"
reps=3
hreps=7
scenarios="T3,T4,T5,H,P"
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --hreps) hreps="$2"; shift 2 ;;
    --scenarios) scenarios="$2"; shift 2 ;;
    *) echo "edge.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

"$root/scripts/setup.sh"
PARLEY_SETUP_EXTRA="linux-perf" "$root/scripts/setup.sh" || true
"$root/scripts/build.sh"
mkdir -p "$out" "$work"
g++ -O2 -Wall -Wextra -std=c++17 "$root/bench/edgeload.cpp" -lssl -lcrypto -o "$work/edgeload"

# An ECDSA P-256 certificate for 127.0.0.1, and the two host configurations (one loop each).
if [ ! -f "$work/cert.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -keyout "$work/key.pem" -out "$work/cert.pem" -subj "/CN=localhost" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
fi
cp "$root/bench/parley-bench.properties" "$work/ws.properties"
{
  cat "$root/bench/parley-bench.properties"
  echo "server.tls = true"
  echo "openSSL.server.certificateFile = $work/cert.pem"
  echo "openSSL.server.privateKeyFile = $work/key.pem"
} >"$work/wss.properties"
ulimit -n "$(ulimit -Hn)"

results="$out/edge-$(date +%F-%H%M).jsonl"
port=18930
host_pid=""
start_host() { # scheme
  port=$((port + 1))
  rm -f "$work/host.log"
  taskset -c 0 "$build/bin/parley-host" --config="$work/$1.properties" --port="$port" >"$work/host.log" 2>&1 &
  host_pid=$!
  for _ in $(seq 1 100); do
    grep -q "listening on $1://127.0.0.1:$port " "$work/host.log" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "edge.sh: the host did not start:" >&2; cat "$work/host.log" >&2; exit 1
}
stop_host() {
  if ! kill -0 "$host_pid" 2>/dev/null; then
    local status=0
    wait "$host_pid" 2>/dev/null || status=$?
    echo "edge.sh: the host ended by itself (status $status) before it was stopped:" >&2
    tail -5 "$work/host.log" >&2
    return 0
  fi
  kill -TERM "$host_pid" 2>/dev/null || true
  wait "$host_pid" 2>/dev/null || true
}
cpu_of() { # pid -> CPU seconds
  awk -v tck="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); split($0, f, " "); printf "%.3f", (f[12] + f[13]) / tck }' "/proc/$1/stat"
}
record() { # json
  echo "$1" >>"$results"
}
tls_args() { [ "$1" = wss ] && echo "--ca=$work/cert.pem" || true; }

client_run() { # scenario scheme rep args...
  local scenario="$1" scheme="$2" rep="$3"; shift 3
  start_host "$scheme"
  local before line after
  before=$(cpu_of "$host_pid")
  line=$(taskset -c 1 "$build/bin/parley-client" --url="$scheme://127.0.0.1:$port/echo" $(tls_args "$scheme") --expect=echo "$@" 2>&1 | tail -1) || true
  after=$(cpu_of "$host_pid")
  stop_host
  local rate elapsed verified
  rate=$(sed -n 's/.*rate=\([0-9]*\) msg\/s.*/\1/p' <<<"$line")
  elapsed=$(sed -n 's/.*elapsed=\([0-9.]*\)s.*/\1/p' <<<"$line")
  verified=$(sed -n 's/.*verified=\([0-9]*\).*/\1/p' <<<"$line")
  record "{\"scenario\":\"$scenario\",\"scheme\":\"$scheme\",\"rep\":$rep,\"msgs_per_s\":${rate:-0},\"elapsed_s\":${elapsed:-0},\"verified\":${verified:-0},\"server_cpu_s\":$(awk "BEGIN{print $after-$before}"),\"line\":\"$line\"}"
  echo "$scenario $scheme rep $rep: $line"
}

edge_run() { # scenario scheme rep edgeload-args...
  local scenario="$1" scheme="$2" rep="$3"; shift 3
  start_host "$scheme"
  local ca=""
  [ "$scheme" = wss ] && ca="--ca $work/cert.pem"
  local line
  line=$(taskset -c 1 "$work/edgeload" --url "$scheme://127.0.0.1:$port/echo" $ca --pid "$host_pid" "$@" | sed -n 's/^RESULT //p')
  stop_host
  record "{\"scenario\":\"$scenario\",\"scheme\":\"$scheme\",\"rep\":$rep,\"result\":$line}"
  echo "$scenario $scheme rep $rep: $line"
}

has() { [[ ",$scenarios," == *",$1,"* ]]; }
for rep in $(seq 1 "$reps"); do
  for scheme in ws wss; do
    has T3 && client_run T3 "$scheme" "$rep" --conns=100 --window=10 --count=$([ "$scheme" = ws ] && echo 4000000 || echo 2000000)
    has T4 && client_run T4 "$scheme" "$rep" --conns=1 --window=16 --size=65536 --binary --count=$([ "$scheme" = ws ] && echo 300000 || echo 150000)
    has T5 && edge_run T5 "$scheme" "$rep" --mode idle --conns 10000 --hold 5 --concurrency 64
  done
done
if has H; then
  for rep in $(seq 1 "$hreps"); do
    for scheme in ws wss; do
      edge_run H "$scheme" "$rep" --mode rate --conns 16 --duration 5
      edge_run H+T "$scheme" "$rep" --mode rate --conns 16 --duration 5 --trickle 1000
    done
  done
fi

if has P && command -v perf >/dev/null; then
  # Where the wss host's CPU goes while it takes new connections as fast as they come.
  start_host wss
  perf record -q -e cpu-clock -F 2000 -g -p "$host_pid" -o "$work/perf.data" -- sleep 8 >/dev/null 2>&1 &
  perf_pid=$!
  taskset -c 1 "$work/edgeload" --url "wss://127.0.0.1:$port/echo" --ca "$work/cert.pem" --mode rate --conns 16 --duration 8 >/dev/null
  wait "$perf_pid" || true
  stop_host
  perf report -i "$work/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -12 | tee "$work/perf-dso.txt"
  shares=$(awk '{ gsub("%", "", $1); printf "%s\"%s\":%s", (n++ ? "," : ""), $2, $1 }' "$work/perf-dso.txt")
  record "{\"scenario\":\"P\",\"scheme\":\"wss\",\"dso_share_percent\":{$shares}}"
fi

python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(xs):
    return statistics.median(xs) if xs else float("nan")
def get(scenario, scheme, key):
    out = []
    for r in rows:
        if r["scenario"] != scenario or r.get("scheme") != scheme:
            continue
        src = r.get("result", r)
        if key in src:
            out.append(src[key])
    return out
print(f"\nresults: {sys.argv[1]}\n")
print("| scenario | ws | wss | wss/ws |")
print("|---|---|---|---|")
for scenario, key, unit in [("T3", "msgs_per_s", "msgs/s"), ("T4", "msgs_per_s", "msgs/s"),
                            ("T5", "bytes_per_conn", "bytes/conn"), ("H", "per_s", "conns/s"), ("H+T", "per_s", "conns/s")]:
    ws, wss = med(get(scenario, "ws", key)), med(get(scenario, "wss", key))
    if ws == ws or wss == wss:
        print(f"| {scenario} {unit} | {ws:,.0f} | {wss:,.0f} | {wss / ws:.2f} |")
for scenario, key in [("T3", "msgs_per_s"), ("T4", "msgs_per_s")]:
    for scheme in ("ws", "wss"):
        per = [r["msgs_per_s"] * r["elapsed_s"] / r["server_cpu_s"] for r in rows
               if r["scenario"] == scenario and r.get("scheme") == scheme and r.get("server_cpu_s", 0) > 0]
        if per:
            print(f"{scenario} {scheme}: {med(per):,.0f} msgs per host CPU-second")
for scheme in ("ws", "wss"):
    h, ht = med(get("H", scheme, "per_s")), med(get("H+T", scheme, "per_s"))
    if h == h and ht == ht:
        print(f"{scheme}: {h:,.0f} new connections/s alone, {ht:,.0f} beside 1,000 trickling heads ({ht / h:.2f})")
    for scenario in ("H", "H+T"):
        cpu = [r["result"]["server_cpu_s"] / r["result"]["completed"] * 1e6 for r in rows
               if r["scenario"] == scenario and r.get("scheme") == scheme and r["result"]["completed"]]
        if cpu:
            print(f"{scheme} {scenario}: {med(cpu):.0f} us of host CPU per new connection ({len(cpu)} runs)")
for r in rows:
    if r["scenario"] == "P":
        print("wss host CPU by object during H (perf, cpu-clock):", r["dso_share_percent"])
PY
