#!/usr/bin/env bash
# Many gateways, one Redis: N Baton gateways (three by default) sharing one redis-server, behind one nginx
# load balancer (round robin), driven by one wrk; the same nginx balances N YARP passthroughs for the side-by-side
# figure. Then a limit that bites: a deployment limited to --limit requests a minute, no queue, gets --requests
# requests through the balancer, and the upstream's own count of what reached it is compared with the limit.
# Prints the tables (also written to bench/results/). See docs/benchmarks.md.
#
#   bench/distributed.sh [--gateways N] [--runs N] [--duration SECONDS] [--limit N] [--requests N]
#                        [--port-base PORT] [--no-install]
#
#   --gateways  how many gateways and YARPs (default 3)
#   --runs      how many times the load rows are repeated (default 3); each row reports the median
#   --duration  seconds of load per wrk run (default 10; each run also gets a 5 s warm-up)
#   --limit     requests a minute of the limited deployment (default 20)
#   --requests  requests sent to it through the balancer (default 60)
#   --port-base first port used (default 19081); the gateways take PORT+10.., the YARPs PORT+40..
#   --no-install  do not apt-get install wrk, nginx-light and redis when they are missing
#
# The gateways run bench/baton.bench.redis.json (the team configuration with limits, budgets, breakers and the cache
# in Redis), each in a scratch directory of its own (its own ledger), sharing one SQLite key store so that the
# virtual key made on the first is accepted by all.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
GATEWAYS=3
RUNS=3
DURATION=10
LIMIT=20
REQUESTS=60
PORT_BASE=19081
INSTALL=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --gateways) GATEWAYS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --limit) LIMIT="$2"; shift 2 ;;
    --requests) REQUESTS="$2"; shift 2 ;;
    --port-base) PORT_BASE="$2"; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
for value in "$GATEWAYS" "$RUNS" "$DURATION" "$LIMIT" "$REQUESTS" "$PORT_BASE"; do
  [[ $value =~ ^[1-9][0-9]*$ ]] || { echo "every option takes a positive whole number (got '$value')" >&2; exit 2; }
done
(( GATEWAYS <= 30 )) || { echo "--gateways: at most 30" >&2; exit 2; }

UPSTREAM_PORT=$PORT_BASE REDIS_PORT=$((PORT_BASE + 1)) LB_BATON_PORT=$((PORT_BASE + 2)) LB_YARP_PORT=$((PORT_BASE + 3))
LOG_TAG=distributed-bench
source "$HERE/lib.sh"
require_tools python3:python3 redis-server:redis-server redis-cli:redis-tools
BATON_PORTS=() YARP_PORTS=()
for i in $(seq 0 $((GATEWAYS - 1))); do BATON_PORTS+=($((PORT_BASE + 10 + i))); YARP_PORTS+=($((PORT_BASE + 40 + i))); done
require_free_ports $UPSTREAM_PORT $REDIS_PORT $LB_BATON_PORT $LB_YARP_PORT "${BATON_PORTS[@]}" "${YARP_PORTS[@]}"

log "building Baton and the YARP passthrough (Release)"
build_release "$ROOT/src/Baton.Cli/Baton.Cli.csproj" "$HERE/YarpPassthrough/YarpPassthrough.csproj"
BATON_DLL="$ROOT/src/Baton.Cli/bin/Release/net10.0/baton.dll"
YARP_DLL="$HERE/YarpPassthrough/bin/Release/net10.0/YarpPassthrough.dll"

start_upstream
start_redis $REDIS_PORT

# The gateways' configuration: the team configuration in Redis, the upstream's port, one shared key store, and a
# deployment whose limit bites (no queue: a request over the limit is answered 429 at once).
python3 - "$HERE/baton.bench.redis.json" "$WORK/baton.json" "$HOST:$UPSTREAM_PORT" "$WORK/keys.db" "$LIMIT" <<'PY'
import json, sys
source, target, upstream, keys, limit = sys.argv[1:]
config = json.load(open(source))
for provider in config["providers"].values():
    provider["baseUrl"] = provider["baseUrl"].replace("127.0.0.1:18081", upstream)
config["providers"]["limited"] = {
    "type": "openai", "baseUrl": f"http://{upstream}/limited/v1",
    "rateLimits": {"requestsPerMinute": int(limit), "maxQueueWaitSeconds": 0},
}
config["models"]["bench-limited"] = {"deployments": [{"provider": "limited", "model": "bench-upstream"}]}
config["auth"]["path"] = keys
json.dump(config, open(target, "w"), indent=2)
PY

export DOTNET_gcServer=1 DOTNET_TieredPGO=1 ASPNETCORE_ENVIRONMENT=Production DOTNET_CLI_TELEMETRY_OPTOUT=1
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_EXPORTER_OTLP_METRICS_ENDPOINT
export BATON_BENCH_MASTER_KEY="${BATON_BENCH_MASTER_KEY:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"
export Baton__redis__connection="$HOST:$REDIS_PORT"
BATON_PIDS=()
for i in $(seq 0 $((GATEWAYS - 1))); do
  mkdir -p "$WORK/gateway-$i"
  (cd "$WORK/gateway-$i" && exec env "$BATON_GC_CAP" dotnet "$BATON_DLL" serve --config "$WORK/baton.json" --urls "http://$HOST:${BATON_PORTS[$i]}") >"$WORK/gateway-$i.out" 2>&1 &
  PIDS+=($!) BATON_PIDS+=($!)
  dotnet "$YARP_DLL" --urls "http://$HOST:${YARP_PORTS[$i]}" --destination "http://$HOST:$UPSTREAM_PORT/" >"$WORK/yarp-$i.out" 2>&1 &
  PIDS+=($!)
  # One at a time: the first creates the key store's schema, the others find it.
  wait_ready "gateway $i" "http://$HOST:${BATON_PORTS[$i]}/v1/chat/completions" "$HERE/wrk/request.json" "$BATON_BENCH_MASTER_KEY"
  wait_ready "yarp $i" "http://$HOST:${YARP_PORTS[$i]}/health"
done

# One nginx in front of both sets: round robin, keep-alive to every backend, nothing buffered (streams pass as they
# come). The Host header is the caller's (a loopback address), which the gateways accept.
mkdir -p "$WORK/lb"
{
  echo "worker_processes auto; daemon off; pid $WORK/lb/nginx.pid; error_log $WORK/lb/error.log warn;"
  echo "events { worker_connections 4096; }"
  echo "http {"
  echo "  access_log off; client_body_temp_path $WORK/lb/body; proxy_temp_path $WORK/lb/proxy;"
  echo "  fastcgi_temp_path $WORK/lb/fastcgi; uwsgi_temp_path $WORK/lb/uwsgi; scgi_temp_path $WORK/lb/scgi;"
  echo "  keepalive_requests 10000000; keepalive_timeout 300s;"
  for set in batons yarps; do
    echo "  upstream $set {"
    if [[ $set == batons ]]; then ports=("${BATON_PORTS[@]}"); else ports=("${YARP_PORTS[@]}"); fi
    for port in "${ports[@]}"; do echo "    server $HOST:$port;"; done
    echo "    keepalive 256;"
    echo "  }"
  done
  for pair in "batons:$LB_BATON_PORT" "yarps:$LB_YARP_PORT"; do
    echo "  server {"
    echo "    listen $HOST:${pair##*:};"
    echo "    location / {"
    echo "      proxy_pass http://${pair%%:*};"
    echo "      proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Host \$http_host;"
    echo "      proxy_buffering off; proxy_request_buffering off; proxy_read_timeout 60s;"
    echo "      add_header X-Bench-Backend \$upstream_addr always;"
    echo "    }"
    echo "  }"
  done
  echo "}"
} >"$WORK/lb/nginx.conf"
"$NGINX" -c "$WORK/lb/nginx.conf" -e "$WORK/lb/error.log" >"$WORK/lb.out" 2>&1 &
PIDS+=($!)
wait_ready load-balancer "http://$HOST:$LB_YARP_PORT/health"

BENCH_API_KEY="$(create_key "http://$HOST:${BATON_PORTS[0]}")"
export BENCH_API_KEY
# The key made on the first gateway must be accepted by every gateway, or the rows would measure refusals.
for port in "${BATON_PORTS[@]}"; do
  curl -fsS -o /dev/null -H 'Content-Type: application/json' -H "Authorization: Bearer $BENCH_API_KEY" \
    --data-binary "@$HERE/wrk/request.json" "http://$HOST:$port/v1/chat/completions" \
    || fail "the virtual key made on the first gateway is refused by the gateway on :$port"
done
log "all started: $GATEWAYS gateways (${BATON_PORTS[*]}) behind :$LB_BATON_PORT, $GATEWAYS YARPs (${YARP_PORTS[*]}) behind :$LB_YARP_PORT, redis :$REDIS_PORT"

RAW="$RESULTS/distributed-raw.txt"
: >"$RAW"
drive() { # target mode url body
  local target=$1 mode=$2 url=$3 body=$4 before outages_before line extra=""
  BENCH_BODY="$body" wrk -t1 -c64 -d5s -s "$HERE/wrk/post.lua" "$url" >/dev/null 2>&1 || true
  before="$(redis_calls)" outages_before="$(redis_outages "$WORK"/gateway-*.out)"
  BENCH_BODY="$body" wrk -t2 -c64 -d"${DURATION}s" --timeout 10s -s "$HERE/wrk/post.lua" "$url" >"$WORK/wrk.out" 2>&1 \
    || fail "wrk failed against $target ($mode)" "$WORK/wrk.out"
  line="$(grep '^BENCH' "$WORK/wrk.out")" || fail "wrk printed no summary against $target" "$WORK/wrk.out"
  [[ $line != *" requests=0 "* ]] || fail "no request to $target completed within the ${DURATION} s run (machine overloaded, or the target hung)" "$WORK/wrk.out"
  [[ $target == baton ]] && extra=" redis_calls=$(( $(redis_calls) - before )) redis_outages=$(( $(redis_outages "$WORK"/gateway-*.out) - outages_before ))"
  echo "run=$RUN target=$target mode=$mode conns=64 $line$extra" | tee -a "$RAW" >&2
}

# The load rows bypass the cache, as in run.sh: every request reaches the upstream.
export BENCH_CACHE_CONTROL=no-cache
for RUN in $(seq 1 "$RUNS"); do
  log "run $RUN of $RUNS"
  drive yarp json "http://$HOST:$LB_YARP_PORT/v1/chat/completions" "$HERE/wrk/request.json"
  drive baton json "http://$HOST:$LB_BATON_PORT/v1/chat/completions" "$HERE/wrk/request.json"
  drive yarp sse "http://$HOST:$LB_YARP_PORT/sse/v1/chat/completions" "$HERE/wrk/request-stream.json"
  drive baton sse "http://$HOST:$LB_BATON_PORT/v1/chat/completions" "$HERE/wrk/request-stream.json"
done
for i in "${!BATON_PIDS[@]}"; do
  kill -0 "${BATON_PIDS[$i]}" 2>/dev/null || fail "gateway $i exited during the load" "$WORK/gateway-$i.out"
done

log "a limit that bites: $REQUESTS requests through the balancer to a deployment limited to $LIMIT a minute"
sed 's/"model":"bench"/"model":"bench-limited"/' "$HERE/wrk/request.json" >"$WORK/limited.json"
OUTAGES_BEFORE=$(redis_outages "$WORK"/gateway-*.out)
: >"$WORK/nginx/limited.log"
python3 - "$HOST" "$LB_BATON_PORT" "$WORK/limited.json" "$REQUESTS" <<'PY' >"$WORK/limited.out" || fail "the limit check could not run" "$WORK/limited.out"
# All at once from 20 connections, so that they are sent within a fraction of the bucket's refill time.
import collections, concurrent.futures, http.client, os, sys, threading, time
host, port, body_file, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
body = open(body_file, "rb").read()
headers = {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["BENCH_API_KEY"], "Cache-Control": "no-cache"}
local = threading.local()
def send(_):
    if not hasattr(local, "conn"):
        local.conn = http.client.HTTPConnection(host, port, timeout=60)
    local.conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
    response = local.conn.getresponse()
    response.read()
    return response.status, response.getheader("X-Bench-Backend", "?")
start = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(max_workers=min(count, 20)) as pool:
    results = list(pool.map(send, range(count)))
elapsed = time.monotonic() - start
statuses = collections.Counter(s for s, _ in results)
backends = collections.Counter(b for _, b in results)
print(f"ok={statuses[200]} refused={statuses[429]} other={sum(statuses.values()) - statuses[200] - statuses[429]} "
      f"gateways_reached={len(backends)} spread={'/'.join(str(n) for _, n in sorted(backends.items()))} seconds={elapsed:.2f}")
PY
# nginx writes its access log line when the answer is sent; give the last one a moment.
sleep 1
UPSTREAM_SEEN=$(wc -l <"$WORK/nginx/limited.log")
OUTAGES=$(( $(redis_outages "$WORK"/gateway-*.out) - OUTAGES_BEFORE ))
echo "target=baton mode=limit limit=$LIMIT requests=$REQUESTS gateways=$GATEWAYS upstream_seen=$UPSTREAM_SEEN redis_outages=$OUTAGES $(cat "$WORK/limited.out")" | tee -a "$RAW" >&2

python3 - "$RAW" "$GATEWAYS" <<'PY' | tee "$RESULTS/distributed-table.md"
import statistics, sys
rows = [dict(p.split("=", 1) for p in line.split() if "=" in p) for line in open(sys.argv[1]) if line.strip()]
gateways = sys.argv[2]
def rps(r): return int(r["requests"]) / (int(r["duration_us"]) / 1e6)
def get(target, mode): return {r["run"]: r for r in rows if r["target"] == target and r["mode"] == mode}
print()
print(f"# {gateways} gateways sharing one Redis, and {gateways} YARPs, each set behind one nginx (round robin); 64 connections; medians of {len({r['run'] for r in rows if 'run' in r})} run(s)")
print()
print("| answer | target | requests/s | (runs) | p50 µs | p99 µs | errors | Redis commands / request | Redis outages logged | Baton / YARP (runs) |")
print("|---|---|---:|---|---:|---:|---:|---:|---:|---|")
for mode, label in (("json", "non-streamed"), ("sse", "streamed")):
    yarp, baton = get("yarp", mode), get("baton", mode)
    for target, runs in (("yarp", yarp), ("baton", baton)):
        rates = [rps(r) for r in runs.values()]
        redis = [int(r["redis_calls"]) / max(int(r["requests"]), 1) for r in runs.values() if "redis_calls" in r]
        ratios = [rps(r) / rps(yarp[run]) for run, r in runs.items() if target == "baton" and run in yarp]
        print(f"| {label} | {target} | {statistics.median(rates):,.0f} | ({', '.join(f'{x:,.0f}' for x in rates)}) | "
              f"{statistics.median(int(r['p50_us']) for r in runs.values()):.0f} | {statistics.median(int(r['p99_us']) for r in runs.values()):.0f} | "
              f"{sum(int(r['errors']) for r in runs.values())} | {f'{statistics.median(redis):.2f}' if redis else ''} | "
              f"{sum(int(r['redis_outages']) for r in runs.values()) if target == 'baton' else ''} | "
              f"{f'{statistics.median(ratios):.2f}× (' + ', '.join(f'{x:.2f}' for x in ratios) + ')' if ratios else ''} |")
limit = next(r for r in rows if r["mode"] == "limit")
seen, bound, sent = int(limit["upstream_seen"]), int(limit["limit"]), int(limit["requests"])
# The bucket holds a minute's worth and refills continuously: while the requests are sent, limit × seconds / 60 more
# may pass (rounded up: "± one refill"). Per-gateway limits would let up to gateways × limit through.
import math
allowed = min(sent, bound + math.ceil(bound * float(limit["seconds"]) / 60))
exact = min(sent, bound) <= seen <= allowed
print()
print("| limit (requests a minute, no queue) | sent through the balancer | gateways reached (requests each) | answered 200 | answered 429 | other | reached the upstream | allowed (limit + refill while sending) | per-gateway limits would allow | Redis outages logged | one limit across the gateways |")
print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
print(f"| {bound} | {sent} in {limit['seconds']} s | {limit['gateways_reached']} ({limit['spread']}) | {limit['ok']} | {limit['refused']} | {limit['other']} | {seen} | "
      f"{allowed} | {min(sent, bound * int(gateways))} | {limit['redis_outages']} | {'yes' if exact else 'NO'} |")
if int(limit["redis_outages"]):
    print()
    print("Redis did not answer within redis.timeoutMs during the check, so the gateways served some requests from their own")
    print("buckets (redis.failMode local): on a machine this loaded the check measures the fallback, not the shared limit.")
PY
