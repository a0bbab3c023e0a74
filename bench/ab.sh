#!/usr/bin/env bash
# A/B of two gateways: two builds of Baton (two checkouts) or one build under two environments, side by side on one
# static upstream (nginx), the team configuration, a virtual key each; or, with --yarp, two YARP passthroughs under
# two environments (does a runtime setting that helps Baton help the proxy it is compared with?). wrk alternates
# between them in short slices, so that the machine's drift (tens of percent within the hour) falls on both alike; each
# slice's requests/s, CPU per request (the process's own, from /proc) and allocated bytes per request are printed,
# then the totals and B's ratios to A. See docs/benchmarks.md ("Sixth round").
#
#   bench/ab.sh [--a DIR] [--b DIR] [--env-a "K=V ..."] [--env-b "K=V ..."] [--mode json|sse|sse-anthropic|sse-gemini|hit] [--rounds N]
#               [--slice SECONDS] [--warm-up SECONDS] [--connections N] [--yarp | --redis] [--no-install]
#
#   --a, --b     checkouts to build and run (default: this one, for both)
#   --env-a/-b   environment variables for that side's gateway only
#   --mode       non-streamed answers (json, the default), streamed (sse), streamed from an upstream speaking
#                Anthropic's Messages format or Gemini's (sse-anthropic, sse-gemini: the stream translated), or cache
#                hits (hit)
#   --rounds     slices per side (default 8); --slice: seconds per slice (default 5)
#   --warm-up    seconds of non-streamed and of streamed load per gateway before the first slice (default 30 in all)
#   --connections  wrk's connections in the measured slices (default 64); each slice also prints its p50 latency,
#                and the totals the median of the slices' p50s (with 1 connection: what each side adds to a request)
#   --yarp       both sides run bench/YarpPassthrough instead of Baton (--a's build; --mode hit is Baton's only)
#   --redis      both sides run the team configuration in Redis (baton.bench.redis.json), each with a redis-server of
#                its own; each slice also prints that redis-server's CPU per request
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
A="$ROOT" B="" ENV_A="" ENV_B="" MODE=json ROUNDS=8 SLICE=5 WARM_UP=30 CONNECTIONS=64 YARP=0 REDIS=0 INSTALL=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --a) A="$(cd "$2" && pwd)"; shift 2 ;;
    --b) B="$(cd "$2" && pwd)"; shift 2 ;;
    --env-a) ENV_A="$2"; shift 2 ;;
    --env-b) ENV_B="$2"; shift 2 ;;
    --mode) MODE="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --slice) SLICE="$2"; shift 2 ;;
    --warm-up) WARM_UP="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --yarp) YARP=1; shift ;;
    --redis) REDIS=1; shift ;;
    --no-install) INSTALL=0; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
B="${B:-$A}"
[[ $MODE =~ ^(json|sse|sse-anthropic|sse-gemini|hit)$ ]] || { echo "--mode is json, sse, sse-anthropic, sse-gemini or hit" >&2; exit 2; }
[[ $YARP == 1 && $MODE =~ ^(hit|sse-anthropic|sse-gemini)$ ]] && { echo "--mode $MODE measures Baton's own work: not with --yarp" >&2; exit 2; }
[[ $REDIS == 1 && $MODE =~ ^sse-(anthropic|gemini)$ ]] && { echo "--mode $MODE runs the team configuration only: not with --redis" >&2; exit 2; }
[[ $YARP == 1 && $REDIS == 1 ]] && { echo "--yarp and --redis exclude each other" >&2; exit 2; }

UPSTREAM_PORT=18091 A_PORT=18092 A_PROBE=18093 B_PORT=18094 B_PROBE=18095 A_REDIS=18096 B_REDIS=18097
LOG_TAG=ab
source "$HERE/lib.sh"
if [[ $REDIS == 1 ]]; then
  require_tools python3:python3 redis-server:redis-server redis-cli:redis-tools
  require_free_ports $A_REDIS $B_REDIS
else
  require_tools python3:python3
fi
require_free_ports $UPSTREAM_PORT $A_PORT $A_PROBE $B_PORT $B_PROBE

log "building (Release)"
build_release "$A/src/Baton.Cli/Baton.Cli.csproj" "$HERE/AllocProbe/AllocProbe.csproj" "$HERE/YarpPassthrough/YarpPassthrough.csproj"
[[ $B == "$A" || $YARP == 1 ]] || build_release "$B/src/Baton.Cli/Baton.Cli.csproj"
PROBE_DLL="$HERE/AllocProbe/bin/Release/net10.0/AllocProbe.dll"
YARP_DLL="$HERE/YarpPassthrough/bin/Release/net10.0/YarpPassthrough.dll"

start_upstream
export DOTNET_gcServer=1 DOTNET_TieredPGO=1 ASPNETCORE_ENVIRONMENT=Production DOTNET_CLI_TELEMETRY_OPTOUT=1
export BATON_BENCH_MASTER_KEY="${BATON_BENCH_MASTER_KEY:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"

# start_side NAME TREE PORT PROBE "ENV" REDIS_PORT: the gateway in a scratch directory of its own (its cache and ledger
# start empty); with --redis, its redis-server first.
start_side() {
  mkdir -p "$WORK/$1"
  if [[ $YARP == 1 ]]; then
    # shellcheck disable=SC2086 # the environment string is split into its assignments on purpose
    env $5 BENCH_PROBE_PORT="$4" DOTNET_STARTUP_HOOKS="$PROBE_DLL" \
      dotnet "$YARP_DLL" --urls "http://$HOST:$3" --destination "http://$HOST:$UPSTREAM_PORT/" >"$WORK/$1.out" 2>&1 &
    SIDE_PID=$!
    PIDS+=($SIDE_PID)
    return
  fi
  local config="$HERE/baton.bench.team.json" redis=""
  if [[ $REDIS == 1 ]]; then
    config="$HERE/baton.bench.redis.json"
    start_redis "$6" "$1"
    redis="Baton__redis__connection=$HOST:$6"
  fi
  sed "s/127.0.0.1:18081/$HOST:$UPSTREAM_PORT/g" "$config" >"$WORK/$1/baton.json"
  # shellcheck disable=SC2086 # the environment string is split into its assignments on purpose
  (cd "$WORK/$1" && exec env "$BATON_GC_CAP" $5 $redis BENCH_PROBE_PORT="$4" DOTNET_STARTUP_HOOKS="$PROBE_DLL" \
    dotnet "$2/src/Baton.Cli/bin/Release/net10.0/baton.dll" serve --config "$WORK/$1/baton.json" --urls "http://$HOST:$3") >"$WORK/$1.out" 2>&1 &
  SIDE_PID=$!
  PIDS+=($SIDE_PID)
}
start_side a "$A" $A_PORT $A_PROBE "$ENV_A" $A_REDIS; A_PID=$SIDE_PID A_REDIS_PID=${REDIS_PID:-}
start_side b "$B" $B_PORT $B_PROBE "$ENV_B" $B_REDIS; B_PID=$SIDE_PID B_REDIS_PID=${REDIS_PID:-}
if [[ $YARP == 1 ]]; then
  wait_ready a "http://$HOST:$A_PORT/health"
  wait_ready b "http://$HOST:$B_PORT/health"
  A_KEY="$BATON_BENCH_MASTER_KEY" B_KEY="$BATON_BENCH_MASTER_KEY"
else
  wait_ready a "http://$HOST:$A_PORT/v1/chat/completions" "$HERE/wrk/request.json" "$BATON_BENCH_MASTER_KEY"
  wait_ready b "http://$HOST:$B_PORT/v1/chat/completions" "$HERE/wrk/request.json" "$BATON_BENCH_MASTER_KEY"
  A_KEY="$(create_key "http://$HOST:$A_PORT")"
  B_KEY="$(create_key "http://$HOST:$B_PORT")"
fi

cache_control=no-cache; [[ $MODE == hit ]] && cache_control=""
body="$HERE/wrk/request.json"; [[ $MODE == sse ]] && body="$HERE/wrk/request-stream.json"
[[ $MODE == sse-anthropic ]] && body="$HERE/wrk/request-anthropic-stream.json"
[[ $MODE == sse-gemini ]] && body="$HERE/wrk/request-gemini-stream.json"
# The YARP passthrough forwards the path as it is: the upstream serves the streamed answer under /sse/.
url_path() { [[ $YARP == 1 && $1 == */request-stream.json ]] && echo /sse/v1/chat/completions || echo /v1/chat/completions; }
side() { # NAME: sets PORT KEY PID PROBE RPID (its redis-server, with --redis)
  if [[ $1 == a ]]; then PORT=$A_PORT KEY=$A_KEY PID=$A_PID PROBE=$A_PROBE RPID=$A_REDIS_PID
  else PORT=$B_PORT KEY=$B_KEY PID=$B_PID PROBE=$B_PROBE RPID=$B_REDIS_PID; fi
}

warm_bodies=("$HERE/wrk/request.json" "$HERE/wrk/request-stream.json")
[[ $MODE =~ ^sse-(anthropic|gemini)$ ]] && warm_bodies+=("$body")
log "warm-up: ${WARM_UP} s per gateway, non-streamed and streamed"
for name in a b; do
  side $name
  for warm in "${warm_bodies[@]}"; do
    BENCH_API_KEY="$KEY" BENCH_BODY="$warm" BENCH_CACHE_CONTROL=$cache_control wrk -t2 -c64 -d"$((WARM_UP / 2))s" \
      -s "$HERE/wrk/post.lua" "http://$HOST:$PORT$(url_path "$warm")" >/dev/null 2>&1 || true
  done
done

# Allocations are summed over the slices whose probe total grew: the server GC's total falls when it retires a heap
# (bench/AllocProbe), and a slice across that reads negative. measured_* count those slices and their requests.
declare -A requests=([a]=0 [b]=0) ticks=([a]=0 [b]=0) redis_ticks=([a]=0 [b]=0) allocated=([a]=0 [b]=0) p50s=([a]="" [b]="")
declare -A measured_requests=([a]=0 [b]=0) measured_slices=([a]=0 [b]=0)
threads=2; (( CONNECTIONS < 2 )) && threads=1
for round in $(seq 1 "$ROUNDS"); do
  for name in a b; do
    side $name
    before_alloc=$(read_allocated "$PROBE") before_cpu=$(cpu_ticks "$PID") before_redis=0 after_redis=0
    [[ $REDIS == 1 ]] && before_redis=$(cpu_ticks "$RPID")
    BENCH_API_KEY="$KEY" BENCH_BODY="$body" BENCH_CACHE_CONTROL=$cache_control wrk -t$threads -c"$CONNECTIONS" -d"${SLICE}s" --timeout 10s \
      -s "$HERE/wrk/post.lua" "http://$HOST:$PORT$(url_path "$body")" >"$WORK/wrk.out" 2>&1 || fail "wrk failed against $name" "$WORK/wrk.out"
    after_alloc=$(read_allocated "$PROBE") after_cpu=$(cpu_ticks "$PID")
    [[ $REDIS == 1 ]] && after_redis=$(cpu_ticks "$RPID")
    count=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' "$WORK/wrk.out")
    p50=$(sed -n 's/.* p50_us=\([0-9]*\).*/\1/p' "$WORK/wrk.out")
    p50s[$name]="${p50s[$name]} $p50"
    (( count > 0 )) || fail "no request to $name completed" "$WORK/wrk.out"
    requests[$name]=$(( ${requests[$name]} + count ))
    ticks[$name]=$(( ${ticks[$name]} + after_cpu - before_cpu ))
    redis_ticks[$name]=$(( ${redis_ticks[$name]} + after_redis - before_redis ))
    if (( after_alloc >= before_alloc )); then
      allocated[$name]=$(( ${allocated[$name]} + after_alloc - before_alloc ))
      measured_requests[$name]=$(( ${measured_requests[$name]} + count ))
      measured_slices[$name]=$(( ${measured_slices[$name]} + 1 ))
    fi
    # /proc counts CPU in clock ticks of 10 ms.
    redis_cpu=""; [[ $REDIS == 1 ]] && redis_cpu=$(python3 -c "print(f' (redis-server {($after_redis - $before_redis) * 10 / $count:.4f} ms)')")
    python3 -c "print(f'round {$round} {\"$name\"}: {$count / $SLICE:,.0f} req/s, {($after_cpu - $before_cpu) * 10 / $count:.4f} ms CPU / request$redis_cpu, {($after_alloc - $before_alloc) / $count:,.0f} B / request, p50 {$p50} µs')"
  done
done
python3 - "${requests[a]}" "${ticks[a]}" "${allocated[a]}" "${requests[b]}" "${ticks[b]}" "${allocated[b]}" "$ROUNDS" "$SLICE" \
  "${measured_requests[a]}" "${measured_slices[a]}" "${measured_requests[b]}" "${measured_slices[b]}" "${p50s[a]}" "${p50s[b]}" \
  "$REDIS" "${redis_ticks[a]}" "${redis_ticks[b]}" <<'PY'
import statistics, sys
ra, ta, aa, rb, tb, ab, rounds, slice_, ma, sa, mb, sb = map(int, sys.argv[1:13])
pa, pb = (statistics.median(map(int, p.split())) for p in sys.argv[13:15])
redis, xa, xb = map(int, sys.argv[15:18])
seconds = rounds * slice_
per_request = {}
for name, r, t, x, a, m, s, p in (("a", ra, ta, xa, aa, ma, sa, pa), ("b", rb, tb, xb, ab, mb, sb, pb)):
    per_request[name] = a / m if m else float("nan")
    redis_cpu = f" (redis-server {x * 10 / r:.4f} ms)" if redis else ""
    print(f"{name}: {r / seconds:,.0f} req/s, {t * 10 / r:.4f} ms CPU / request{redis_cpu}, {per_request[name]:,.0f} B / request "
          f"({s} of {rounds} slices), median p50 {p:.0f} µs")
redis_ratio = f" (redis-server's {(xb / rb) / (xa / ra):.3f})" if redis and xa and rb else ""
print(f"b/a: requests/s {rb / ra:.3f}, CPU per request {(tb / rb) / (ta / ra):.3f}{redis_ratio}, "
      f"allocated per request {per_request['b'] / per_request['a']:.3f}, median p50 {pb / pa:.3f}")
PY
