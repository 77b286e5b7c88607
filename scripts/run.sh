#!/usr/bin/env bash
# One command from a fresh machine: installs what is missing, builds, and starts the server with
# its defaults (WebSocket API on 127.0.0.1:8188, HTTP API and web demo on http://127.0.0.1:8088/).
# Extra arguments go to the server, e.g. scripts/run.sh --log-level debug
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
exec build/junction "$@"
