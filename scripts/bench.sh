#!/usr/bin/env bash
# Whole-server benchmarks, Junction and Debian's janus side by side with the same client
# (tests/bench/loadgen), written into BENCHMARKS.md. Not part of the test suite.
#
#   scripts/bench.sh                    # every scenario, 20 s windows
#   SCENARIOS="fanout:50" DURATION=10 scripts/bench.sh
#
# Scenarios (space-separated): fanout:N (1 publisher -> N subscribers), mesh:R:P (R rooms of P
# participants all publishing and subscribing to all), audiobridge:T:L (T talkers, L listeners,
# mixed), audioroom:T:L (an audio-only videoroom: L listeners each receive the T talkers' streams).
# Each run starts a fresh server pinned to SERVER_CPU (taskset), the load generator pinned to
# CLIENT_CPU, measures, stops the server. Janus runs on loopback with its http transport and its
# videoroom and audiobridge plugins only, through an LD_PRELOAD shim that makes it offer
# 127.0.0.1 (tests/bench/janus/getifaddrs_lo.c). Results: $OUT/*.json, then BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD_DIR:-$ROOT/build}
SCENARIOS=${SCENARIOS:-"fanout:50 fanout:100 fanout:200 fanout:400 mesh:10:6 audioroom:5:200 audiobridge:5:55 audiobridge:5:70 audiobridge:5:95 audiobridge:5:200 audiobridge:5:295 audiobridge:5:495"}
SERVERS=${SERVERS:-"junction janus"}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-3}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
CLIENT_WORKERS=${CLIENT_WORKERS:-2}
# Server and load generator run round-robin real-time (chrt -r) so that concurrent builds on a
# shared machine do not take their CPU: under CFS a one-thread server (Junction's one media
# worker) gets one share of a busy core while janus (a thread per handle) gets dozens.
# RT_PRIO=0: plain scheduling.
RT_PRIO=${RT_PRIO:-20}
sched() { if [ "$RT_PRIO" -gt 0 ]; then echo chrt -r "$RT_PRIO"; fi; }
HTTP_PORT=${HTTP_PORT:-18088}
ADMIN_PORT=${ADMIN_PORT:-18089}  # Junction's /metrics: its in-server forwarding latency
OUT=${OUT:-$BUILD/bench-results}
WRITE_MD=${WRITE_MD:-1}

log() { echo "[bench] $*" >&2; }

# --- build and install ---
if ! command -v janus >/dev/null 2>&1; then
  log "installing janus (apt)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends janus
fi
[ -f "$BUILD/CMakeCache.txt" ] || cmake -S "$ROOT" -B "$BUILD" -DBUILD_TESTING=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j2 --target junction videoroom audiobridge loadgen >/dev/null
LOADGEN=$BUILD/loadgen
JUNCTION=$BUILD/junction
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/junction-bench.XXXXXX)
SHIM=$WORK/libgetifaddrs_lo.so
cc -shared -fPIC -O2 -Wall -Wextra -Werror -o "$SHIM" tests/bench/janus/getifaddrs_lo.c -ldl

SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- server configs ---
JANUS_LIB=/usr/lib/x86_64-linux-gnu/janus
mkdir -p "$WORK/janus/plugins" "$WORK/janus/transports" "$WORK/janus/none"
ln -s "$JANUS_LIB/plugins/libjanus_videoroom.so" "$JANUS_LIB/plugins/libjanus_audiobridge.so" "$WORK/janus/plugins/"
ln -s "$JANUS_LIB/transports/libjanus_http.so" "$WORK/janus/transports/"
cat >"$WORK/janus/janus.jcfg" <<EOF
general: {
  configs_folder = "$WORK/janus"
  plugins_folder = "$WORK/janus/plugins"
  transports_folder = "$WORK/janus/transports"
  events_folder = "$WORK/janus/none"
  loggers_folder = "$WORK/janus/none"
  debug_level = 3
  session_timeout = 120
  server_name = "janus-bench"
}
media: {
  rtp_port_range = "20000-60000"
}
nat: {
  ice_enforce_list = "lo"
}
EOF
cat >"$WORK/janus/janus.transport.http.jcfg" <<EOF
general: {
  json = "compact"
  base_path = "/janus"
  http = true
  port = $HTTP_PORT
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
}
EOF
echo 'general: { }' >"$WORK/janus/janus.plugin.videoroom.jcfg"
echo 'general: { }' >"$WORK/janus/janus.plugin.audiobridge.jcfg"
cat >"$WORK/junction.json" <<EOF
{"bind": "127.0.0.1", "http_port": $HTTP_PORT, "ws_port": 0, "admin_port": $ADMIN_PORT, "admin_ws_port": 0,
 "media_workers": 1, "log_level": "warn", "session_timeout": 120, "state_dir": "$WORK"}
EOF

start_server() {  # $1 = junction | janus; sets SERVER_PID
  local logf=$OUT/$1-$2.log
  if [ "$1" = junction ]; then
    $(sched) taskset -c "$SERVER_CPU" "$JUNCTION" --config "$WORK/junction.json" >"$logf" 2>&1 &
  else
    LD_PRELOAD=$SHIM $(sched) taskset -c "$SERVER_CPU" janus -C "$WORK/janus/janus.jcfg" -F "$WORK/janus" -o >"$logf" 2>&1 &
  fi
  SERVER_PID=$!
  for _ in $(seq 100); do
    curl -sf -o /dev/null -X POST -d '{"janus":"info","transaction":"b"}' "http://127.0.0.1:$HTTP_PORT/janus" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { log "$1 exited while starting: $(tail -5 "$logf")"; return 1; }
    sleep 0.1
  done
  log "$1 did not answer on port $HTTP_PORT"; return 1
}

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# --- runs ---
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for scenario in $SCENARIOS; do
  IFS=: read -r kind a b <<<"$scenario"
  case $kind in
    fanout) args=(--scenario fanout --subscribers "$a"); name="fanout-$a" ;;
    mesh) args=(--scenario mesh --rooms "$a" --participants "$b"); name="mesh-${a}x$b" ;;
    audiobridge) args=(--scenario audiobridge --talkers "$a" --listeners "$b"); name="audiobridge-${a}+$b" ;;
    audioroom) args=(--scenario audioroom --talkers "$a" --listeners "$b"); name="audioroom-${a}+$b" ;;
    *) log "unknown scenario $scenario"; exit 2 ;;
  esac
  for server in $SERVERS; do
    log "$name against $server (load average $(cut -d' ' -f1 /proc/loadavg))"
    start_server "$server" "$name" || { echo "{\"server\":\"$server\",\"name\":\"$name\",\"error\":\"server did not start\"}" >"$OUT/$name-$server.json"; continue; }
    load=$(cut -d' ' -f1 /proc/loadavg)
    metrics=()
    [ "$server" = junction ] && metrics=(--metrics-url "http://127.0.0.1:$ADMIN_PORT/metrics")
    if $(sched) taskset -c "$CLIENT_CPU" "$LOADGEN" --url "http://127.0.0.1:$HTTP_PORT/janus" --server "$server" --pid "$SERVER_PID" \
         --workers "$CLIENT_WORKERS" --parallel 4 --duration "$DURATION" --warmup "$WARMUP" --setup-timeout 120 "${args[@]}" \
         "${metrics[@]}" \
         >"$OUT/$name-$server.out" 2>"$OUT/$name-$server.err"; then
      /usr/bin/python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); r["name"]=sys.argv[2]; r["load_average"]=float(sys.argv[3]); print(json.dumps(r))' \
        "$OUT/$name-$server.out" "$name" "$load" >"$OUT/$name-$server.json"
    else
      log "loadgen failed against $server: $(tail -3 "$OUT/$name-$server.err")"
      /usr/bin/python3 -c 'import json,sys; print(json.dumps({"server":sys.argv[1],"name":sys.argv[2],"error":sys.argv[3]}))' \
        "$server" "$name" "$(tail -3 "$OUT/$name-$server.err")" >"$OUT/$name-$server.json"
    fi
    stop_server
  done
done
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$WRITE_MD" = 1 ]; then
  /usr/bin/python3 tests/bench/loadgen/report.py "$OUT" BENCHMARKS.md \
    --command "SCENARIOS=\"$SCENARIOS\" DURATION=$DURATION scripts/bench.sh" --scenarios "$SCENARIOS"
  log "BENCHMARKS.md updated"
fi
