#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) in build-fuzz/ with clang and runs each one for a
# given time, starting from a copy of its in-tree corpus (tests/fuzz/corpus/<target>, plus the
# saved crashes in tests/fuzz/regressions/<target>); the in-tree corpus is never written to.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]
#
# Targets: sdp rtp rtcp api_request dcep textroom srtp admin_request (default: all). Seconds default to 60.
# Exits non-zero when a target crashes (or leaks, times out, runs out of memory) and prints the
# stack and where the input that did it was kept. Environment:
#   FUZZ_BUILD_DIR  build tree (default: build-fuzz at the repository root)
#   FUZZ_JOBS       targets run at the same time (default: the number of CPUs)
#   FUZZ_KEEP=1     keep each run's working corpus and log even when nothing crashed
#   FUZZ_ARGS       extra libFuzzer flags for every target (e.g. "-max_len=8192")
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
all_targets=(sdp rtp rtcp api_request dcep textroom srtp admin_request)

seconds=60
if [[ $# -gt 0 ]]; then
  if [[ ! $1 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 [seconds-per-target] [target...]   (targets: ${all_targets[*]})" >&2
    exit 2
  fi
  seconds=$1
  shift
fi
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  if [[ ! -d $root/tests/fuzz/corpus/$t ]]; then
    echo "unknown fuzz target '$t' (targets: ${all_targets[*]})" >&2
    exit 2
  fi
done

build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}

# The whole tree gets coverage instrumentation and the sanitizers, so that the libraries the
# fuzzers link are fuzzed and checked too; the fuzzers themselves add -fsanitize=fuzzer (main).
echo "== configuring $build"
"$root/scripts/sanitizer_tree.sh" "$build"
echo "== building ${targets[*]/%/_fuzzer}"
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/%/_fuzzer}"

# run_one <target> <work dir>: fuzzes one target; its log is <work>/log, crashes go to <work>/.
run_one() {
  local t=$1 work=$2
  mkdir -p "$work/corpus"
  cp "$root/tests/fuzz/corpus/$t"/* "$work/corpus/"
  if [[ -d $root/tests/fuzz/regressions/$t ]]; then
    find "$root/tests/fuzz/regressions/$t" -type f ! -name '*.md' -exec cp {} "$work/corpus/" \;
  fi
  local dict=()
  [[ -f $root/tests/fuzz/$t.dict ]] && dict=("-dict=$root/tests/fuzz/$t.dict")
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
  "$build/${t}_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/" "${dict[@]}" ${FUZZ_ARGS:-} \
    "$work/corpus" > "$work/log" 2>&1
}

stamp=$(date +%Y%m%d-%H%M%S)
declare -A work_of
running=0
for t in "${targets[@]}"; do
  work=$(mktemp -d "${TMPDIR:-/tmp}/junction-fuzz-$t-$stamp.XXXX")
  work_of[$t]=$work
  echo "== fuzzing $t for ${seconds}s (work dir $work)"
  (
    set +e
    run_one "$t" "$work"
    echo $? > "$work/status"
  ) &
  running=$((running + 1))
  if [[ $running -ge $jobs ]]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

failed=0
printf '\n%-12s %-8s %12s %10s %8s %8s %10s\n' target result runs exec/s cov ft corpus
for t in "${targets[@]}"; do
  work=${work_of[$t]}
  log=$work/log
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<< "$last")
  artifacts=$(find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o \
    -name 'timeout-*' -o -name 'oom-*' \) | sort)
  result=ok
  if [[ $(cat "$work/status" 2> /dev/null || echo 1) -ne 0 || -n $artifacts ]]; then
    result=FAILED
    failed=1
  fi
  printf '%-12s %-8s %12s %10s %8s %8s %10s\n' "$t" "$result" "${runs:-?}" "${speed:-?}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}"
done

for t in "${targets[@]}"; do
  work=${work_of[$t]}
  artifacts=$(find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o \
    -name 'timeout-*' -o -name 'oom-*' \) | sort)
  if [[ $(cat "$work/status" 2> /dev/null || echo 1) -ne 0 || -n $artifacts ]]; then
    echo
    echo "== $t FAILED; full log: $work/log"
    grep -E -A50 '^==[0-9]+==ERROR|runtime error|check failed|_fuzzer: |^ALARM' "$work/log" |
      head -70 || tail -30 "$work/log"
    for a in $artifacts; do
      echo "   input:    $a"
      echo "   replay:   $build/${t}_fuzzer $a"
      echo "   minimise: $build/${t}_fuzzer -minimize_crash=1 -max_total_time=60 $a"
    done
  elif [[ ${FUZZ_KEEP:-0} == 1 ]]; then
    echo "== $t: kept $work"
  else
    rm -rf "$work"
  fi
done
exit $failed
