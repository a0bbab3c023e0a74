#!/usr/bin/env bash
# Where a Redis gateway's time goes: one gateway with its state in Redis (bench/baton.bench.redis.json) on the static
# upstream, loaded with wrk at 64 connections; after a warm-up, Redis's statistics are reset and one measured run
# gives, per request, the CPU time of the gateway and of redis-server (/proc/<pid>/stat) and each Redis command's
# calls and time by Redis's own count (INFO commandstats; EVALSHA's time includes the commands its script runs), and
# the gateway's peak resident memory.
# See docs/benchmarks.md ("Latest run").
#
#   bench/redis-cost.sh [--mode json|sse] [--duration SECONDS] [--connections N] [--no-install]
#
#   --mode        non-streamed answers (json, the default) or streamed (sse)
#   --duration    seconds of the measured run (default 15; the warm-up is twice that)
#   --connections wrk's connections (default 64)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
MODE=json DURATION=15 CONNECTIONS=64 INSTALL=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --mode) MODE="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ $MODE =~ ^(json|sse)$ ]] || { echo "--mode is json or sse" >&2; exit 2; }
[[ $DURATION =~ ^[1-9][0-9]*$ && $CONNECTIONS =~ ^[1-9][0-9]*$ ]] || { echo "--duration and --connections are positive whole numbers" >&2; exit 2; }

UPSTREAM_PORT=18101 GATEWAY_PORT=18102 REDIS_PORT=18103
LOG_TAG=redis-cost
source "$HERE/lib.sh"
require_tools python3:python3 redis-server:redis-server redis-cli:redis-tools
require_free_ports $UPSTREAM_PORT $GATEWAY_PORT $REDIS_PORT

log "building Baton (Release)"
build_release "$ROOT/src/Baton.Cli/Baton.Cli.csproj"
start_upstream
start_redis $REDIS_PORT
export DOTNET_gcServer=1 DOTNET_TieredPGO=1 ASPNETCORE_ENVIRONMENT=Production DOTNET_CLI_TELEMETRY_OPTOUT=1
export BATON_BENCH_MASTER_KEY="${BATON_BENCH_MASTER_KEY:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"
mkdir -p "$WORK/gateway"
sed "s/127.0.0.1:18081/$HOST:$UPSTREAM_PORT/g" "$HERE/baton.bench.redis.json" >"$WORK/gateway/baton.json"
(cd "$WORK/gateway" && exec env "$BATON_GC_CAP" Baton__redis__connection="$HOST:$REDIS_PORT" \
  dotnet "$ROOT/src/Baton.Cli/bin/Release/net10.0/baton.dll" serve --config "$WORK/gateway/baton.json" --urls "http://$HOST:$GATEWAY_PORT") >"$WORK/gateway.out" 2>&1 &
GATEWAY_PID=$!
PIDS+=($GATEWAY_PID)
wait_ready gateway "http://$HOST:$GATEWAY_PORT/v1/chat/completions" "$HERE/wrk/request.json" "$BATON_BENCH_MASTER_KEY"
KEY="$(create_key "http://$HOST:$GATEWAY_PORT")"

body="$HERE/wrk/request.json"; [[ $MODE == sse ]] && body="$HERE/wrk/request-stream.json"
load() { # SECONDS OUTPUT
  BENCH_API_KEY="$KEY" BENCH_BODY="$body" BENCH_CACHE_CONTROL=no-cache wrk -t2 -c"$CONNECTIONS" -d"$1s" --timeout 10s \
    -s "$HERE/wrk/post.lua" "http://$HOST:$GATEWAY_PORT/v1/chat/completions" >"$2" 2>&1 || fail "wrk failed" "$2"
}

log "warm-up: $((DURATION * 2)) s"
load $((DURATION * 2)) "$WORK/warm.out"
redis-cli -h "$HOST" -p "$REDIS_PORT" config resetstat >/dev/null
gateway_before=$(cpu_ticks "$GATEWAY_PID") redis_before=$(cpu_ticks "$REDIS_PID")
log "measured run: $DURATION s, $MODE, $CONNECTIONS connections"
load "$DURATION" "$WORK/wrk.out"
gateway_after=$(cpu_ticks "$GATEWAY_PID") redis_after=$(cpu_ticks "$REDIS_PID")
requests=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' "$WORK/wrk.out")
errors=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' "$WORK/wrk.out")
(( requests > 0 )) || fail "no request completed" "$WORK/wrk.out"
redis-cli -h "$HOST" -p "$REDIS_PORT" info commandstats >"$WORK/commandstats.txt"
peak_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$GATEWAY_PID/status")

python3 - "$requests" "$errors" "$DURATION" $((gateway_after - gateway_before)) $((redis_after - redis_before)) "$peak_kb" "$WORK/commandstats.txt" <<'PY'
import sys
requests, errors, seconds, gateway_ticks, redis_ticks, peak_kb = map(int, sys.argv[1:7])
# /proc counts CPU in clock ticks of 10 ms.
print(f"{requests / seconds:,.0f} requests/s, {errors} errors; CPU per request: gateway {gateway_ticks * 10 / requests:.4f} ms, "
      f"redis-server {redis_ticks * 10 / requests:.4f} ms; the gateway's peak resident memory {peak_kb / 1024:.0f} MB")
print("| command | calls / request | µs / request | µs / call |")
print("|---|---:|---:|---:|")
rows = []
for line in open(sys.argv[7]):
    if not line.startswith("cmdstat_") or line.startswith("cmdstat_config"):
        continue
    name, fields = line.strip()[len("cmdstat_"):].split(":", 1)
    stats = dict(field.split("=", 1) for field in fields.split(","))
    rows.append((int(stats["usec"]) / requests, int(stats["calls"]) / requests, float(stats["usec_per_call"]), name))
for usec, calls, per_call, name in sorted(rows, reverse=True):
    print(f"| {name.upper()} | {calls:.2f} | {usec:.1f} | {per_call:.1f} |")
PY
