#!/usr/bin/env bash
# Where one request's time goes, Baton against YARP, from the kernel's view: both proxies on one static upstream
# (nginx), each driven by wrk at one connection while perf records the proxy's socket system calls (sends, receives,
# epoll waits, futex wakes) with their thread and time; timeline.py then cuts every request into its phases (request
# in to upstream send, the upstream's answer, first byte back to the last byte sent on, the client's turn-around) and
# prints each phase's median for both. Needs perf and the right to trace another process (root, or
# kernel.perf_event_paranoid <= -1). See docs/benchmarks.md ("Eleventh round").
#
#   bench/timeline.sh [--mode json|sse] [--seconds N] [--rounds N] [--warm-up SECONDS] [--env "K=V ..."] [--no-install]
#
#   --mode     non-streamed answers (json, the default) or streamed (sse)
#   --seconds  seconds of tracing per proxy and round (default 3; each is inside a wrk run 4 s longer)
#   --rounds   traces of each proxy, alternating, pooled (default 2): the machine's drift falls on both alike
#   --warm-up  seconds of wrk at 16 connections, then 5 at one, before each proxy's trace (default 15)
#   --env      environment variables for the Baton gateway only (a runtime or Kestrel setting to compare)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
MODE=json SECONDS_TRACED=3 ROUNDS=2 WARM_UP=15 BATON_ENV="" INSTALL=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --mode) MODE="$2"; shift 2 ;;
    --seconds) SECONDS_TRACED="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --warm-up) WARM_UP="$2"; shift 2 ;;
    --env) BATON_ENV="$2"; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ $MODE =~ ^(json|sse)$ ]] || { echo "--mode is json or sse" >&2; exit 2; }
[[ $SECONDS_TRACED =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9][0-9]*$ && $WARM_UP =~ ^[0-9]+$ ]] \
  || { echo "--seconds, --rounds and --warm-up are whole numbers" >&2; exit 2; }

UPSTREAM_PORT=18111 YARP_PORT=18112 BATON_PORT=18113
LOG_TAG=timeline
source "$HERE/lib.sh"
require_tools python3:python3 perf:linux-perf
require_free_ports $UPSTREAM_PORT $YARP_PORT $BATON_PORT
SYSCALLS="sendto sendmsg writev write recvfrom read epoll_wait futex"
EVENTS=""
for call in $SYSCALLS; do EVENTS+="syscalls:sys_enter_$call,syscalls:sys_exit_$call,"; done
perf list 'syscalls:sys_enter_sendto' 2>/dev/null | grep -q sys_enter_sendto \
  || fail "perf cannot see the syscall tracepoints here (run as root, or lower kernel.perf_event_paranoid)"

log "building (Release)"
build_release "$ROOT/src/Baton.Cli/Baton.Cli.csproj" "$HERE/YarpPassthrough/YarpPassthrough.csproj"
start_upstream
export DOTNET_gcServer=1 DOTNET_TieredPGO=1 ASPNETCORE_ENVIRONMENT=Production DOTNET_CLI_TELEMETRY_OPTOUT=1
export BATON_BENCH_MASTER_KEY="${BATON_BENCH_MASTER_KEY:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"
dotnet "$HERE/YarpPassthrough/bin/Release/net10.0/YarpPassthrough.dll" --urls "http://$HOST:$YARP_PORT" \
  --destination "http://$HOST:$UPSTREAM_PORT/" >"$WORK/yarp.out" 2>&1 &
YARP_PID=$!
PIDS+=($YARP_PID)
mkdir -p "$WORK/baton"
sed "s/127.0.0.1:18081/$HOST:$UPSTREAM_PORT/g" "$HERE/baton.bench.team.json" >"$WORK/baton/baton.json"
# shellcheck disable=SC2086 # the environment string is split into its assignments on purpose
(cd "$WORK/baton" && exec env "$BATON_GC_CAP" $BATON_ENV dotnet "$ROOT/src/Baton.Cli/bin/Release/net10.0/baton.dll" serve \
  --config "$WORK/baton/baton.json" --urls "http://$HOST:$BATON_PORT") >"$WORK/baton.out" 2>&1 &
BATON_PID=$!
PIDS+=($BATON_PID)
wait_ready yarp "http://$HOST:$YARP_PORT/health"
wait_ready baton "http://$HOST:$BATON_PORT/v1/chat/completions" "$HERE/wrk/request.json" "$BATON_BENCH_MASTER_KEY"
BENCH_API_KEY="$(create_key "http://$HOST:$BATON_PORT")"
export BENCH_API_KEY

if [[ $MODE == sse ]]; then BODY="$HERE/wrk/request-stream.json" YARP_PATH=/sse/v1/chat/completions
else BODY="$HERE/wrk/request.json" YARP_PATH=/v1/chat/completions; fi
drive() { # url seconds connections outfile
  BENCH_BODY="$BODY" BENCH_CACHE_CONTROL=no-cache wrk -t1 -c"$3" -d"${2}s" --latency --timeout 10s \
    -s "$HERE/wrk/post.lua" "$1" >"$4" 2>&1
}
# sockets PID PORT: the process's sockets, "fd up" for those connected to the upstream, "fd client" for those accepted on PORT.
sockets() {
  ss -Htnp 2>/dev/null | awk -v pid="pid=$1," -v up=":$UPSTREAM_PORT" -v port=":$2" '
    index($0, pid) {
      match($0, /fd=[0-9]+/); fd = substr($0, RSTART + 3, RLENGTH - 3)
      if ($5 ~ up "$") print fd, "up"; else if ($4 ~ port "$") print fd, "client"
    }'
}

target_of() { # name: sets pid, port and url
  if [[ $1 == yarp ]]; then pid=$YARP_PID port=$YARP_PORT url="http://$HOST:$YARP_PORT$YARP_PATH"
  else pid=$BATON_PID port=$BATON_PORT url="http://$HOST:$BATON_PORT/v1/chat/completions"; fi
}
for target in yarp baton; do
  target_of $target
  log "$target: warm-up ${WARM_UP} s at 16 connections, 5 s at one"
  drive "$url" "$WARM_UP" 16 "$WORK/$target-warm.out"
  drive "$url" 5 1 "$WORK/$target-warm1.out"
done
for round in $(seq 1 "$ROUNDS"); do
  for target in yarp baton; do
    target_of $target
    trace="$WORK/$target-$round"
    drive "$url" $((SECONDS_TRACED + 4)) 1 "$trace-wrk.out" &
    wrk_pid=$!
    sleep 2
    sockets $pid $port >"$trace.fds"
    log "$target: round $round, tracing ${SECONDS_TRACED} s at one connection"
    perf record -q -m 16M -o "$trace.data" -e "${EVENTS%,}" -p "$pid" -- sleep "$SECONDS_TRACED" >"$trace-perf.out" 2>&1 \
      || fail "perf record failed" "$trace-perf.out"
    sockets $pid $port >>"$trace.fds"
    wait $wrk_pid || fail "wrk failed" "$trace-wrk.out"
    perf script -i "$trace.data" -F tid,time,event,trace >"$trace.txt" 2>/dev/null
    echo "$target, round $round: wrk $(grep '^BENCH' "$trace-wrk.out")"
  done
done
python3 "$HERE/timeline.py" "yarp=$(ls "$WORK"/yarp-[0-9]*.txt | sed 's/\.txt$//' | paste -sd,)" \
  "baton=$(ls "$WORK"/baton-[0-9]*.txt | sed 's/\.txt$//' | paste -sd,)"
