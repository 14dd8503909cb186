#!/usr/bin/env bash
# Builds the Debian packages in an existing build tree (cpack -G DEB) and checks them:
#   - exactly parley-host and parley-gui (the latter only where the GUI is built);
#   - parley-host's file list: parley-host and parley-client, exactly the bundled plugins in
#     /usr/lib/parley/plugins, the configuration in /etc/parley, the systemd unit, the
#     documentation, the SDK; its control data: conffiles = /etc/parley/*.properties, maintainer
#     scripts, dependencies (no wxWidgets);
#   - parley-gui's files (parley-gui, its documentation) and dependencies (parley-host, wx);
#   - lintian reports no error;
#   - the unit passes systemd-analyze verify, and security --offline scores its exposure at most
#     2.0 (skipped, with a line saying so, without systemd);
#   - unpacked with dpkg-deb -x into a temporary root, the host from it starts with the packaged
#     configuration and plugins, answers WebSocket messages (the packaged parley-client and
#     python3-websocket) and /health, /plugins on its operator port, and stops with exit 0.
# Usage: scripts/test-package.sh [BUILD_DIR]   (default: $PARLEY_BUILD_DIR or build/)
# ctest runs it as the test "package"; scripts/package.sh runs it on its own Release tree.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-${PARLEY_BUILD_DIR:-$root/build}}" && pwd)"
python=/usr/bin/python3

say() { echo "test-package: $*"; }
fail() {
  echo "test-package: FAIL: $*" >&2
  exit 1
}

tmp="$(mktemp -d)"
host_pid=""
cleanup() {
  if [ -n "$host_pid" ] && kill -0 "$host_pid" 2>/dev/null; then kill -KILL "$host_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- build ---------------------------------------------------------------------------------------
[ -f "$build/CPackConfig.cmake" ] || fail "$build has no CPackConfig.cmake (configure it first)"
rm -f "$build"/package/*.deb
start=$(date +%s)
if ! (cd "$build" && cpack -G DEB >"$tmp/cpack.log" 2>&1); then
  cat "$tmp/cpack.log" >&2
  fail "cpack -G DEB failed"
fi
# parley-host, and parley-gui where the GUI is built; nothing else.
expected=(parley-host)
[ -x "$build/bin/parley-gui" ] && expected+=(parley-gui)
built="$(cd "$build/package" && ls -- *.deb 2>/dev/null | sed 's/_.*//' | sort | tr '\n' ' ')"
[ "$built" = "$(printf '%s\n' "${expected[@]}" | sort | tr '\n' ' ')" ] ||
  fail "expected the packages ${expected[*]} in $build/package, found: $built"
deb="$(ls "$build"/package/parley-host_*.deb)"
version="$(dpkg-deb -f "$deb" Version)"
say "built $(cd "$build/package" && ls -- *.deb | tr '\n' ' ')in $(($(date +%s) - start)) s"

# Lists one package's entries (without trailing /) into $tmp/$name.files, its regular files into
# $tmp/$name.regular.
list() {
  dpkg-deb -c "$1" >"$tmp/$2.listing"
  awk '{print $NF}' "$tmp/$2.listing" | sed 's#^\./#/#; s#/$##' | grep -v '^$' | sort >"$tmp/$2.files"
  awk '$1 ~ /^-/ {print $NF}' "$tmp/$2.listing" | sed 's#^\./#/#' | sort >"$tmp/$2.regular"
}

# --- parley-host: file list ----------------------------------------------------------------------
list "$deb" host
has() { grep -qx -- "$1" "$tmp/host.files" || fail "parley-host lacks $1"; }
# Exactly these programs in /usr/bin.
diff <(printf '/usr/bin/%s\n' parley-client parley-host) <(grep '^/usr/bin/' "$tmp/host.files") >/dev/null ||
  fail "parley-host's /usr/bin holds $(grep '^/usr/bin/' "$tmp/host.files" | tr '\n' ' '), expected parley-client parley-host"
has /lib/systemd/system/parley-host.service
has /etc/parley/parley-host.properties
has /etc/parley/parley-client.properties
has /usr/share/doc/parley-host/copyright
has /usr/share/doc/parley-host/changelog.Debian.gz
has /usr/include/parley/Responder.h
has /usr/lib/cmake/Parley/ParleyConfig.cmake
has /usr/lib/cmake/Parley/ParleyTargets.cmake
has /usr/lib/libparley-core.a
has /usr/share/parley/plugin-template/CMakeLists.txt
# The plugin folder holds exactly the bundled plugins: one per folder of plugins/ (the test
# plugins of tests/testplugins must not be there).
(cd "$root/plugins" && for d in */; do [ -f "$d/CMakeLists.txt" ] && echo "/usr/lib/parley/plugins/${d%/}.so"; done) | sort >"$tmp/plugins.expected"
grep '^/usr/lib/parley/plugins/.' "$tmp/host.files" >"$tmp/plugins.packaged" || true
diff -u "$tmp/plugins.expected" "$tmp/plugins.packaged" >&2 ||
  fail "/usr/lib/parley/plugins does not hold exactly the bundled plugins (- expected, + packaged)"
# No file of a plain install's layout leaks in (<prefix>/etc, /usr/local).
if grep -E '^/usr/(etc|local)(/|$)' "$tmp/host.files"; then fail "files under /usr/etc or /usr/local"; fi
say "parley-host file list ok: $(wc -l <"$tmp/host.files") entries, $(wc -l <"$tmp/plugins.packaged") plugins"

# --- parley-host: control data -------------------------------------------------------------------
dpkg-deb -e "$deb" "$tmp/control"
# conffiles: every file under /etc in the package, and nothing else.
grep '^/etc/' "$tmp/host.regular" >"$tmp/etc.files" || true
[ -f "$tmp/control/conffiles" ] || fail "no conffiles in the control archive"
sort "$tmp/control/conffiles" | diff -u "$tmp/etc.files" - >&2 ||
  fail "conffiles (+) differ from the files under /etc (-)"
grep -qx '/etc/parley/parley-host.properties' "$tmp/control/conffiles" || fail "conffiles lack /etc/parley/parley-host.properties"
for s in postinst prerm postrm; do
  [ -x "$tmp/control/$s" ] || fail "no executable $s in the control archive"
  sh -n "$tmp/control/$s" || fail "$s is not valid sh"
done
grep -q 'adduser --system' "$tmp/control/postinst" || fail "postinst does not create the service user"
depends="$(dpkg-deb -f "$deb" Depends)"
for d in adduser libc6 libpoco; do
  [[ "$depends" == *"$d"* ]] || fail "parley-host's Depends lacks $d: $depends"
done
# A server needs no GUI libraries.
[[ "$depends" != *libwx* ]] || fail "parley-host depends on wxWidgets: $depends"
say "parley-host control ok: conffiles $(tr '\n' ' ' <"$tmp/control/conffiles")"
say "parley-host Depends: $depends"

# --- parley-gui ----------------------------------------------------------------------------------
gui_deb=""
if [ -x "$build/bin/parley-gui" ]; then
  gui_deb="$(ls "$build"/package/parley-gui_*.deb)"
  list "$gui_deb" gui
  printf '%s\n' /usr/bin/parley-gui /usr/share/doc/parley-gui/changelog.Debian.gz /usr/share/doc/parley-gui/copyright |
    diff -u - "$tmp/gui.regular" >&2 || fail "parley-gui holds other files than expected (- expected, + packaged)"
  gui_depends="$(dpkg-deb -f "$gui_deb" Depends)"
  [[ "$gui_depends" == *"parley-host (= $version)"* ]] || fail "parley-gui does not depend on parley-host (= $version): $gui_depends"
  [[ "$gui_depends" == *libwxgtk* ]] || fail "parley-gui's Depends lacks wxWidgets: $gui_depends"
  say "parley-gui ok; Depends: $gui_depends"
fi

# --- lintian -------------------------------------------------------------------------------------
command -v lintian >/dev/null || fail "lintian is not installed (scripts/setup.sh installs it)"
lintian --fail-on error --allow-root "$deb" $gui_deb >"$tmp/lintian.log" 2>&1 || lintian_rc=$?
sed 's/^/  lintian: /' "$tmp/lintian.log"
[ "${lintian_rc:-0}" -eq 0 ] || fail "lintian reports errors (exit ${lintian_rc})"
if grep -q '^E: ' "$tmp/lintian.log"; then fail "lintian reports errors"; fi
say "lintian: $(grep -c '^E: ' "$tmp/lintian.log" || true) errors, $(grep -c '^W: ' "$tmp/lintian.log" || true) warnings"

# --- unpack --------------------------------------------------------------------------------------
unpacked="$tmp/root"
dpkg-deb -x "$deb" "$unpacked"
[ -z "$gui_deb" ] || dpkg-deb -x "$gui_deb" "$unpacked"

# --- systemd unit --------------------------------------------------------------------------------
unit="$unpacked/lib/systemd/system/parley-host.service"
grep -qx 'ExecStart=/usr/bin/parley-host --config=/etc/parley/parley-host.properties' "$unit" ||
  fail "the unit's ExecStart is not /usr/bin/parley-host --config=/etc/parley/parley-host.properties"
if command -v systemd-analyze >/dev/null; then
  # verify wants ExecStart's program to exist: check a copy that points into the unpacked tree.
  mkdir "$tmp/unit"
  sed "s#^ExecStart=/usr/bin/parley-host #ExecStart=$unpacked/usr/bin/parley-host #" "$unit" >"$tmp/unit/parley-host.service"
  grep -q "^ExecStart=$unpacked/usr/bin/parley-host " "$tmp/unit/parley-host.service" || fail "could not point the unit copy at the unpacked host"
  # verify exits 0 even for unknown keys and bad values: any output is a failure too.
  if ! systemd-analyze verify "$tmp/unit/parley-host.service" >"$tmp/verify.log" 2>&1 || [ -s "$tmp/verify.log" ]; then
    cat "$tmp/verify.log" >&2
    fail "systemd-analyze verify reports problems in the unit"
  fi
  say "systemd-analyze verify: unit ok"
  # The sandboxing stays on: systemd's exposure score (0 = locked down, 10 = none) at most 2.0.
  if ! systemd-analyze security --offline=true --threshold=20 "$tmp/unit/parley-host.service" >"$tmp/security.log" 2>&1; then
    cat "$tmp/security.log" >&2
    fail "systemd-analyze security: the unit's exposure is above 2.0"
  fi
  say "systemd-analyze security: $(grep -o 'Overall exposure level for [^:]*: [0-9.]* [A-Z]*' "$tmp/security.log")"
else
  say "SKIP systemd-analyze verify: systemd-analyze is not installed (Debian package systemd)"
fi

# --- the unpacked host ---------------------------------------------------------------------------
# The packaged configuration as is (plugins.dir empty = <bin>/../lib/parley/plugins, inside the
# unpacked tree); only the ports come from the command line.
"$unpacked/usr/bin/parley-host" --config="$unpacked/etc/parley/parley-host.properties" --port=0 --admin-port=0 \
  >"$tmp/host.log" 2>&1 &
host_pid=$!
for _ in $(seq 1 300); do
  grep -q 'operator endpoints on http://' "$tmp/host.log" && break
  kill -0 "$host_pid" 2>/dev/null || break
  sleep 0.1
done
listening="$(grep -o 'listening on ws://[^ ]*' "$tmp/host.log" | head -1 || true)"
operator="$(grep -o 'operator endpoints on http://[0-9.]*:[0-9]*' "$tmp/host.log" | head -1 || true)"
if [ -z "$listening" ] || [ -z "$operator" ]; then
  cat "$tmp/host.log" >&2
  fail "the unpacked host did not start (no 'listening on' and 'operator endpoints' line)"
fi
port="${listening##*:}"
admin="${operator##*:}"
say "unpacked host: ws port $port, operator port $admin"
if grep -E '\[(Error|Critical|Fatal)\]' "$tmp/host.log" >&2; then fail "the unpacked host logged errors"; fi

# The packaged console client with the packaged client configuration.
client_out="$("$unpacked/usr/bin/parley-client" --config="$unpacked/etc/parley/parley-client.properties" \
  --url="ws://127.0.0.1:$port/ws" --count=100 --expect=random-suffix 2>&1)" ||
  fail "the packaged parley-client failed: $client_out"
[[ "$client_out" == *"verified=100 "* ]] || fail "parley-client did not verify 100 replies: $client_out"
say "parley-client: $(echo "$client_out" | tail -1)"

# A third-party client on /echo, and the operator port.
PORT="$port" ADMIN="$admin" PLUGINS="$unpacked/usr/lib/parley/plugins/" "$python" - <<'EOF' || fail "the unpacked host did not answer"
import json, os, sys, urllib.request
import websocket

port, admin, plugin_dir = os.environ["PORT"], os.environ["ADMIN"], os.environ["PLUGINS"]
ws = websocket.create_connection(f"ws://127.0.0.1:{port}/echo", timeout=5)
ws.send("hello from the package")
reply = ws.recv()
ws.close()
if reply != "hello from the package":
    sys.exit(f"/echo replied {reply!r}")
with urllib.request.urlopen(f"http://127.0.0.1:{admin}/health", timeout=5) as r:
    health = json.load(r)
if r.status != 200 or health.get("status") != "ok":
    sys.exit(f"/health: {r.status} {health}")
with urllib.request.urlopen(f"http://127.0.0.1:{admin}/plugins", timeout=5) as r:
    plugins = json.load(r)
items = plugins if isinstance(plugins, list) else plugins.get("plugins", [])
files = sorted(p["file"] for p in items)
outside = [f for f in files if not f.startswith(plugin_dir)]
if not files or outside:
    sys.exit(f"/plugins lists {files}; expected every plugin under {plugin_dir}")
print(f"test-package: /echo answered, /health ok, /plugins: {len(files)} plugins from the unpacked tree")
EOF

kill -TERM "$host_pid"
# Wait up to 30 s for it to exit (a zombie: state Z in /proc/<pid>/stat, until wait reaps it).
for _ in $(seq 1 300); do
  state=""
  read -r _ _ state _ 2>/dev/null <"/proc/$host_pid/stat" || true
  [ -z "$state" ] || [ "$state" = Z ] && break
  sleep 0.1
done
[ -z "$state" ] || [ "$state" = Z ] || fail "the unpacked host still runs 30 s after SIGTERM"
host_rc=0
wait "$host_pid" || host_rc=$?
host_pid=""
[ "$host_rc" -eq 0 ] || {
  cat "$tmp/host.log" >&2
  fail "the unpacked host exited $host_rc after SIGTERM"
}
say "ok ($(($(date +%s) - start)) s)"
