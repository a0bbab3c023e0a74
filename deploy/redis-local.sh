#!/usr/bin/env bash
# Three Baton gateways sharing one Redis, on this machine: the distributed topology of docs/distributed.md as
# local processes. Redis runs in a temporary directory without persistence; each gateway has its own working
# directory (ledger, budgets fallback) and all three share the key store. Ctrl-C stops everything.
#
#   deploy/redis-local.sh [--config FILE] [--redis-port PORT] [--first-port PORT] [--fail-mode local|closed]
#
#   --config      the gateways' configuration (default: Baton's built-in simulator configuration)
#   --redis-port  Redis's port (default 6390)
#   --first-port  the first gateway's port; the others take the next two (default 8081)
#   --fail-mode   redis.failMode (default local)
#
# Put any load balancer in front of 127.0.0.1:8081-8083; every gateway enforces the same limits and budgets.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CONFIG=""
REDIS_PORT=6390
FIRST_PORT=8081
FAIL_MODE=local
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config) CONFIG="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    --redis-port) REDIS_PORT="$2"; shift 2 ;;
    --first-port) FIRST_PORT="$2"; shift 2 ;;
    --fail-mode) FAIL_MODE="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building the baton command (Release)" >&2
dotnet build -c Release -nologo -v quiet "$ROOT/src/Baton.Cli/Baton.Cli.csproj" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
BATON_DLL="$ROOT/src/Baton.Cli/bin/Release/net10.0/baton.dll"

mkdir -p "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/redis" >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$REDIS_PORT" ping >/dev/null || { cat "$WORK/redis.log"; exit 1; }

export Baton__redis__connection="127.0.0.1:$REDIS_PORT"
export Baton__redis__failMode="$FAIL_MODE"
# One key store for the three (a file they share here; Postgres in a real deployment).
export Baton__auth__path="$WORK/keys.db"
for i in 0 1 2; do
  port=$((FIRST_PORT + i))
  mkdir -p "$WORK/gateway$i"
  args=(serve --urls "http://127.0.0.1:$port")
  [[ -n "$CONFIG" ]] && args+=(--config "$CONFIG")
  (cd "$WORK/gateway$i" && exec dotnet "$BATON_DLL" "${args[@]}") >"$WORK/gateway$i.log" 2>&1 &
  PIDS+=($!)
  echo "gateway $i: http://127.0.0.1:$port (log $WORK/gateway$i.log)" >&2
done
echo "redis: 127.0.0.1:$REDIS_PORT (fail mode $FAIL_MODE); Ctrl-C stops everything" >&2
wait
