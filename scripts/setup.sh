#!/usr/bin/env bash
# Installs the Debian 12 packages Parley needs (only those missing), using sudo when not root.
set -euo pipefail

packages=(
  g++ cmake make pkg-config
  libpoco-dev libcppunit-dev libwxgtk3.2-dev
  python3 python3-websocket python3-websockets python3-prometheus-client
  xvfb xauth
  libssl-dev openssl
  zlib1g-dev
  chromium
  dpkg-dev lintian systemd  # the package test: dpkg-shlibdeps for cpack, lintian, systemd-analyze
  redis-server haproxy  # the scale-out tests start their own, on free loopback ports
)
# Node's ws client in the TLS tests: Debian's nodejs and npm, unless a node is already there
# (a NodeSource nodejs brings its own npm and conflicts with Debian's npm package).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
if [ "${PARLEY_SETUP_EXTRA:-}" != "" ]; then
  # e.g. PARLEY_SETUP_EXTRA="clang libclang-rt-14-dev" for the fuzz target
  read -r -a extra <<<"$PARLEY_SETUP_EXTRA"
  packages+=("${extra[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# The packages' own services (redis-server on 6379, haproxy with /etc/haproxy/haproxy.cfg) are
# not used by Parley or its tests: when this script installed them and systemd runs, stop and
# disable them, so that nothing listens that nobody asked for.
services=()
for p in redis-server haproxy; do
  if [[ " ${missing[*]} " == *" $p "* ]]; then services+=("$p.service"); fi
done
if [ ${#services[@]} -gt 0 ] && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now --quiet "${services[@]}" >/dev/null 2>&1 || true
fi
