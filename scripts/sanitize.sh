#!/usr/bin/env bash
# Runs Junction's tests against AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer at
# exit) builds. A memory error or undefined behaviour aborts the process, and a leak at exit makes
# it exit non-zero, which the tests check (a clean SIGTERM exit is 0).
#
#   scripts/sanitize.sh [ctest-regex]   by hand: the CMake preset "asan" (g++, -O0) in build-asan/
#                                       (ASAN_BUILD_DIR to change), everything built, then ctest
#   scripts/sanitize.sh --ci            CI (the ctest sanitize.smoke): the clang sanitizer tree
#                                       that the fuzzers share (scripts/sanitizer_tree.sh; in CI
#                                       <build>/sanitize), only the server, plugins and unit tests
#                                       built; the unit tests, then the client tests in $ci_regex
#
# Default regex by hand: the unit tests plus the API, bad-input, admin, limits, permanent-room and
# echo media tests (pass '.' to run all).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# The client tests CI runs against the sanitized server: the most code per second. API flow and
# bad input cover the JSON API, the router and both transports (WebSocket, HTTP); lifecycle
# SIGTERM with clients connected; echotest media a whole WebRTC call (ICE, DTLS, SRTP, RTP/RTCP,
# an aiortc peer); data channels SCTP and DCEP; the text room a plugin over data channels with
# bad input; the video room an SFU with publishers and subscribers coming and going. Left out:
# admin (~40 s here; the admin_request fuzzer runs the admin router under the same sanitizers),
# limits (its timings do not hold under ASan on 2 cores), the long media and fault tests.
# About 2.5 min on the 2-core machine.
ci_regex='^(integration\.test_(api_flow|bad_input|lifecycle)|e2e_media\.test_(echotest_media|datachannel_echo|textroom|videoroom))$'

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [[ ${1:-} == --ci ]]; then
  build=${ASAN_BUILD_DIR:-$root/build-sanitize}
  echo "== configuring $build"
  "$root/scripts/sanitizer_tree.sh" "$build"
  echo "== building the server, its plugins and the unit tests"
  start=$SECONDS
  cmake --build "$build" -j "$(nproc)" --target junction junction_plugins udp_flood unit_tests
  echo "== built in $((SECONDS - start)) s"
  start=$SECONDS
  echo "== unit tests"
  # One process for all of them (ctest would start one per test, each paying ASan's start-up).
  "$build/unit_tests" --gtest_brief=1
  echo "== unit tests: $((SECONDS - start)) s"
  start=$SECONDS
  cd "$build"
  ctest --output-on-failure --timeout 300 -R "$ci_regex"
  echo "== client tests: $((SECONDS - start)) s"
  exit 0
fi

build=${ASAN_BUILD_DIR:-$root/build-asan}
regex=${1:-'^([A-Z]|integration\.test_(api_flow|bad_input|admin|limits|videoroom_rooms)$|e2e_media\.test_echotest_media$)'}
cmake --preset asan -S "$root" -B "$build" -DBUILD_TESTING=ON > /dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure --timeout 900 -E '^(fuzz|sanitize)\.' -R "$regex"
