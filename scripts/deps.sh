#!/usr/bin/env bash
# Installs the Debian packages (and the npm package) that Junction's build and tests need.
# Idempotent: when everything is present it only runs dpkg-query and returns in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # build
  build-essential cmake pkg-config
  libuv1-dev libwebsockets-dev libssl-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libglib2.0-dev libnice-dev libsrtp2-dev libusrsctp-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev libopus-dev
  libcurl4-openssl-dev  # the load generator's HTTP client (tests/bench/loadgen)
  # tests
  libgtest-dev libgmock-dev clang libclang-rt-14-dev
  python3 python3-websockets python3-aiohttp python3-aiortc python3-numpy openssl
  chromium libjs-janus-gateway
  iproute2  # ip netns and veth for e2e_media.test_link_cut
)
# Node.js and npm: the machine's own when present (Debian's npm conflicts with a newer Node).
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# playwright-core drives Debian's chromium in the browser tests (never downloads a browser).
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  echo "deps: npm install (tests/e2e)"
  (cd tests/e2e && npm install --no-audit --no-fund --silent)
fi
