# Shared by the bench scripts (run.sh, ab.sh, cache.sh, observability.sh, distributed.sh, timeline.sh and the redis-*.sh):
# scratch folder and process cleanup, tools, free ports, readiness, the static upstream, Redis, keys, the allocation and
# memory probes, the gen1 cap, and the alternating rows of cache.sh and observability.sh.
# Expects HERE, INSTALL and LOG_TAG to be set by the sourcing script.

HOST=127.0.0.1
# The key of the bench's Anthropic- and Gemini-format upstreams (baton.bench.team.json): providers of those types must
# name one, and the static upstream reads none.
export BENCH_UPSTREAM_KEY="${BENCH_UPSTREAM_KEY:-static-upstream-reads-no-key}"
RESULTS="$HERE/results"
# Gen1's budget capped as the container image and deploy/local.sh cap it (Dockerfile; docs/deploy.md), for every Baton
# gateway the scripts start (not YARP): an environment-only setting (the runtime reads it before Baton's code runs).
BATON_GC_CAP="DOTNET_GCGen1MaxBudget=0x1000000"
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

# fail MESSAGE [LOG_FILE]: stops the benchmark loudly (the EXIT trap stops every process), with the log's tail.
fail() {
  printf '[%s] FAILED: %s\n' "$LOG_TAG" "$1" >&2
  if [[ -n "${2:-}" && -f "$2" ]]; then
    echo "--- last lines of $(basename "$2"):" >&2
    tail -n 30 "$2" >&2
  fi
  exit 1
}

# build_release PROJECT...: each project in Release; the build log is shown when one fails.
build_release() {
  local project
  for project in "$@"; do
    dotnet build -c Release -nologo -v quiet "$project" >>"$WORK/build.log" 2>&1 || fail "build of $(basename "$project") failed" "$WORK/build.log"
  done
}

# drive_row ROW CONNS PORT [VAR=VALUE]: wrk posts BODY to the gateway on PORT for DURATION seconds (bench/wrk/post.lua,
# which reads VAR: a header to send) and appends "row=ROW conns=CONNS" and wrk's figures to RAW. For cache.sh and
# observability.sh, whose rows are then tabled by rows.py.
drive_row() {
  local row=$1 conns=$2 port=$3 threads=1
  (( conns > 1 )) && threads=2
  env BENCH_BODY="$BODY" ${4:+"$4"} wrk -t$threads -c"$conns" -d"${DURATION}s" --timeout 10s -s "$HERE/wrk/post.lua" \
    "http://$HOST:$port/v1/chat/completions" >"$WORK/wrk.out" 2>&1
  echo "row=$row conns=$conns $(grep '^BENCH' "$WORK/wrk.out")" | tee -a "$RAW" >&2
}

# A gateway goes on working after its wrk run ends (its ledger and cache writers commit what was queued, the
# collector runs), which takes CPU from whatever row is driven next on 2 cores: a short pause before each row.
settle() { sleep 2; }

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
  for i in $(seq 1 300); do  # up to a minute: a loaded machine starts .NET slowly
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
    # The same streamed answer in Anthropic's Messages format (bench/ab.sh --mode sse-anthropic).
    location = /anthropic/v1/messages {
      default_type text/event-stream;
      alias $HERE/upstream/stream-anthropic.sse;
      error_page 405 =200 \$uri;
    }
    # The same streamed answer in Gemini's format (bench/ab.sh --mode sse-gemini).
    location = /gemini/v1beta/models/bench-upstream:streamGenerateContent {
      default_type text/event-stream;
      alias $HERE/upstream/stream-gemini.sse;
      error_page 405 =200 \$uri;
    }
    # The same completion for a deployment with a limit that bites (bench/distributed.sh): each request that
    # reaches it is one line of limited.log, so the upstream's count is exact.
    location = /limited/v1/chat/completions {
      access_log $WORK/nginx/limited.log;
      default_type application/json;
      alias $HERE/upstream/completion.json;
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

# start_redis PORT [NAME]: a redis-server on 127.0.0.1 without persistence, its files in the scratch folder (redis, or
# redis-NAME when there are several); sets REDIS_PID.
start_redis() {
  local dir="$WORK/redis${2:+-$2}"
  mkdir -p "$dir"
  redis-server --port "$1" --bind "$HOST" --save '' --appendonly no --dir "$dir" >"$dir.out" 2>&1 &
  REDIS_PID=$!
  PIDS+=($REDIS_PID)
  local i
  for i in $(seq 1 50); do
    redis-cli -h "$HOST" -p "$1" ping 2>/dev/null | grep -q PONG && { REDIS_CLI_PORT=$1; return 0; }
    sleep 0.2
  done
  fail "redis-server did not start on :$1" "$dir.out"
}

# Commands the Redis server has processed so far (each read counts itself once).
redis_calls() { redis-cli -h "$HOST" -p "$REDIS_CLI_PORT" info stats | awk -F: '/^total_commands_processed:/ {print $2+0}'; }

# redis_outages LOG...: how many times the gateways logged that Redis stopped answering in time (each such outage
# serves requests from the gateway's own state, redis.failMode "local", until Redis answers again).
redis_outages() { cat "$@" 2>/dev/null | grep -c "Redis is unavailable" || true; }

# create_key GATEWAY_URL: a virtual key made with the master key, with limits too high to bite; prints its secret.
create_key() {
  curl -fsS -H "Authorization: Bearer $BATON_BENCH_MASTER_KEY" -H 'Content-Type: application/json' \
    --data-binary '{"name":"bench","rpm":1000000000,"tpm":2000000000,"max_parallel":100000}' "$1/admin/keys" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])' || fail "could not create a virtual key at $1"
}

# check_cache_header GATEWAY_URL KEY: the cache is really on: a request with Cache-Control: no-cache is not a hit,
# and the same request without it then is. Otherwise the benchmark would measure something else than it says.
check_cache_header() {
  local body="$HERE/wrk/request.json" first second
  first="$(curl -fsS -o /dev/null -D - -H 'Content-Type: application/json' -H "Authorization: Bearer $2" -H 'Cache-Control: no-cache' \
    --data-binary "@$body" "$1/v1/chat/completions" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-baton-cache" {print $2}')"
  second="$(curl -fsS -o /dev/null -D - -H 'Content-Type: application/json' -H "Authorization: Bearer $2" \
    --data-binary "@$body" "$1/v1/chat/completions" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-baton-cache" {print $2}')"
  [[ -n $first && $first != hit && $second == hit ]] \
    || fail "$1: the response cache is not on as configured (x-baton-cache: '$first' with no-cache, then '$second')"
}

# read_allocated PROBE_PORT: the bytes the process has allocated since it started (bench/AllocProbe, a startup hook).
read_allocated() {
  local answer
  answer="$(curl -fsS --max-time 5 "http://$HOST:$1/")" || fail "the allocation probe on :$1 did not answer"
  sed -n 's/^allocated_bytes=\([0-9]*\).*/\1/p' <<<"$answer"
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# cpu_ticks PID: the process's user and system CPU so far, in clock ticks of 10 ms (/proc/PID/stat).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# start_rss_sampler PID / stop_rss_sampler: the process's peak resident memory (KB), sampled every 0.5 s between the two,
# with its parts at that peak (/proc/PID/status: anonymous, mapped files, shared memory such as the runtime's
# double-mapped code) and its thread count, as "rss_kb=... rss_anon_kb=... rss_file_kb=... rss_shmem_kb=... threads=...".
start_rss_sampler() {
  echo "rss_kb=0" >"$WORK/rss"
  ( peak=0
    while sleep 0.5; do
      read -r r anon file shmem threads < <(awk '/^VmRSS:/ {r=$2} /^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} /^RssShmem:/ {s=$2}
        /^Threads:/ {t=$2} END {print r+0, a+0, f+0, s+0, t+0}' "/proc/$1/status" 2>/dev/null)
      if (( ${r:-0} > peak )); then
        peak=$r
        echo "rss_kb=$r rss_anon_kb=$anon rss_file_kb=$file rss_shmem_kb=$shmem threads=$threads" >"$WORK/rss"
      fi
    done ) &
  RSS_SAMPLER=$!
  PIDS+=($RSS_SAMPLER)
}
stop_rss_sampler() {
  kill "$RSS_SAMPLER" 2>/dev/null || true
  wait "$RSS_SAMPLER" 2>/dev/null || true
  cat "$WORK/rss"
}
