#!/usr/bin/env bash
# The long run of the churn test, which the default suite runs short (RELIABILITY.md): the
# issue's 1,000 cycles (CHURN_CYCLES) with 300 of warm-up before the baseline (CHURN_WARMUP: the
# allocator's warm-up, see test_churn.py), against the server in build/ (JUNCTION_BINARY to use
# another, e.g. build-asan/junction for LeakSanitizer at exit). About 10-15 min on 2 loaded
# cores. Prints threads, fds and RSS at the start, after the warm-up, every 100 cycles and at the
# end, and exits non-zero when they are not back within 5 % or more than 1 cycle in 50 failed.
#
#   scripts/soak.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export JUNCTION_BINARY=${JUNCTION_BINARY:-$root/build/junction}
export CHURN_CYCLES=${CHURN_CYCLES:-1000}
export CHURN_WARMUP=${CHURN_WARMUP:-300}
if [[ ! -x $JUNCTION_BINARY ]]; then
  echo "no server at $JUNCTION_BINARY: build it (scripts/build.sh) or set JUNCTION_BINARY" >&2
  exit 1
fi
cd "$root/tests/e2e_media"
exec timeout 3600 /usr/bin/python3 -m unittest -v test_churn
