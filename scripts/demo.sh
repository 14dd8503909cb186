#!/usr/bin/env bash
# The main job: set up, build, start parley-host with the default configuration, run
# parley-client's verified 10,000-message exchange against it, stop the host.
# Exits 0 only if every reply was verified.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${PARLEY_BUILD_DIR:-$root/build}"
port="${PARLEY_PORT:-8080}"

"$root/scripts/setup.sh"
"$root/scripts/build.sh"

log="$(mktemp -t parley-host.XXXXXX.log)"
"$build/bin/parley-host" --config="$root/etc/parley-host.properties" --port="$port" >"$log" 2>&1 &
host=$!
stop_host() {
  if kill -0 "$host" 2>/dev/null; then
    kill -TERM "$host" 2>/dev/null || true
    wait "$host" 2>/dev/null || true
  fi
}
trap stop_host EXIT

for _ in $(seq 1 100); do
  if ! kill -0 "$host" 2>/dev/null; then
    echo "demo: parley-host did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    break
  fi
  sleep 0.1
done
head -n 20 "$log"

status=0
"$build/bin/parley-client" --url="ws://127.0.0.1:$port/ws" --count=10000 --expect=random-suffix || status=$?
stop_host
trap - EXIT
rm -f "$log"
exit "$status"
