# Shared by bench/run.sh, bench/cache.sh and bench/observability.sh: scratch folder and process cleanup, tools, free ports, readiness.
# Expects HERE, INSTALL and LOG_TAG to be set by the sourcing script.

HOST=127.0.0.1
RESULTS="$HERE/results"
WORK="$(mktemp -d)"
mkdir -p "$RESULTS"
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }

# require_tools [extra command:package ...]: wrk, nginx and curl, plus the extras; installed with apt-get unless --no-install.
require_tools() {
  local need=() pair
  command -v wrk >/dev/null || need+=(wrk)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
  command -v curl >/dev/null || need+=(curl)
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null || need+=("${pair##*:}"); done
  if [[ ${#need[@]} -gt 0 ]]; then
    [[ $INSTALL == 1 ]] || { echo "missing: ${need[*]}" >&2; exit 1; }
    local sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
    log "installing ${need[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
}

require_free_ports() {
  local port
  for port in "$@"; do
    if ss -Hltn "sport = :$port" | grep -q .; then echo "port $port is already in use" >&2; exit 1; fi
  done
}

wait_ready() { # name url [body [key]]
  local i
  for i in $(seq 1 150); do
    if [[ -n "${4:-}" ]]; then
      curl -fsS -o /dev/null -H 'Content-Type: application/json' -H "Authorization: Bearer $4" --data-binary "@$3" "$2" 2>/dev/null && return 0
    elif [[ -n "${3:-}" ]]; then
      curl -fsS -o /dev/null -H 'Content-Type: application/json' --data-binary "@$3" "$2" 2>/dev/null && return 0
    else
      curl -fsS -o /dev/null "$2" 2>/dev/null && return 0
    fi
    sleep 0.2
  done
  echo "$1 did not become ready at $2" >&2
  exit 1
}

# nginx on $UPSTREAM_PORT answers every POST with the fixed bodies in bench/upstream/: a completion at
# /v1/chat/completions, a stream at /sse/v1/chat/completions.
start_upstream() {
  mkdir -p "$WORK/nginx"
  cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  server {
    listen $HOST:$UPSTREAM_PORT;
    # The static module refuses POST (405); error_page re-serves the same file as a GET with 200.
    location = /v1/chat/completions {
      default_type application/json;
      alias $HERE/upstream/completion.json;
      error_page 405 =200 \$uri;
    }
    location = /sse/v1/chat/completions {
      default_type text/event-stream;
      alias $HERE/upstream/stream.sse;
      error_page 405 =200 \$uri;
    }
    location = /health { return 200 'ok'; }
  }
}
CONF
  "$NGINX" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" >"$WORK/nginx.out" 2>&1 &
  PIDS+=($!)
  wait_ready nginx "http://$HOST:$UPSTREAM_PORT/health"
}
