#!/usr/bin/env bash
# Baton's overhead benchmark with everything on: a static upstream (nginx), a raw YARP passthrough and Baton
# configured as a team runs it, each driven by wrk at 1 and 64 connections, non-streamed and streamed, side by side
# in every run so that the machine's noise cancels in the ratios. At one connection the same three are also measured
# against an upstream that answers after 1 ms (bench/upstream/delayed.py), as a model would: slowly enough for the
# proxies' threads to fall asleep while they wait. The whole measurement is repeated --runs times;
# the table gives each row's median with every run's figure beside it, and the targets table says which targets
# are met. Also written to bench/results/. See docs/benchmarks.md.
#
#   bench/run.sh [--runs N] [--duration SECONDS] [--soak] [--soak-minutes M] [--redis] [--config FILE]
#                [--port-base PORT] [--gc-log] [--no-install]
#
#   --runs      how many times the whole measurement is repeated (default 3); each row reports the median
#   --duration  seconds of load per wrk run (default 10; each run also gets a 5 s warm-up)
#   --warm-up   seconds of load per target and kind of request (non-streamed, streamed, cache hits) before the first
#               run (default 10; 0 for none), so that every path is compiled before it is measured
#   --soak      after the runs, hold 64 connections on Baton for --soak-minutes (default 10), sampling its resident
#               memory every 5 s: start, peak and end, and whether the end is within 10 % of the 2-minute mark
#               (the mark at a fifth of the soak)
#   --redis     also start redis-server (no persistence, in the scratch folder) and a second gateway with the same
#               team configuration in Redis (bench/baton.bench.redis.json: limits, budgets, breakers and cache),
#               measured in the same runs as the rows "baton-redis"
#   --config    Baton's configuration (default bench/baton.bench.team.json, the team configuration; any of the
#               bench/baton.bench.*.json files works)
#   --port-base first of the 12 consecutive ports used (default 18081), to run beside another benchmark
#   --gc-log    each gateway writes what its memory is made of every half second (resident and anonymous memory,
#               the managed heap by generation, collections) to bench/results/gc-<gateway>.txt (bench/AllocProbe)
#   --no-install  do not apt-get install wrk and nginx-light when they are missing
#
# Baton runs with keys, as a shared gateway would: its master key is BATON_BENCH_MASTER_KEY (a random one when
# unset), and every measured request carries a virtual key created through the admin API at start, with rate
# limits too high to bite. Allocations per request are read from both YARP and Baton by a startup hook
# (bench/AllocProbe) before and after each measured wrk run.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
RUNS=3
DURATION=10
WARM_UP=10
SOAK=0
SOAK_MINUTES=10
INSTALL=1
REDIS=0
PORT_BASE=18081
GC_LOG=0
CONFIG="$HERE/baton.bench.team.json"
REDIS_CONFIG="$HERE/baton.bench.redis.json"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warm-up) WARM_UP="$2"; shift 2 ;;
    --soak) SOAK=1; shift ;;
    --soak-minutes) SOAK_MINUTES="$2"; shift 2 ;;
    --config) CONFIG="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    --redis) REDIS=1; shift ;;
    --port-base) PORT_BASE="$2"; shift 2 ;;
    --gc-log) GC_LOG=1; shift ;;
    --no-install) INSTALL=0; shift ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive whole number" >&2; exit 2; }
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || { echo "--duration must be a positive whole number of seconds" >&2; exit 2; }
[[ $WARM_UP =~ ^[0-9]+$ ]] || { echo "--warm-up must be a whole number of seconds" >&2; exit 2; }
[[ $SOAK_MINUTES =~ ^[1-9][0-9]*$ ]] || { echo "--soak-minutes must be a positive whole number" >&2; exit 2; }
[[ -f $CONFIG ]] || { echo "no such configuration: $CONFIG" >&2; exit 2; }

UPSTREAM_PORT=$PORT_BASE YARP_PORT=$((PORT_BASE + 1)) BATON_PORT=$((PORT_BASE + 2)) SLOW_PORT=$((PORT_BASE + 3))
REDIS_PORT=$((PORT_BASE + 4)) BATON_REDIS_PORT=$((PORT_BASE + 5))
YARP_PROBE=$((PORT_BASE + 6)) BATON_PROBE=$((PORT_BASE + 7)) BATON_REDIS_PROBE=$((PORT_BASE + 8))
DELAYED_PORT=$((PORT_BASE + 9)) YARP_DELAYED_PORT=$((PORT_BASE + 10)) YARP_DELAYED_PROBE=$((PORT_BASE + 11))
# The delayed upstream's wait: far shorter than a model's, long enough that no thread is still spinning when it ends.
DELAYED_MS=1
LOG_TAG=bench
source "$HERE/lib.sh"

# --- tools -----------------------------------------------------------------------------------------
if [[ $REDIS == 1 ]]; then require_tools python3:python3 redis-server:redis-server redis-cli:redis-tools; else require_tools python3:python3; fi
require_free_ports $UPSTREAM_PORT $YARP_PORT $BATON_PORT $SLOW_PORT $YARP_PROBE $BATON_PROBE $DELAYED_PORT $YARP_DELAYED_PORT $YARP_DELAYED_PROBE
[[ $REDIS == 1 ]] && require_free_ports $REDIS_PORT $BATON_REDIS_PORT $BATON_REDIS_PROBE

# --- build -----------------------------------------------------------------------------------------
log "building Baton, the YARP passthrough and the allocation probe (Release)"
build_release "$ROOT/src/Baton.Cli/Baton.Cli.csproj" "$HERE/YarpPassthrough/YarpPassthrough.csproj" "$HERE/AllocProbe/AllocProbe.csproj"
BATON_DLL="$ROOT/src/Baton.Cli/bin/Release/net10.0/baton.dll"
YARP_DLL="$HERE/YarpPassthrough/bin/Release/net10.0/YarpPassthrough.dll"
PROBE_DLL="$HERE/AllocProbe/bin/Release/net10.0/AllocProbe.dll"

# --- start -----------------------------------------------------------------------------------------
start_upstream

export DOTNET_gcServer=1 DOTNET_TieredPGO=1 ASPNETCORE_ENVIRONMENT=Production DOTNET_CLI_TELEMETRY_OPTOUT=1
# No OTLP collector: tracing and metrics are on, what is measured is the instrumentation without an exporter.
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_EXPORTER_OTLP_METRICS_ENDPOINT
export BATON_BENCH_MASTER_KEY="${BATON_BENCH_MASTER_KEY:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"

env BENCH_PROBE_PORT=$YARP_PROBE DOTNET_STARTUP_HOOKS="$PROBE_DLL" \
  dotnet "$YARP_DLL" --urls "http://$HOST:$YARP_PORT" --destination "http://$HOST:$UPSTREAM_PORT/" >"$WORK/yarp.out" 2>&1 &
PIDS+=($!)
# The upstream that answers after DELAYED_MS, and a second passthrough in front of it.
python3 "$HERE/upstream/delayed.py" --port $DELAYED_PORT --delay-ms $DELAYED_MS >"$WORK/delayed.out" 2>&1 &
PIDS+=($!)
env BENCH_PROBE_PORT=$YARP_DELAYED_PROBE DOTNET_STARTUP_HOOKS="$PROBE_DLL" \
  dotnet "$YARP_DLL" --urls "http://$HOST:$YARP_DELAYED_PORT" --destination "http://$HOST:$DELAYED_PORT/" >"$WORK/yarp-delayed.out" 2>&1 &
PIDS+=($!)
# A paced upstream for the buffering check: one token every 50 ms.
dotnet "$BATON_DLL" simulate --port $SLOW_PORT --tps 20 >"$WORK/slow.out" 2>&1 &
PIDS+=($!)

# start_gateway NAME CONFIG PORT PROBE_PORT [ENV...]: Baton in a scratch directory of its own, so that the relative
# cache, ledger and key files of its configuration start empty and are removed after. Sets GATEWAY_PID.
start_gateway() {
  local name=$1 config=$2 port=$3 probe=$4; shift 4
  mkdir -p "$WORK/$name"
  local_config "$config" >"$WORK/$name/baton.json"
  [[ $GC_LOG == 1 ]] && set -- "$@" BENCH_GC_LOG="$RESULTS/gc-$name.txt"
  (cd "$WORK/$name" && exec env "$BATON_GC_CAP" "$@" BENCH_PROBE_PORT="$probe" DOTNET_STARTUP_HOOKS="$PROBE_DLL" \
    dotnet "$BATON_DLL" serve --config "$WORK/$name/baton.json" --urls "http://$HOST:$port") >"$WORK/$name.out" 2>&1 &
  GATEWAY_PID=$!
  PIDS+=($GATEWAY_PID)
}

# The configurations name the default ports; rewritten to the ones in use.
local_config() { sed "s/127.0.0.1:18081/$HOST:$UPSTREAM_PORT/g; s/127.0.0.1:18084/$HOST:$SLOW_PORT/g; s/127.0.0.1:18090/$HOST:$DELAYED_PORT/g" "$1"; }

start_gateway baton "$CONFIG" $BATON_PORT $BATON_PROBE
BATON_PID=$GATEWAY_PID
if [[ $REDIS == 1 ]]; then
  start_redis $REDIS_PORT
  start_gateway baton-redis "$REDIS_CONFIG" $BATON_REDIS_PORT $BATON_REDIS_PROBE Baton__redis__connection="$HOST:$REDIS_PORT"
  BATON_REDIS_PID=$GATEWAY_PID
fi

wait_ready yarp "http://$HOST:$YARP_PORT/health"
wait_ready yarp-delayed "http://$HOST:$YARP_DELAYED_PORT/health"
wait_ready baton "http://$HOST:$BATON_PORT/v1/chat/completions" "$HERE/wrk/request.json" "$BATON_BENCH_MASTER_KEY"
wait_ready slow-upstream "http://$HOST:$SLOW_PORT/v1/chat/completions" "$HERE/wrk/request.json"
# Every measured request carries a virtual key, with limits of its own too high to bite (a team gives each caller
# limits), so that authentication and the key's buckets are part of what is measured. wrk and probe.py send it to
# every target, so that each request is the same size whichever answers it.
BENCH_API_KEY="$(create_key "http://$HOST:$BATON_PORT")"
export BENCH_API_KEY
check_cache_header "http://$HOST:$BATON_PORT" "$BENCH_API_KEY"
if [[ $REDIS == 1 ]]; then
  wait_ready baton-redis "http://$HOST:$BATON_REDIS_PORT/v1/chat/completions" "$HERE/wrk/request.json" "$BATON_BENCH_MASTER_KEY"
  BENCH_REDIS_API_KEY="$(create_key "http://$HOST:$BATON_REDIS_PORT")"
  check_cache_header "http://$HOST:$BATON_REDIS_PORT" "$BENCH_REDIS_API_KEY"
fi
log "all started: nginx :$UPSTREAM_PORT, yarp :$YARP_PORT, baton :$BATON_PORT (pid $BATON_PID)$([[ $REDIS == 1 ]] && echo ", redis :$REDIS_PORT, baton-redis :$BATON_REDIS_PORT (pid $BATON_REDIS_PID)"), paced simulator :$SLOW_PORT, delayed upstream :$DELAYED_PORT (yarp :$YARP_DELAYED_PORT)"

# --- load ------------------------------------------------------------------------------------------
pid_of() { case $1 in baton) echo "$BATON_PID" ;; baton-redis) echo "$BATON_REDIS_PID" ;; *) echo "" ;; esac; }
probe_of() { # TARGET MODE: the passthrough in front of the delayed upstream has a probe of its own
  case $1 in
    yarp) [[ $2 == *-delayed ]] && echo "$YARP_DELAYED_PROBE" || echo "$YARP_PROBE" ;;
    baton) echo "$BATON_PROBE" ;; baton-redis) echo "$BATON_REDIS_PROBE" ;; *) echo "" ;;
  esac
}
key_of() { case $1 in baton-redis) echo "$BENCH_REDIS_API_KEY" ;; *) echo "$BENCH_API_KEY" ;; esac; }

RAW="$RESULTS/raw.txt"
echo "target=delayed mode=config delay_ms=$DELAYED_MS" >"$RAW"
RUN=0
# drive TARGET MODE CONNECTIONS URL BODY: a 5 s warm-up, then the measured wrk run; for YARP and the gateways the
# bytes allocated during the run (read by the probe before it and a second after, so that work queued behind the
# answers, such as ledger and cache writes, is counted), and for the gateways their peak resident memory.
drive() {
  local target=$1 mode=$2 conns=$3 url=$4 body=$5 threads=1 key pid probe before after redis_before outages_before line extra=""
  (( conns > 1 )) && threads=2
  key="$(key_of "$target")" pid="$(pid_of "$target")" probe="$(probe_of "$target" "$mode")"
  BENCH_API_KEY="$key" BENCH_BODY="$body" wrk -t1 -c"$conns" -d5s -s "$HERE/wrk/post.lua" "$url" >/dev/null 2>&1 || true
  [[ -n $probe ]] && before="$(read_allocated "$probe")"
  [[ $target == baton-redis ]] && redis_before="$(redis_calls)" outages_before="$(redis_outages "$WORK/baton-redis.out")"
  [[ -n $pid ]] && start_rss_sampler "$pid"
  BENCH_API_KEY="$key" BENCH_BODY="$body" wrk -t$threads -c"$conns" -d"${DURATION}s" --timeout 10s -s "$HERE/wrk/post.lua" "$url" >"$WORK/wrk.out" 2>&1 \
    || fail "wrk failed against $target ($mode, $conns connections)" "$WORK/wrk.out"
  [[ -n $pid ]] && extra+=" $(stop_rss_sampler)"
  line="$(grep '^BENCH' "$WORK/wrk.out")" || fail "wrk printed no summary against $target" "$WORK/wrk.out"
  [[ $line != *" requests=0 "* ]] || fail "no request to $target completed within the ${DURATION} s run (machine overloaded, or the target hung)" "$WORK/wrk.out"
  if [[ -n $probe ]]; then
    sleep 1
    after="$(read_allocated "$probe")"
    extra+=" alloc_bytes=$((after - before))"
  fi
  [[ $target == baton-redis ]] && extra+=" redis_calls=$(( $(redis_calls) - redis_before )) redis_outages=$(( $(redis_outages "$WORK/baton-redis.out") - outages_before ))"
  [[ -z $pid ]] || kill -0 "$pid" 2>/dev/null || fail "$target exited during the $mode run at $conns connections" "$WORK/$target.out"
  echo "run=$RUN target=$target mode=$mode conns=$conns $line$extra" | tee -a "$RAW" >&2
}

JSON_BODY="$HERE/wrk/request.json"
SSE_BODY="$HERE/wrk/request-stream.json"
# The delayed rows' requests name the models routed to the delayed upstream (the same bodies otherwise, sent to every
# target alike); a configuration without those models skips the rows.
DELAYED_JSON_BODY="" DELAYED_SSE_BODY=""
if grep -q '"bench-delayed"' "$CONFIG"; then
  DELAYED_JSON_BODY="$WORK/request-delayed.json" DELAYED_SSE_BODY="$WORK/request-delayed-stream.json"
  sed 's/"model":"bench"/"model":"bench-delayed"/' "$JSON_BODY" >"$DELAYED_JSON_BODY"
  sed 's/"model":"bench-stream"/"model":"bench-delayed-stream"/' "$SSE_BODY" >"$DELAYED_SSE_BODY"
fi
GATEWAYS=(baton)
[[ $REDIS == 1 ]] && GATEWAYS+=(baton-redis)
port_of() { case $1 in baton) echo "$BATON_PORT" ;; baton-redis) echo "$BATON_REDIS_PORT" ;; esac; }

# Before the first run, every target answers every kind of request it will be measured on for --warm-up seconds
# each. The runtime compiles a method's optimised code only after it has run for a while (tiered compilation and
# profile-guided optimisation), and a path first taken in its own row, such as a gateway's cache hits, would
# otherwise be measured while still being compiled; a gateway that has been up for some time has all its paths
# compiled. Each row still has its own 5 s warm-up.
log "warm-up: every target, every kind of request, ${WARM_UP} s each at 64 connections"
warm() { # URL BODY KEY CACHE_CONTROL
  BENCH_API_KEY="$3" BENCH_BODY="$2" BENCH_CACHE_CONTROL="$4" wrk -t2 -c64 -d"${WARM_UP}s" -s "$HERE/wrk/post.lua" "$1" >/dev/null 2>&1 || true
}
warm "http://$HOST:$YARP_PORT/v1/chat/completions" "$JSON_BODY" "$BENCH_API_KEY" no-cache
warm "http://$HOST:$YARP_PORT/sse/v1/chat/completions" "$SSE_BODY" "$BENCH_API_KEY" no-cache
for gateway in "${GATEWAYS[@]}"; do
  url="http://$HOST:$(port_of "$gateway")/v1/chat/completions"
  warm "$url" "$JSON_BODY" "$(key_of "$gateway")" no-cache
  warm "$url" "$SSE_BODY" "$(key_of "$gateway")" no-cache
  warm "$url" "$JSON_BODY" "$(key_of "$gateway")" ""
done

for RUN in $(seq 1 "$RUNS"); do
  log "run $RUN of $RUNS"
  # The main rows run with the cache on but bypassed (every request skips the lookup and stores its answer); the
  # cache-hit rows below let it answer.
  export BENCH_CACHE_CONTROL=no-cache
  for mode in json sse; do
    if [[ $mode == json ]]; then body=$JSON_BODY; path=/v1/chat/completions; else body=$SSE_BODY; path=/sse/v1/chat/completions; fi
    for conns in 1 64; do
      drive direct $mode $conns "http://$HOST:$UPSTREAM_PORT$path" "$body"
      drive yarp $mode $conns "http://$HOST:$YARP_PORT$path" "$body"
      for gateway in "${GATEWAYS[@]}"; do
        drive "$gateway" $mode $conns "http://$HOST:$(port_of "$gateway")/v1/chat/completions" "$body"
      done
    done
  done

  if [[ -n $DELAYED_JSON_BODY ]]; then
    log "one connection, an upstream that answers after $DELAYED_MS ms"
    for mode in json sse; do
      if [[ $mode == json ]]; then body=$DELAYED_JSON_BODY; path=/v1/chat/completions; else body=$DELAYED_SSE_BODY; path=/sse/v1/chat/completions; fi
      drive direct $mode-delayed 1 "http://$HOST:$DELAYED_PORT$path" "$body"
      drive yarp $mode-delayed 1 "http://$HOST:$YARP_DELAYED_PORT$path" "$body"
      drive baton $mode-delayed 1 "http://$HOST:$BATON_PORT/v1/chat/completions" "$body"
    done
  fi

  log "cache hits: the same request again and again, answered from Baton's cache"
  for gateway in "${GATEWAYS[@]}"; do
    BENCH_CACHE_CONTROL="" drive "$gateway" hit 64 "http://$HOST:$(port_of "$gateway")/v1/chat/completions" "$JSON_BODY"
  done

  log "time to first chunk (sequential streamed requests)"
  for target in direct yarp baton; do
    case $target in
      direct) url="http://$HOST:$UPSTREAM_PORT/sse/v1/chat/completions" ;;
      yarp) url="http://$HOST:$YARP_PORT/sse/v1/chat/completions" ;;
      baton) url="http://$HOST:$BATON_PORT/v1/chat/completions" ;;
    esac
    result="$(python3 "$HERE/probe.py" ttfc "$url" "$SSE_BODY" 2000)" || fail "probe.py failed against $target"
    echo "run=$RUN target=$target mode=ttfc $result" | tee -a "$RAW" >&2
  done
done

log "buffering check: a paced upstream (20 tokens/s), chunk arrival times direct and through Baton"
sed 's/"bench-stream"/"bench-slow"/; s/"max_tokens":64/"max_tokens":12/' "$SSE_BODY" >"$WORK/slow.json"
python3 "$HERE/probe.py" chunks "http://$HOST:$SLOW_PORT/v1/chat/completions" "$WORK/slow.json" >"$RESULTS/slow-direct.txt"
python3 "$HERE/probe.py" chunks "http://$HOST:$BATON_PORT/v1/chat/completions" "$WORK/slow.json" >"$RESULTS/slow-baton.txt"
echo "target=direct mode=slow $(awk 'NR==1{f=$1} {l=$1; n++} END{printf "first_ms=%s last_ms=%s events=%d", f, l, n}' "$RESULTS/slow-direct.txt")" | tee -a "$RAW" >&2
echo "target=baton mode=slow $(awk 'NR==1{f=$1} {l=$1; n++} END{printf "first_ms=%s last_ms=%s events=%d", f, l, n}' "$RESULTS/slow-baton.txt")" | tee -a "$RAW" >&2

if [[ $SOAK == 1 ]]; then
  log "memory soak: 64 connections on Baton for $SOAK_MINUTES minutes, resident memory every 5 s"
  BENCH_BODY="$JSON_BODY" wrk -t2 -c64 -d"$((SOAK_MINUTES * 60))s" --timeout 10s -s "$HERE/wrk/post.lua" \
    "http://$HOST:$BATON_PORT/v1/chat/completions" >"$WORK/soak.out" 2>&1 &
  SOAK_PID=$!
  PIDS+=($SOAK_PID)
  : >"$RESULTS/soak-rss.txt"
  elapsed=0
  while kill -0 "$SOAK_PID" 2>/dev/null; do
    sleep 5; elapsed=$((elapsed + 5))
    kill -0 "$BATON_PID" 2>/dev/null || fail "Baton exited during the soak" "$WORK/baton.out"
    echo "$elapsed $(rss_kb "$BATON_PID")" >>"$RESULTS/soak-rss.txt"
    if (( elapsed % 60 == 0 )); then log "soak: minute $((elapsed / 60)), resident memory $(( $(rss_kb "$BATON_PID") / 1024 )) MB"; fi
  done
  wait "$SOAK_PID" || fail "wrk failed during the soak" "$WORK/soak.out"
  line="$(grep '^BENCH' "$WORK/soak.out")" || fail "wrk printed no summary for the soak" "$WORK/soak.out"
  echo "target=baton mode=soak minutes=$SOAK_MINUTES $(python3 "$HERE/report.py" --soak-summary "$RESULTS/soak-rss.txt" "$SOAK_MINUTES") $line" | tee -a "$RAW" >&2
fi

{
  echo "# Baton overhead benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "# $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(dotnet --version) SDK, wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), ${RUNS} runs of ${DURATION} s per row, load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# configuration: $(basename "$CONFIG")$([[ $REDIS == 1 ]] && echo ", baton-redis: $(basename "$REDIS_CONFIG")")"
  python3 "$HERE/report.py" "$RAW"
} | tee "$RESULTS/table.md"
