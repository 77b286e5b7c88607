#!/usr/bin/env bash
# One command from a fresh machine: installs what is missing, builds, and runs the whole test
# suite (unit tests, integration tests with Python clients, browser tests with Chromium) via ctest.
# Extra arguments go to ctest, e.g. scripts/test.sh -R integration
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
cd build
ctest --output-on-failure --timeout 600 "$@"
