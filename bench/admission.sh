#!/usr/bin/env bash
# The admission benchmark: new connections per second (connect, upgrade, one echo, close
# handshake; 16 clients in a loop for 5 s, bench/edgeload.cpp) on one parley-host, alternating
#   none  /echo            no gate
#   jwt   /private         the bundled jwt gate (HS256, the token in access_token): the request
#                          goes to a worker thread and back before the 101
# Host pinned to CPU 0, load to CPU 1, --reps pairs (default 7); prints the medians, the ratio
# jwt/none and host CPU per new connection. Writes build/bench-results/admission-<date>.jsonl.
#
# Usage: bench/admission.sh [--reps N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${PARLEY_BUILD_DIR:-$root/build}"
out="$root/build/bench-results"
work="$build/bench-admission"
reps=7
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    *) echo "admission.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

"$root/scripts/setup.sh"
"$root/scripts/build.sh"
mkdir -p "$out" "$work"
g++ -O2 -Wall -Wextra -std=c++17 "$root/bench/edgeload.cpp" -lssl -lcrypto -o "$work/edgeload"
secret="bench-secret-0123456789abcdef0123"
{
  cat "$root/bench/parley-bench.properties"
  echo "route./private = echo"
  echo "route./private.gates = jwt"
  echo "plugin.jwt.secret = $secret"
} >"$work/host.properties"
token=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from jwt_token import make_token; print(make_token(sys.argv[2], "bench", 86400))' \
  "$root/tests/host/py" "$secret")
ulimit -n "$(ulimit -Hn)"

port=18990
taskset -c 0 "$build/bin/parley-host" --config="$work/host.properties" --port="$port" >"$work/host.log" 2>&1 &
host_pid=$!
trap 'kill $host_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$work/host.log" 2>/dev/null && break
  sleep 0.1
done

results="$out/admission-$(date +%F-%H%M).jsonl"
for rep in $(seq 1 "$reps"); do
  for variant in none jwt; do
    path=/echo
    [ "$variant" = jwt ] && path="/private?access_token=$token"
    line=$(taskset -c 1 "$work/edgeload" --url "ws://127.0.0.1:$port$path" --mode rate --conns 16 --duration 5 \
      --pid "$host_pid" | sed -n 's/^RESULT //p')
    echo "{\"variant\":\"$variant\",\"rep\":$rep,\"result\":$line}" >>"$results"
    echo "$variant rep $rep: $line"
  done
done

/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(variant, f):
    xs = [f(r["result"]) for r in rows if r["variant"] == variant and r["result"]["completed"]]
    return statistics.median(xs), len(xs)
print(f"\nresults: {sys.argv[1]}\n")
none, n = med("none", lambda r: r["per_s"])
jwt, _ = med("jwt", lambda r: r["per_s"])
cpu_none, _ = med("none", lambda r: r["server_cpu_s"] / r["completed"] * 1e6)
cpu_jwt, _ = med("jwt", lambda r: r["server_cpu_s"] / r["completed"] * 1e6)
failed = sum(r["result"]["failed"] for r in rows)
print("| variant | new connections/s (median of %d) | host CPU per connection |" % n)
print("|---|---|---|")
print(f"| no gate | {none:,.0f} | {cpu_none:.0f} us |")
print(f"| jwt gate | {jwt:,.0f} | {cpu_jwt:.0f} us |")
print(f"jwt/none: {jwt / none:.2f} (rate), {cpu_jwt / cpu_none:.2f} (host CPU per connection); failed connections: {failed}")
PY
