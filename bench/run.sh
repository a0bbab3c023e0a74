#!/usr/bin/env bash
# Baton's overhead benchmark: a static upstream (nginx), a raw YARP passthrough and Baton, each driven by
# wrk at 1 and 64 connections, non-streamed and streamed, in one run so that the machine's noise cancels
# in the ratios. Prints one table (also written to bench/results/). See docs/benchmarks.md.
#
#   bench/run.sh [--duration SECONDS] [--soak] [--config FILE] [--redis] [--no-install]
#
#   --duration  seconds of load per wrk run (default 10; each run also gets a 5 s warm-up)
#   --soak      also hold 64 connections on Baton for 10 minutes and compare resident memory at 1 and 10 minutes
#   --config    Baton's configuration (default bench/baton.bench.json, the cache in memory; baton.bench.sqlite.json
#               has it in a SQLite file, baton.bench.nocache.json has it off)
#   --redis     also start redis-server (no persistence, in the scratch folder) and point Baton at it
#               (Baton__redis__connection): shared limits, budgets and breakers; with baton.bench.redis.json the
#               cache is in Redis too
#   --no-install  do not apt-get install wrk and nginx-light when they are missing
#
# Baton runs with keys, as a shared gateway would: its master key is BATON_BENCH_MASTER_KEY (a random one when
# unset), and every measured request carries a virtual key created through the admin API at start.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DURATION=10
SOAK=0
INSTALL=1
REDIS=0
CONFIG="$HERE/baton.bench.json"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --soak) SOAK=1; shift ;;
    --config) CONFIG="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    --redis) REDIS=1; shift ;;
    --no-install) INSTALL=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

UPSTREAM_PORT=18081 YARP_PORT=18082 BATON_PORT=18083 SLOW_PORT=18084 REDIS_PORT=18085
LOG_TAG=bench
source "$HERE/lib.sh"

# --- tools -----------------------------------------------------------------------------------------
require_tools python3:python3
[[ $REDIS == 1 ]] && require_tools python3:python3 redis-server:redis-server

require_free_ports $UPSTREAM_PORT $YARP_PORT $BATON_PORT $SLOW_PORT

# --- build -----------------------------------------------------------------------------------------
log "building Baton and the YARP passthrough (Release)"
dotnet build -c Release -nologo -v quiet "$ROOT/src/Baton.Cli/Baton.Cli.csproj" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
dotnet build -c Release -nologo -v quiet "$HERE/YarpPassthrough/YarpPassthrough.csproj" >>"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
BATON_DLL="$ROOT/src/Baton.Cli/bin/Release/net10.0/baton.dll"
YARP_DLL="$HERE/YarpPassthrough/bin/Release/net10.0/YarpPassthrough.dll"

# --- start -----------------------------------------------------------------------------------------
start_upstream

if [[ $REDIS == 1 ]]; then
  require_free_ports $REDIS_PORT
  mkdir -p "$WORK/redis"
  redis-server --port $REDIS_PORT --bind $HOST --save '' --appendonly no --dir "$WORK/redis" >"$WORK/redis.out" 2>&1 &
  PIDS+=($!)
  export Baton__redis__connection="$HOST:$REDIS_PORT"
  log "redis on :$REDIS_PORT"
fi

export DOTNET_gcServer=1 DOTNET_TieredPGO=1 ASPNETCORE_ENVIRONMENT=Production DOTNET_CLI_TELEMETRY_OPTOUT=1
dotnet "$YARP_DLL" --urls "http://$HOST:$YARP_PORT" --destination "http://$HOST:$UPSTREAM_PORT/" >"$WORK/yarp.out" 2>&1 &
PIDS+=($!)
# A paced upstream for the buffering check: one token every 50 ms.
dotnet "$BATON_DLL" simulate --port $SLOW_PORT --tps 20 >"$WORK/slow.out" 2>&1 &
PIDS+=($!)
export BATON_BENCH_MASTER_KEY="${BATON_BENCH_MASTER_KEY:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"
# Started in the scratch directory, so that a relative cache or ledger file in the configuration is fresh and removed after.
(cd "$WORK" && exec dotnet "$BATON_DLL" serve --config "$CONFIG" --urls "http://$HOST:$BATON_PORT") >"$WORK/baton.out" 2>&1 &
BATON_PID=$!
PIDS+=($BATON_PID)

wait_ready yarp "http://$HOST:$YARP_PORT/health"
wait_ready baton "http://$HOST:$BATON_PORT/v1/chat/completions" "$HERE/wrk/request.json" "$BATON_BENCH_MASTER_KEY"
# Every measured request carries a virtual key, so authentication is part of what is measured (wrk and probe.py
# send it to every target, so that each request is the same size whichever answers it).
BENCH_API_KEY="$(curl -fsS -H "Authorization: Bearer $BATON_BENCH_MASTER_KEY" -H 'Content-Type: application/json' \
  --data-binary '{"name":"bench"}' "http://$HOST:$BATON_PORT/admin/keys" | python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')"
export BENCH_API_KEY
wait_ready slow-upstream "http://$HOST:$SLOW_PORT/v1/chat/completions" "$HERE/wrk/request.json"
log "all started: nginx :$UPSTREAM_PORT, yarp :$YARP_PORT, baton :$BATON_PORT (pid $BATON_PID), paced simulator :$SLOW_PORT"

# --- load ------------------------------------------------------------------------------------------
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# Peak resident memory of Baton while a command runs, sampled every 0.5 s into $WORK/rss.
with_rss() {
  echo 0 >"$WORK/rss"
  ( peak=0; while sleep 0.5; do r=$(rss_kb "$BATON_PID" || echo 0); (( r > peak )) && peak=$r && echo "$peak" >"$WORK/rss"; done ) &
  local sampler=$!
  "$@"
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
}

RAW="$RESULTS/raw.txt"
: >"$RAW"
drive() { # target mode connections url body
  local target=$1 mode=$2 conns=$3 url=$4 body=$5 threads=1
  (( conns > 1 )) && threads=2
  BENCH_BODY="$body" wrk -t1 -c"$conns" -d5s -s "$HERE/wrk/post.lua" "$url" >/dev/null 2>&1 || true
  local line
  if [[ $target == baton ]]; then
    with_rss env BENCH_BODY="$body" wrk -t$threads -c"$conns" -d"${DURATION}s" --timeout 10s -s "$HERE/wrk/post.lua" "$url" >"$WORK/wrk.out" 2>&1
    line="$(grep '^BENCH' "$WORK/wrk.out") rss_kb=$(cat "$WORK/rss")"
  else
    BENCH_BODY="$body" wrk -t$threads -c"$conns" -d"${DURATION}s" --timeout 10s -s "$HERE/wrk/post.lua" "$url" >"$WORK/wrk.out" 2>&1
    line="$(grep '^BENCH' "$WORK/wrk.out")"
  fi
  echo "target=$target mode=$mode conns=$conns $line" | tee -a "$RAW" >&2
}

JSON_BODY="$HERE/wrk/request.json"
SSE_BODY="$HERE/wrk/request-stream.json"
# The main rows run with the cache on but missing; the cache-hit row below lets it answer.
export BENCH_CACHE_CONTROL=no-cache
for mode in json sse; do
  if [[ $mode == json ]]; then body=$JSON_BODY; path=/v1/chat/completions; else body=$SSE_BODY; path=/sse/v1/chat/completions; fi
  for conns in 1 64; do
    drive direct $mode $conns "http://$HOST:$UPSTREAM_PORT$path" "$body"
    drive yarp $mode $conns "http://$HOST:$YARP_PORT$path" "$body"
    drive baton $mode $conns "http://$HOST:$BATON_PORT/v1/chat/completions" "$body"
  done
done

log "cache hit: the same request again and again, answered from Baton's cache"
BENCH_CACHE_CONTROL="" drive baton hit 64 "http://$HOST:$BATON_PORT/v1/chat/completions" "$JSON_BODY"

log "time to first chunk (sequential streamed requests)"
for target in direct yarp baton; do
  case $target in
    direct) url="http://$HOST:$UPSTREAM_PORT/sse/v1/chat/completions" ;;
    yarp) url="http://$HOST:$YARP_PORT/sse/v1/chat/completions" ;;
    baton) url="http://$HOST:$BATON_PORT/v1/chat/completions" ;;
  esac
  echo "target=$target mode=ttfc $(python3 "$HERE/probe.py" ttfc "$url" "$SSE_BODY" 2000)" | tee -a "$RAW" >&2
done

log "buffering check: a paced upstream (20 tokens/s), chunk arrival times direct and through Baton"
sed 's/"bench-stream"/"bench-slow"/; s/"max_tokens":64/"max_tokens":12/' "$SSE_BODY" >"$WORK/slow.json"
python3 "$HERE/probe.py" chunks "http://$HOST:$SLOW_PORT/v1/chat/completions" "$WORK/slow.json" >"$RESULTS/slow-direct.txt"
python3 "$HERE/probe.py" chunks "http://$HOST:$BATON_PORT/v1/chat/completions" "$WORK/slow.json" >"$RESULTS/slow-baton.txt"
echo "target=direct mode=slow $(awk 'NR==1{f=$1} {l=$1; n++} END{printf "first_ms=%s last_ms=%s events=%d", f, l, n}' "$RESULTS/slow-direct.txt")" | tee -a "$RAW" >&2
echo "target=baton mode=slow $(awk 'NR==1{f=$1} {l=$1; n++} END{printf "first_ms=%s last_ms=%s events=%d", f, l, n}' "$RESULTS/slow-baton.txt")" | tee -a "$RAW" >&2

if [[ $SOAK == 1 ]]; then
  log "memory soak: 64 connections on Baton for 10 minutes"
  BENCH_BODY="$JSON_BODY" wrk -t2 -c64 -d600s --timeout 10s -s "$HERE/wrk/post.lua" "http://$HOST:$BATON_PORT/v1/chat/completions" >"$WORK/soak.out" 2>&1 &
  SOAK_PID=$!
  PIDS+=($SOAK_PID)
  sleep 60; rss1=$(rss_kb "$BATON_PID")
  log "resident memory after 1 minute: $((rss1 / 1024)) MB"
  wait "$SOAK_PID" || true
  rss10=$(rss_kb "$BATON_PID")
  echo "target=baton mode=soak rss1_kb=$rss1 rss10_kb=$rss10 $(grep '^BENCH' "$WORK/soak.out")" | tee -a "$RAW" >&2
fi

{
  echo "# Baton overhead benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(dotnet --version) SDK, wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), ${DURATION} s per run"
  python3 "$HERE/report.py" "$RAW"
} | tee "$RESULTS/table.md"
