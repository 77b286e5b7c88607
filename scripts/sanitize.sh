#!/usr/bin/env bash
# Builds Junction with AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer at exit):
# the CMake preset "asan", in build-asan/ (ASAN_BUILD_DIR to change), then runs the unit tests
# and the client tests named by a ctest regex against the sanitized server and plugins. A memory
# error or undefined behaviour aborts the process, and a leak at exit makes it exit non-zero,
# which the tests check (a clean SIGTERM exit is 0).
#
#   scripts/sanitize.sh [ctest-regex]
#
# Default regex: the unit tests plus the API, bad-input, admin, limits, permanent-room and echo
# media tests (the heavier media tests are too slow for CI under ASan on 2 cores; pass '.' to run all).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ASAN_BUILD_DIR:-$root/build-asan}
regex=${1:-'^([A-Z]|integration\.test_(api_flow|bad_input|admin|limits|videoroom_rooms)$|e2e_media\.test_echotest_media$)'}

cmake --preset asan -S "$root" -B "$build" > /dev/null
cmake --build "$build" -j "$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
ctest --output-on-failure --timeout 900 -E '^fuzz\.' -R "$regex"
