#!/usr/bin/env bash
# Observability's cost: the same static upstream (nginx) and two Baton gateways side by side, one with
# observability off (baton.bench.observability-off.json: no spans, no meter, no /metrics) and one with the defaults
# (baton.bench.nocache.json: tracing and metrics on, no exporter configured), driven by wrk in alternation so that
# the machine's noise falls on both alike. A third row sends a sampled traceparent with every request to the gateway
# with observability on, so that every span is recorded and continued to the upstream. See docs/benchmarks.md.
#
#   bench/observability.sh [--duration SECONDS] [--rounds N] [--port-base P] [--no-install]
#
#   --duration  seconds of load per wrk run (default 5; each gateway also gets a 5 s warm-up)
#   --rounds    how many times the rows alternate (default 3); the table shows each row's median
#   --port-base the upstream's port; the two gateways take P+6 and P+7 (default 18181)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DURATION=5
ROUNDS=3
INSTALL=1
PORT_BASE=18181
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --port-base) PORT_BASE="$2"; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

# Ports of their own, so that this runs beside run.sh or cache.sh; the configurations are rewritten to match.
UPSTREAM_PORT=$PORT_BASE OFF_PORT=$((PORT_BASE + 6)) ON_PORT=$((PORT_BASE + 7))
LOG_TAG=observability-bench
source "$HERE/lib.sh"
require_tools
require_free_ports $UPSTREAM_PORT $OFF_PORT $ON_PORT
log "building Baton (Release)"
dotnet build -c Release -nologo -v quiet "$ROOT/src/Baton.Cli/Baton.Cli.csproj" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
BATON_DLL="$ROOT/src/Baton.Cli/bin/Release/net10.0/baton.dll"

start_upstream

export DOTNET_gcServer=1 DOTNET_TieredPGO=1 ASPNETCORE_ENVIRONMENT=Production DOTNET_CLI_TELEMETRY_OPTOUT=1
# No OTLP collector: what is measured is the instrumentation itself (spans created and dropped, metrics aggregated).
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_EXPORTER_OTLP_METRICS_ENDPOINT
mkdir -p "$WORK/off" "$WORK/on"
sed "s/127.0.0.1:18081/$HOST:$UPSTREAM_PORT/g" "$HERE/baton.bench.observability-off.json" >"$WORK/off.json"
sed "s/127.0.0.1:18081/$HOST:$UPSTREAM_PORT/g" "$HERE/baton.bench.nocache.json" >"$WORK/on.json"
# The configurations require keys, as a shared gateway would; the master key serves as the caller's here.
export BATON_BENCH_MASTER_KEY="${BATON_BENCH_MASTER_KEY:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"
export BENCH_API_KEY="$BATON_BENCH_MASTER_KEY"
(cd "$WORK/off" && exec env "$BATON_GC_CAP" dotnet "$BATON_DLL" serve --config "$WORK/off.json" --urls "http://$HOST:$OFF_PORT") >"$WORK/off.out" 2>&1 &
PIDS+=($!)
(cd "$WORK/on" && exec env "$BATON_GC_CAP" dotnet "$BATON_DLL" serve --config "$WORK/on.json" --urls "http://$HOST:$ON_PORT") >"$WORK/on.out" 2>&1 &
PIDS+=($!)
BODY="$HERE/wrk/request.json"
wait_ready off "http://$HOST:$OFF_PORT/v1/chat/completions" "$BODY" "$BENCH_API_KEY"
wait_ready on "http://$HOST:$ON_PORT/v1/chat/completions" "$BODY" "$BENCH_API_KEY"
TRACEPARENT="00-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-01"

RAW="$RESULTS/observability-raw.txt"
: >"$RAW"

log "warm-up"
for conns in 1 64; do
  BENCH_BODY="$BODY" wrk -t1 -c"$conns" -d5s -s "$HERE/wrk/post.lua" "http://$HOST:$OFF_PORT/v1/chat/completions" >/dev/null 2>&1 || true
  BENCH_BODY="$BODY" wrk -t1 -c"$conns" -d5s -s "$HERE/wrk/post.lua" "http://$HOST:$ON_PORT/v1/chat/completions" >/dev/null 2>&1 || true
done

# As in cache.sh: a pause before each row, and the rows swap places from round to round.
for round in $(seq 1 "$ROUNDS"); do
  log "round $round of $ROUNDS"
  for conns in 1 64; do
    if (( round % 2 == 1 )); then
      settle; drive_row off "$conns" $OFF_PORT
      settle; drive_row on "$conns" $ON_PORT
      settle; drive_row traced "$conns" $ON_PORT "BENCH_TRACEPARENT=$TRACEPARENT"
    else
      settle; drive_row traced "$conns" $ON_PORT "BENCH_TRACEPARENT=$TRACEPARENT"
      settle; drive_row on "$conns" $ON_PORT
      settle; drive_row off "$conns" $OFF_PORT
    fi
  done
done

python3 "$HERE/rows.py" "$RAW" off off="observability off" on="tracing and metrics on, no exporter" traced="on, caller sends a sampled traceparent" | tee "$RESULTS/observability-table.md"
