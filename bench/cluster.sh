#!/usr/bin/env bash
# Cross-host fan-out (issue 14, "Scale-out"): a chat room (route /chat = broadcast) of 300 clients
# spread over three parley-hosts joined by the cluster bus (cluster.redis, Debian's redis-server),
# beside the same room on ONE host without Redis, in the same run.
#
# For each repetition, each mode and each setup (the order of the setups flips every repetition),
# fresh processes:
#   single   one parley-host, no Redis; all clients on it
#   cluster  redis-server (free port, --save '' --appendonly no) and three parley-hosts with
#            cluster.redis set; the clients connect to the hosts directly, round-robin (client i
#            to host i mod 3) — not through HAProxy: this measures the bus, not the proxy
# Modes: rate = every client sends 1 message per second (sends spread over the second);
#        fast = as fast as it goes, each client keeping at most W of its own messages in flight.
# Every host runs one event loop (engine.threads = 1). This machine has 2 cores: the hosts and
# redis-server share CPU 0, the load (bench/fanload.cpp, one thread) runs on CPU 1. The figure that
# matters is cost per delivered message, not speed-up: three hosts on one core cannot be faster.
#
# Measured between the first send and the end of the drain (by fanload): deliveries, latency,
# host CPU (utime + stime of every host, /proc/<pid>/stat), redis-server's CPU (its own column),
# and Redis's `INFO commandstats` calls (all commands, and PUBLISH alone).
#
# Usage: bench/cluster.sh [--reps N] [--conns N] [--duration S] [--window W] [--size B]
#                         [--modes rate,fast] [--wait-quiet S] [--host-cpus 0] [--load-cpus 1] [--no-build]
# Before each run it waits up to S seconds (default 5) for the rest of the machine to use less
# than 0.3 cores (this machine is shared); what others used during the run is in "other cores".
# Writes bench/results/cluster-<date>-<HHMM>.jsonl and prints the medians, the ratios and the
# issue's targets.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${PARLEY_BUILD_DIR:-$root/build}"
work="$build/bench-cluster"
reps=3
conns=300
duration=10
window=4
size=32
modes="rate,fast"
wait_quiet=5
host_cpus=0
load_cpus=1
do_build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --conns) conns="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --window) window="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    --wait-quiet) wait_quiet="$2"; shift 2 ;;
    --host-cpus) host_cpus="$2"; shift 2 ;;
    --load-cpus) load_cpus="$2"; shift 2 ;;
    --no-build) do_build=0; shift ;;
    *) echo "cluster.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

command -v redis-server >/dev/null || { echo "cluster.sh: redis-server is missing (apt-get install redis-server)" >&2; exit 1; }
if [ "$do_build" = 1 ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPARLEY_WERROR=ON >/dev/null
  cmake --build "$build" --target parley-host parley-plugins -j"$(nproc)" >/dev/null
fi
mkdir -p "$work" "$root/bench/results"
g++ -O2 -Wall -Wextra -std=c++17 "$root/bench/fanload.cpp" -o "$work/fanload"
ulimit -n "$(ulimit -Hn)"

base_config() {
  cat "$root/bench/parley-bench.properties"
  echo "route./chat = broadcast"
  echo "plugins.dir = $build/lib/parley/plugins"
  echo "plugins.watch = false"
}

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pids=()
stop_all() { # the last started first: the hosts before redis-server, so they do not see it go
  local i p
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    p=${pids[$i]}
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  pids=()
}
trap stop_all EXIT

started_port=""; started_pid=""
start_host() { # name config-file -> started_port, started_pid (and pids); 1 if it did not start
  local name="$1" config="$2" port pid
  port=$(free_port)
  taskset -c "$host_cpus" "$build/bin/parley-host" --config="$config" --port="$port" >"$work/$name.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    grep -q "listening on ws://127.0.0.1:$port " "$work/$name.log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if ! grep -q "listening on ws://127.0.0.1:$port " "$work/$name.log"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 1
  fi
  pids+=("$pid")
  started_port=$port; started_pid=$pid
}

start_redis() { # -> started_port, started_pid
  local port pid
  port=$(free_port)
  taskset -c "$host_cpus" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --logfile "$work/redis.log" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$port" ping 2>/dev/null || true)" = PONG ] && break
    sleep 0.05
  done
  [ "$(redis-cli -p "$port" ping 2>/dev/null || true)" = PONG ] || { echo "cluster.sh: redis-server did not start" >&2; exit 1; }
  pids+=("$pid")
  started_port=$port; started_pid=$pid
}

wait_quiet() { # up to $wait_quiet seconds, until the machine is nearly idle over half a second
  /usr/bin/python3 - "$wait_quiet" <<'PY'
import os, sys, time
def busy():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return sum(v) - v[3] - v[4]
deadline = time.monotonic() + float(sys.argv[1])
tick = os.sysconf("SC_CLK_TCK")
while time.monotonic() < deadline:
    b = busy(); time.sleep(0.5)
    if (busy() - b) / tick / 0.5 < 0.3:
        break
PY
}

results="$root/bench/results/cluster-$(date -u +%F-%H%M).jsonl"
run_one() { # setup mode rep
  local setup="$1" mode="$2" rep="$3" targets="" pidargs=() redisargs=() line rc=0 k
  if [ "$setup" = single ]; then
    base_config >"$work/single.properties"
    start_host single "$work/single.properties" || { echo "cluster.sh: the host did not start:" >&2; cat "$work/single.log" >&2; exit 1; }
    targets="127.0.0.1:$started_port"
    pidargs+=(--pid "host1=$started_pid")
  else
    local rport
    start_redis
    rport=$started_port
    redisargs=(--redis "127.0.0.1:$rport")
    pidargs+=(--pid "redis=$started_pid")
    for k in 1 2 3; do
      { base_config; echo "cluster.redis = 127.0.0.1:$rport"; echo "cluster.node = n$k"; } >"$work/n$k.properties"
      start_host "n$k" "$work/n$k.properties" || { echo "cluster.sh: host n$k did not start:" >&2; cat "$work/n$k.log" >&2; exit 1; }
      targets="$targets${targets:+,}127.0.0.1:$started_port"
      pidargs+=(--pid "host$k=$started_pid")
    done
  fi
  local modeargs=(--rate 1)
  [ "$mode" = fast ] && modeargs=(--window "$window")
  local load_before load_after
  wait_quiet
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  line=$(taskset -c "$load_cpus" "$work/fanload" --targets "$targets" --path /chat --conns "$conns" --duration "$duration" \
    --size "$size" "${modeargs[@]}" "${pidargs[@]}" "${redisargs[@]}" 2>"$work/fanload.err") || rc=$?
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  # Each cluster host's own view of the bus: the cluster lines of its /metrics (its admin port is
  # in its start-up line).
  local metrics="" aport
  if [ "$setup" = cluster ]; then
    for k in 1 2 3; do
      aport=$(sed -n 's|.*operator endpoints on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/n$k.log" | head -1)
      [ -n "$aport" ] || continue
      metrics="$metrics$(curl -s --max-time 2 "http://127.0.0.1:$aport/metrics" | grep -i '^parley_cluster' | sed "s/^/n$k /" || true)"$'\n'
    done
  fi
  stop_all
  local logs=("$work/single.log")
  [ "$setup" = single ] || logs=("$work/n1.log" "$work/n2.log" "$work/n3.log")
  local warnings
  warnings=$(grep -hE '\[(Warning|Error|Critical|Fatal)\]' "${logs[@]}" || true)
  [ -z "$warnings" ] || echo "  host warnings: $(wc -l <<<"$warnings") line(s), first: $(head -1 <<<"$warnings")"
  echo "$setup $mode rep $rep: $(grep -v '^RESULT' <<<"$line" | tr '\n' ' ')$(cat "$work/fanload.err")"
  line=$(sed -n 's/^RESULT //p' <<<"$line")
  [ -n "$line" ] || line='{}'
  /usr/bin/python3 -c 'import json, sys
r = {"setup": sys.argv[1], "mode": sys.argv[2], "rep": int(sys.argv[3]), "commit": sys.argv[4], "exit": int(sys.argv[5]),
     "loadavg_before": sys.argv[6], "loadavg_after": sys.argv[7], "fanload": json.loads(sys.argv[8]),
     "host_warnings": [l for l in sys.argv[9].split("\n") if l][:20],
     "cluster_metrics": [l for l in sys.argv[10].split("\n") if l]}
print(json.dumps(r))' "$setup" "$mode" "$rep" "$(git -C "$root" rev-parse --short HEAD)" "$rc" \
    "$load_before" "$load_after" "$line" "$warnings" "$metrics" >>"$results"
}

IFS=, read -r -a mode_list <<<"$modes"
for rep in $(seq 1 "$reps"); do
  for mode in "${mode_list[@]}"; do
    if [ $((rep % 2)) -eq 1 ]; then order="single cluster"; else order="cluster single"; fi
    for setup in $order; do run_one "$setup" "$mode" "$rep"; done
  done
done

/usr/bin/python3 - "$results" "$modes" "$host_cpus" "$load_cpus" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
modes = sys.argv[2].split(",")
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None
def host_cpu(f):
    return sum(v for k, v in f.get("cpu_s", {}).items() if k.startswith("host"))
def per_delivery_us(cpu, f):
    return cpu / f["delivered"] * 1e6 if f.get("delivered") else None
def fmt(v, spec):
    return "-" if v is None else format(v, spec)
cells = {}
print(f"\nresults: {sys.argv[1]}")
print(f"hosts and redis-server on CPU {sys.argv[3]}, fanload on CPU {sys.argv[4]}; medians of {max(r['rep'] for r in rows)} reps; lost/dup/out of order summed over them\n")
quiet = [r for r in rows if r["setup"] == "cluster" and r["fanload"] and r["fanload"].get("redis_calls", 0) == 0]
if quiet:
    print(f"NOTE: Redis saw no command in {len(quiet)} cluster run(s): this build has no cluster bus (or it is off), so those rows count local deliveries only\n")
print("| mode | setup | runs ok | sent/s | delivered msgs/s | p50 | p99 | max | p99 read | cross-host p50 / p99 | lost | dup | out of order | host CPU µs/delivery | redis CPU µs/delivery | redis cmds/broadcast | PUBLISH/broadcast | load avg | other cores |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for mode in modes:
    for setup in ("single", "cluster"):
        rs = [r for r in rows if r["mode"] == mode and r["setup"] == setup and r["fanload"]]
        if not rs:
            continue
        fs = [r["fanload"] for r in rs]
        c = {
            "sent_per_s": med([f["sent_per_s"] for f in fs]),
            "delivered_per_s": med([f["delivered_per_s"] for f in fs]),
            "rp50": med([f["remote_p50_us"] for f in fs if f.get("delivered_remote")]),
            "rp99": med([f["remote_p99_us"] for f in fs if f.get("delivered_remote")]),
            "p50": med([f["p50_us"] for f in fs]),
            "rdp99": med([f.get("read_p99_us") for f in fs]), "p99": med([f["p99_us"] for f in fs]), "max": med([f["max_us"] for f in fs]),
            "lost": sum(f["lost"] for f in fs), "dup": sum(f["duplicated"] for f in fs), "ooo": sum(f["out_of_order"] for f in fs),
            "host": med([per_delivery_us(host_cpu(f), f) for f in fs]),
            "redis": med([per_delivery_us(f["cpu_s"]["redis"], f) for f in fs if "redis" in f.get("cpu_s", {})]),
            "cmds": med([f["redis_calls"] / f["sent"] for f in fs if "redis_calls" in f and f["sent"]]),
            "pub": med([f.get("redis_commands", {}).get("publish", 0) / f["sent"] for f in fs if "redis_calls" in f and f["sent"]]),
            "load": med([float(r["loadavg_before"].split()[0]) for r in rs]),
            "other": med([f.get("other_cores") for f in fs]),
            "bus": setup == "single" or any(f.get("redis_calls", 0) > 0 for f in fs),
        }
        cells[(mode, setup)] = c
        ok = sum(1 for r in rs if r["exit"] == 0)
        print(f"| {mode} | {setup} | {ok}/{len(rs)} | {fmt(c['sent_per_s'], ',.0f')} | {fmt(c['delivered_per_s'], ',.0f')} | "
              f"{fmt(c['p50'] and c['p50'] / 1e3, '.2f')} ms | {fmt(c['p99'] and c['p99'] / 1e3, '.2f')} ms | {fmt(c['max'] and c['max'] / 1e3, '.1f')} ms | {fmt(c['rdp99'] and c['rdp99'] / 1e3, '.2f')} ms | "
              f"{fmt(c['rp50'] and c['rp50'] / 1e3, '.2f')} / {fmt(c['rp99'] and c['rp99'] / 1e3, '.2f')} ms | "
              f"{c['lost']} | {c['dup']} | {c['ooo']} | {fmt(c['host'], '.3f')} | {fmt(c['redis'], '.3f')} | {fmt(c['cmds'], '.3f')} | {fmt(c['pub'], '.3f')} | {fmt(c['load'], '.2f')} | {fmt(c['other'], '.2f')} |")

print("\n| mode | cluster/single host CPU per delivery | (host + redis)/single | cluster/single delivered msgs/s |")
print("|---|---|---|---|")
for mode in modes:
    s, c = cells.get((mode, "single")), cells.get((mode, "cluster"))
    if not s or not c or not s["host"]:
        continue
    both = (c["host"] + (c["redis"] or 0)) / s["host"]
    print(f"| {mode} | {c['host'] / s['host']:.2f} | {both:.2f} | {c['delivered_per_s'] / s['delivered_per_s']:.2f} |")

print("\n| target (issue 14) | result | met? |")
print("|---|---|---|")
def verdict(ok, bus=True):
    if not bus:
        return "- (no bus traffic)"
    return "-" if ok is None else ("yes" if ok else "no")
for mode in modes:
    s, c = cells.get((mode, "single")), cells.get((mode, "cluster"))
    if s and c and s["host"] and c["host"]:
        r = c["host"] / s["host"]
        print(f"| bus adds <= 50% host CPU per delivered message ({mode}) | {r:.2f}x | {verdict(r <= 1.5, c['bus'])} |")
c = cells.get(("rate", "cluster"))
if c and c["p99"] is not None:
    print(f"| p99 < 10 ms at 1 msg/s per client | {c['p99'] / 1e3:.2f} ms | {verdict(c['p99'] < 10000, c['bus'])} |")
c = cells.get(("fast", "cluster"))
if c and c["cmds"] is not None:
    print(f"| Redis commands per broadcast <= 0.1 at full speed | {c['cmds']:.3f} (PUBLISH {c['pub']:.3f}) | {verdict(c['cmds'] <= 0.1, c['bus'])} |")
bad = [r for r in rows if r["exit"] != 0]
if bad:
    print(f"\n{len(bad)} run(s) failed (duplicates, order violations, malformed messages or closed connections): "
          + ", ".join(f"{r['setup']}/{r['mode']}/rep {r['rep']}" for r in bad))
PY
echo "raw data: $results"
