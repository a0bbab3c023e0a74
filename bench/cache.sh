#!/usr/bin/env bash
# The response cache's cost: the same static upstream (nginx) and two Baton gateways side by side, one with the
# cache off and one with the default store (SQLite), driven by wrk in alternation so that the machine's noise
# falls on both alike. Rows: cache off; SQLite store with every request storing its answer (Cache-Control:
# no-cache: no lookup, one write each); SQLite store with every request a hit. See docs/benchmarks.md.
#
#   bench/cache.sh [--duration SECONDS] [--rounds N] [--store-config FILE] [--no-install]
#
#   --duration  seconds of load per wrk run (default 5; each gateway also gets a 5 s warm-up)
#   --rounds    how many times the rows alternate (default 3); the table shows each row's median
#   --store-config  the cached gateway's configuration (default bench/baton.bench.sqlite.json; baton.bench.json has
#               the memory store)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DURATION=5
ROUNDS=3
INSTALL=1
STORE_CONFIG="$HERE/baton.bench.sqlite.json"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --store-config) STORE_CONFIG="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

UPSTREAM_PORT=18081 OFF_PORT=18085 SQLITE_PORT=18086
LOG_TAG=cache-bench
source "$HERE/lib.sh"
require_tools
require_free_ports $UPSTREAM_PORT $OFF_PORT $SQLITE_PORT

log "building Baton (Release)"
dotnet build -c Release -nologo -v quiet "$ROOT/src/Baton.Cli/Baton.Cli.csproj" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
BATON_DLL="$ROOT/src/Baton.Cli/bin/Release/net10.0/baton.dll"

start_upstream

export DOTNET_gcServer=1 DOTNET_TieredPGO=1 ASPNETCORE_ENVIRONMENT=Production DOTNET_CLI_TELEMETRY_OPTOUT=1
# Each gateway runs in its own scratch directory, so that the SQLite cache file starts empty and is removed after.
mkdir -p "$WORK/off" "$WORK/sqlite"
# The configurations require keys, as a shared gateway would; the master key serves as the caller's here.
export BATON_BENCH_MASTER_KEY="${BATON_BENCH_MASTER_KEY:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"
export BENCH_API_KEY="$BATON_BENCH_MASTER_KEY"
(cd "$WORK/off" && exec env "$BATON_GC_CAP" dotnet "$BATON_DLL" serve --config "$HERE/baton.bench.nocache.json" --urls "http://$HOST:$OFF_PORT") >"$WORK/off.out" 2>&1 &
PIDS+=($!)
(cd "$WORK/sqlite" && exec env "$BATON_GC_CAP" dotnet "$BATON_DLL" serve --config "$STORE_CONFIG" --urls "http://$HOST:$SQLITE_PORT") >"$WORK/sqlite.out" 2>&1 &
PIDS+=($!)
BODY="$HERE/wrk/request.json"
wait_ready off "http://$HOST:$OFF_PORT/v1/chat/completions" "$BODY" "$BENCH_API_KEY"
wait_ready sqlite "http://$HOST:$SQLITE_PORT/v1/chat/completions" "$BODY" "$BENCH_API_KEY"

RAW="$RESULTS/cache-raw.txt"
: >"$RAW"

log "warm-up"
for conns in 1 64; do
  BENCH_BODY="$BODY" wrk -t1 -c"$conns" -d5s -s "$HERE/wrk/post.lua" "http://$HOST:$OFF_PORT/v1/chat/completions" >/dev/null 2>&1 || true
  BENCH_BODY="$BODY" BENCH_CACHE_CONTROL=no-cache wrk -t1 -c"$conns" -d5s -s "$HERE/wrk/post.lua" "http://$HOST:$SQLITE_PORT/v1/chat/completions" >/dev/null 2>&1 || true
done

# A gateway goes on working after its wrk run ends (its ledger and cache writers commit what was queued, the
# collector runs), which takes CPU from whatever row is driven next on 2 cores. So each row is preceded by a short
# pause, and the cache-off and storing rows swap places from round to round, so that neither always follows the
# other's load.
for round in $(seq 1 "$ROUNDS"); do
  log "round $round of $ROUNDS"
  for conns in 1 64; do
    if (( round % 2 == 1 )); then
      settle; drive_row off "$conns" $OFF_PORT
      settle; drive_row sqlite-store "$conns" $SQLITE_PORT BENCH_CACHE_CONTROL=no-cache
    else
      settle; drive_row sqlite-store "$conns" $SQLITE_PORT BENCH_CACHE_CONTROL=no-cache
      settle; drive_row off "$conns" $OFF_PORT
    fi
    settle; drive_row sqlite-hit "$conns" $SQLITE_PORT
  done
done

python3 "$HERE/rows.py" "$RAW" off off="cache off" sqlite-store="cache on, every answer stored (no-cache)" sqlite-hit="cache on, every request a hit" | tee "$RESULTS/cache-table.md"
