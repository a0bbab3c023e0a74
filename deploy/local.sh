#!/usr/bin/env bash
# The topology of deploy/compose.yaml as processes on 127.0.0.1: N gateways on consecutive free ports, reading
# deploy/baton.json, plus Redis and Postgres started from the installed binaries when the configuration names them.
#
#   deploy/local.sh [--gateways N] [--no-stores] [--config FILE]   start, print the addresses, run until Ctrl-C
#   deploy/local.sh stop                                             stop a topology started from another shell
#
# Environment:
#   BATON_MASTER_KEY     the gateways' master key; generated (and written to $BATON_LOCAL_DIR/master-key) when unset
#   BATON_BIN            how to run baton (e.g. "baton" or "dotnet path/to/baton.dll"); default: published once
#                        from src/Baton.Cli into $BATON_LOCAL_DIR/bin
#   BATON_LOCAL_DIR      state, logs and process ids (default: deploy/.local)
#   BATON_LOCAL_PORT     the first port tried (default: 8081)
#   BATON_LOCAL_STORES=0 the same as --no-stores: drop redis and postgres from the configuration, start neither
set -euo pipefail

deploy="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$deploy")"
state="${BATON_LOCAL_DIR:-$deploy/.local}"
pids="$state/pids"
gateways=3
stores="${BATON_LOCAL_STORES:-1}"
config="$deploy/baton.json"
command="start"

while [ $# -gt 0 ]; do
  case "$1" in
    start|stop) command="$1" ;;
    --gateways) gateways="$2"; shift ;;
    --no-stores) stores=0 ;;
    --config) config="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "local.sh: unknown argument '$1' (see deploy/local.sh --help)" >&2; exit 2 ;;
  esac
  shift
done

alive() { kill -0 "$1" 2>/dev/null; }

# Stops every process this script started (their ids are in $pids), politely first.
stop_all() {
  # Read once: the other side of a stop (the starting script's exit trap) may remove the file meanwhile.
  local list pid
  list="$(cat "$pids" 2>/dev/null)" || return 0
  for pid in $(cut -d' ' -f1 <<<"$list"); do alive "$pid" && kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    local left=0
    for pid in $(cut -d' ' -f1 <<<"$list"); do alive "$pid" && left=1; done
    [ "$left" -eq 0 ] && break
    sleep 0.2
  done
  for pid in $(cut -d' ' -f1 <<<"$list"); do alive "$pid" && kill -KILL "$pid" 2>/dev/null || true; done
  rm -f "$pids"
}

if [ "$command" = "stop" ]; then
  if [ ! -f "$pids" ]; then
    echo "local.sh: nothing to stop ($pids does not exist)."
    exit 0
  fi
  stop_all
  echo "Baton local topology stopped."
  exit 0
fi

if [ -f "$pids" ]; then
  while read -r pid name; do
    if alive "$pid"; then
      echo "local.sh: already running ($name is process $pid); stop it first with deploy/local.sh stop." >&2
      exit 1
    fi
  done <"$pids"
  rm -f "$pids"
fi
case "$gateways" in ''|*[!0-9]*|0) echo "local.sh: --gateways needs a positive number." >&2; exit 2 ;; esac
[ -f "$config" ] || { echo "local.sh: the configuration $config does not exist." >&2; exit 2; }

mkdir -p "$state"
trap 'stop_all' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The command that runs baton.
if [ -n "${BATON_BIN:-}" ]; then
  read -r -a baton <<<"$BATON_BIN"
else
  if [ ! -x "$state/bin/baton" ]; then
    echo "Publishing baton into $state/bin (once; this takes a minute or more)..."
    dotnet publish "$root/src/Baton.Cli/Baton.Cli.csproj" -c Release -o "$state/bin" >"$state/publish.log" 2>&1 \
      || { tail -20 "$state/publish.log" >&2; exit 1; }
  fi
  baton=("$state/bin/baton")
fi

# The stores run only when the configuration names them (and --no-stores was not given).
use_redis=0; use_postgres=0
if [ "$stores" != "0" ]; then
  grep -q '^ *"redis":' "$config" && use_redis=1
  grep -q '^ *"postgres":' "$config" && use_postgres=1
fi

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The first run of consecutive free ports long enough for the gateways and the stores.
needed=$((gateways + use_redis + use_postgres))
base="${BATON_LOCAL_PORT:-8081}"
while :; do
  free=1
  for ((p = base; p < base + needed; p++)); do
    if in_use "$p"; then free=0; base=$((p + 1)); break; fi
  done
  [ "$free" -eq 1 ] && break
  [ "$base" -gt 65000 ] && { echo "local.sh: no $needed consecutive free ports found." >&2; exit 1; }
done
next_port=$base
take_port() { port=$next_port; next_port=$((next_port + 1)); }

started() { echo "$1 $2" >>"$pids"; }

# Waits until $2 answers on 127.0.0.1:$3 (process $1 must stay alive meanwhile).
wait_until_up() {
  local pid="$1" name="$2" check="$3"
  for _ in $(seq 1 600); do
    if ! alive "$pid"; then
      echo "local.sh: $name stopped while starting; its log ($state/$name.log) ends with:" >&2
      tail -20 "$state/$name.log" >&2
      exit 1
    fi
    if eval "$check" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "local.sh: $name did not come up within 2 minutes; see $state/$name.log" >&2
  exit 1
}

# The configuration the gateways read: deploy/baton.json with the stores' addresses made local, or without them.
local_config="$state/baton.json"
cp "$config" "$local_config"
if [ "$use_redis" -eq 0 ]; then sed -i '/^ *"redis":/d' "$local_config"; fi
if [ "$use_postgres" -eq 0 ]; then sed -i '/^ *"postgres":/d' "$local_config"; fi

if [ "$use_redis" -eq 1 ]; then
  take_port; redis_port=$port
  mkdir -p "$state/redis"
  redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$state/redis" \
    >"$state/redis.log" 2>&1 &
  started $! redis
  wait_until_up $! redis "in_use $redis_port"
  sed -i "s|\"redis:6379\"|\"127.0.0.1:$redis_port\"|" "$local_config"
  echo "redis      127.0.0.1:$redis_port"
fi

if [ "$use_postgres" -eq 1 ]; then
  take_port; pg_port=$port
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)"
  [ -x "$bin/postgres" ] || { echo "local.sh: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres)." >&2; exit 1; }
  # PostgreSQL refuses to run as root: as root, its files belong to the postgres user and it runs as that user.
  as_pg=()
  if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi
  rm -rf "$state/postgres"; mkdir -p "$state/postgres"
  if [ ${#as_pg[@]} -gt 0 ]; then
    chown postgres "$state/postgres"
    "${as_pg[@]}" test -x "$state/postgres" || {
      echo "local.sh: the postgres user cannot reach $state/postgres; let it through the folders above (chmod o+x), or set BATON_LOCAL_DIR." >&2
      exit 1
    }
  fi
  "${as_pg[@]}" "$bin/initdb" -D "$state/postgres/data" -U baton --auth=trust >"$state/postgres.log" 2>&1
  "${as_pg[@]}" "$bin/postgres" -D "$state/postgres/data" -p "$pg_port" -h 127.0.0.1 -k "$state/postgres" \
    >>"$state/postgres.log" 2>&1 &
  started $! postgres
  wait_until_up $! postgres "'$bin/pg_isready' -h 127.0.0.1 -p $pg_port"
  "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U baton baton >>"$state/postgres.log" 2>&1
  sed -i "s|Host=postgres;Port=5432|Host=127.0.0.1;Port=$pg_port|" "$local_config"
  echo "postgres   127.0.0.1:$pg_port (database baton, user baton)"
fi

if grep -q '"masterKeyEnv": *"BATON_MASTER_KEY"' "$local_config" && [ -z "${BATON_MASTER_KEY:-}" ]; then
  umask 077
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$state/master-key"
  umask 022
  BATON_MASTER_KEY="$(cat "$state/master-key")"
  echo "master key in $state/master-key (BATON_MASTER_KEY was not set)"
fi
export BATON_MASTER_KEY="${BATON_MASTER_KEY:-}"
# Gen1's budget capped as in the container image (docs/deploy.md): the runtime reads it only from the environment.
export DOTNET_GCGen1MaxBudget="${DOTNET_GCGen1MaxBudget:-0x1000000}"

for ((i = 1; i <= gateways; i++)); do
  take_port
  name="gateway-$i"
  # Each gateway has its own working directory, so that its local files (ledger, batch store) are its own.
  mkdir -p "$state/$name"
  (cd "$state/$name" && exec "${baton[@]}" serve --config "$local_config" --urls "http://127.0.0.1:$port") \
    >"$state/$name.log" 2>&1 &
  started $! "$name"
  eval "gateway_${i}_pid=$! gateway_${i}_port=$port"
done
for ((i = 1; i <= gateways; i++)); do
  eval "pid=\$gateway_${i}_pid port=\$gateway_${i}_port"
  wait_until_up "$pid" "gateway-$i" "curl -sf http://127.0.0.1:$port/health"
  echo "gateway-$i  http://127.0.0.1:$port/v1"
done

echo "Baton local topology ready: $gateways gateway(s). Stop with Ctrl-C or deploy/local.sh stop."
# Runs until the processes end (deploy/local.sh stop) or Ctrl-C; the EXIT trap stops whatever is left.
wait
