#!/usr/bin/env bash
# The memory half of the resilience benchmark (issue 10): a server's resident memory before, at
# the peak of and after a burst of large messages, parley-host beside the peers of ../shared/bench
# in the same run.
#
# For each server, interleaved (the order rotates every repetition), a fresh process pinned to
# CPU 0, the client (bench/burst.py, /usr/bin/python3) on CPU 1:
#   1. one connection echoes one small message (warm-up); 0.5 s later VmRSS = before
#   2. burst: 8 connections at once, each sends 2 binary messages of 16,000,000 bytes and reads
#      both echoes back (every byte compared with what it sent)
#   3. VmHWM = peak; the clients close; 10 s later VmRSS = after; the server is stopped
# A server that refuses or fails the burst is recorded with ok=false and the reason.
#
# Servers: parley (route /echo, plugin echo, bench/parley-bench.properties: one event loop,
# plugins.dir = the build's plugins), limit, wspp, beast, poco (the kit's peers, one thread where
# they take a thread count; poco is thread per connection).
#
# Usage: bench/memory.sh [--reps N] [--servers parley,limit,wspp,beast,poco] [--conns N]
#                        [--msgs N] [--size BYTES] [--quiet S] [--no-build]
# Writes bench/results/memory-<date>-<HHMM>.jsonl and prints the median table.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kit="${PARLEY_BENCH_KIT:-$root/../shared/bench}"
build="${PARLEY_BUILD_DIR:-$root/build}"
work="$build/bench-memory"
reps=3
servers="parley,limit,wspp,beast,poco"
conns=8
msgs=2
size=16000000
quiet=10
do_build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --servers) servers="$2"; shift 2 ;;
    --conns) conns="$2"; shift 2 ;;
    --msgs) msgs="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --quiet) quiet="$2"; shift 2 ;;
    --no-build) do_build=0; shift ;;
    *) echo "memory.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

if [ "$do_build" = 1 ]; then
  "$root/scripts/setup.sh"
  PARLEY_SETUP_EXTRA="libboost-dev libwebsocketpp-dev libpoco-dev" "$root/scripts/setup.sh"
  "$root/scripts/build.sh"
fi
make -s -C "$kit" BUILD="$build/bench-kit" >/dev/null
mkdir -p "$work" "$root/bench/results"

{
  cat "$root/bench/parley-bench.properties"
  echo "plugins.dir = $build/lib/parley/plugins"
  echo "plugins.watch = false"
} >"$work/parley.properties"

results="$root/bench/results/memory-$(date -u +%F-%H%M).jsonl"
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
server_cmd() { # name port -> the command line and the WebSocket path, one per line
  case "$1" in
    parley) echo "$build/bin/parley-host --config=$work/parley.properties --port=$2"; echo /echo ;;
    limit) echo "$build/bench-kit/limit_echo $2 1"; echo / ;;
    wspp) echo "$build/bench-kit/wspp_echo $2"; echo / ;;
    beast) echo "$build/bench-kit/beast_echo $2 1"; echo / ;;
    poco) echo "$build/bench-kit/poco_echo $2"; echo / ;;
    *) echo "memory.sh: unknown server $1" >&2; exit 2 ;;
  esac
}

run_one() { # server rep
  local name="$1" rep="$2" port cmd path pid line status=""
  port=$(free_port)
  { read -r cmd; read -r path; } < <(server_cmd "$name" "$port")
  taskset -c 0 $cmd >"$work/$name.log" 2>&1 &
  pid=$!
  line=$(taskset -c 1 /usr/bin/python3 "$root/bench/burst.py" --port "$port" --pid "$pid" --path "$path" \
    --conns "$conns" --msgs "$msgs" --size "$size" --quiet "$quiet") || true
  [ -n "$line" ] || line='{"before_kb":null,"peak_kb":null,"after_kb":null,"ok":false,"error":"burst.py printed nothing"}'
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  else
    wait "$pid" 2>/dev/null || status=$?
    line=$(/usr/bin/python3 -c 'import json, sys
r = json.loads(sys.argv[1]); r["ok"] = False
r["error"] = ((r["error"] + "; ") if r["error"] else "") + "the server ended by itself (status " + sys.argv[2] + "): " + sys.argv[3]
print(json.dumps(r))' "$line" "${status:-?}" "$(tail -3 "$work/$name.log" | tr '\n' ' ')")
  fi
  /usr/bin/python3 -c 'import json, sys
r = {"server": sys.argv[1], "rep": int(sys.argv[2])}
r.update(json.loads(sys.argv[3]))
r.update({"conns": int(sys.argv[4]), "msgs": int(sys.argv[5]), "size": int(sys.argv[6]), "quiet_s": float(sys.argv[7]), "command": sys.argv[8]})
print(json.dumps(r))' "$name" "$rep" "$line" "$conns" "$msgs" "$size" "$quiet" "$cmd" >>"$results"
  echo "$name rep $rep: $line"
}

IFS=, read -r -a list <<<"$servers"
n=${#list[@]}
for rep in $(seq 1 "$reps"); do
  for i in $(seq 0 $((n - 1))); do
    run_one "${list[$(((i + rep - 1) % n))]}" "$rep"
  done
done

/usr/bin/python3 - "$results" "$servers" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
order = sys.argv[2].split(",")
print(f"\nresults: {sys.argv[1]}\n")
print("| server | ok runs | before MiB | peak MiB | after MiB | (after - before) / (peak - before) |")
print("|---|---|---|---|---|---|")
for name in order:
    mine = [r for r in rows if r["server"] == name]
    good = [r for r in mine if r["ok"]]
    if not good:
        print(f"| {name} | 0/{len(mine)} | failed: {mine[0]['error'] if mine else 'not run'} | | | |")
        continue
    med = lambda k: statistics.median(r[k] for r in good) / 1024
    share = statistics.median((r["after_kb"] - r["before_kb"]) / (r["peak_kb"] - r["before_kb"])
                              for r in good if r["peak_kb"] > r["before_kb"])
    print(f"| {name} | {len(good)}/{len(mine)} | {med('before_kb'):.1f} | {med('peak_kb'):.1f} | "
          f"{med('after_kb'):.1f} | {share:.2f} |")
for r in rows:
    if not r["ok"]:
        print(f"failed: {r['server']} rep {r['rep']}: {r['error']}")
PY
