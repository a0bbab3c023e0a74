#!/usr/bin/env bash
# A local PostgreSQL cluster for running several Baton gateways on one machine (see docs/distributed.md#postgres).
#
#   deploy/postgres-local.sh init     create the cluster and the 'baton' database (once)
#   deploy/postgres-local.sh start    start it on 127.0.0.1:$BATON_PG_PORT; prints the connection string
#   deploy/postgres-local.sh stop     stop it
#   deploy/postgres-local.sh status   say whether it runs
#   deploy/postgres-local.sh url      print the connection string for postgres.connection
#   deploy/postgres-local.sh destroy  stop it and delete its directory
#
# BATON_PG_DIR (default ./.baton-postgres) holds the cluster; BATON_PG_PORT (default 55432) is its port. The newest
# PostgreSQL under /usr/lib/postgresql is used, or the one whose bin directory BATON_PG_BIN names. The cluster
# listens on 127.0.0.1 only and trusts local connections: it is for development, not for production. PostgreSQL
# refuses to run as root, so as root the cluster is run as the 'postgres' user.
set -euo pipefail

dir="$(realpath -m "${BATON_PG_DIR:-./.baton-postgres}")"
port="${BATON_PG_PORT:-55432}"

bin="${BATON_PG_BIN:-}"
if [[ -z "$bin" ]]; then
  newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n | tail -n 1 || true)"
  bin="${newest:-$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")}"
fi
if [[ ! -x "$bin/initdb" ]]; then
  echo "postgres-local: PostgreSQL not found (install the 'postgresql' package, or set BATON_PG_BIN)" >&2
  exit 1
fi

as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

url() {
  echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=baton"
}

running() {
  [[ -f "$dir/data/PG_VERSION" ]] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

case "${1:-}" in
  init)
    if [[ -f "$dir/data/PG_VERSION" ]]; then
      echo "postgres-local: $dir already holds a cluster"
      exit 0
    fi
    mkdir -p "$dir"
    if [[ "$(id -u)" == 0 ]]; then
      chown postgres:postgres "$dir"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
    as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE baton" >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -w stop >/dev/null
    echo "postgres-local: cluster created in $dir"
    ;;
  start)
    if running; then
      url
      exit 0
    fi
    [[ -f "$dir/data/PG_VERSION" ]] || { echo "postgres-local: no cluster in $dir; run '$0 init' first" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
    url
    ;;
  stop)
    if running; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    ;;
  status)
    if running; then echo "running on 127.0.0.1:$port ($dir)"; else echo "stopped ($dir)"; exit 3; fi
    ;;
  url)
    url
    ;;
  destroy)
    if running; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    fi
    rm -rf "$dir"
    ;;
  *)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
