#!/usr/bin/env bash
# Configures the clang sanitizer build tree: AddressSanitizer + UndefinedBehaviorSanitizer
# (+ LeakSanitizer at exit) and libFuzzer's coverage instrumentation on everything, the fuzz
# targets enabled and the tests registered. The fuzzers (scripts/fuzz.sh) and CI's sanitizer run
# (scripts/sanitize.sh --ci) share this tree, so the libraries both need are compiled once.
#
#   scripts/sanitizer_tree.sh <build-dir>
#
# Coverage instrumentation costs the server and unit tests little at run time (no fuzzer is
# linked into them; the sanitizer runtime provides the coverage hooks).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: $0 <build-dir>}

sanitize="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# As OSS-Fuzz builds: -O1 and line tables only (enough for symbolised stacks); about half the
# compile time of -O2 -g, and the fuzzers run nearly as fast.
optimise="-O1 -gline-tables-only -DNDEBUG"
generator=()
if [[ ! -f $build/CMakeCache.txt ]] && command -v ninja > /dev/null; then generator=(-G Ninja); fi
mkdir -p "$build"
# JUNCTION_WERROR off: clang may warn where g++ does not; the normal build is where warnings get
# fixed, and this tree must not break on them.
CC=clang CXX=clang++ cmake -S "$root" -B "$build" "${generator[@]}" \
  -DJUNCTION_FUZZ=ON -DBUILD_TESTING=ON -DJUNCTION_WERROR=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$optimise" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$optimise" \
  -DCMAKE_C_FLAGS="$sanitize" -DCMAKE_CXX_FLAGS="$sanitize" > "$build/configure.log" 2>&1 || {
  cat "$build/configure.log" >&2
  exit 1
}
