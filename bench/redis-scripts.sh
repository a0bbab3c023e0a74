#!/usr/bin/env bash
# What the Redis gateway's two scripts cost Redis itself, without a gateway: the admission script and the script of the
# writes behind responses, taken from the sources (src/Baton.Redis), are loaded into a redis-server of their own and
# replayed by redis-benchmark (one connection) with batches shaped like the bench's (the team configuration: a key and
# a deployment, each with rate limits and calls in flight). Prints Redis's own count (INFO commandstats) per script
# call: the script as a whole (EVALSHA, which includes the commands it runs) and each command it runs.
# See docs/benchmarks.md ("Fourteenth round").
#
#   bench/redis-scripts.sh [--a DIR] [--admissions "1 8"] [--calls N] [--rounds N] [--no-install]
#
#   --a           a second checkout whose scripts are replayed too, alternately with this one's (A/B)
#   --admissions  batch sizes to replay: admissions per admission script, requests per write script (default "1 8")
#   --calls       script calls per measurement (default 20000); --rounds: measurements per script (default 3)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
A_DIR="" SIZES="1 8" CALLS=20000 ROUNDS=3 INSTALL=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --a) A_DIR="$(cd "$2" && pwd)"; shift 2 ;;
    --admissions) SIZES="$2"; shift 2 ;;
    --calls) CALLS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ $CALLS =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "--calls and --rounds are positive whole numbers" >&2; exit 2; }
for n in $SIZES; do [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "--admissions takes positive whole numbers" >&2; exit 2; }; done

REDIS_PORT=18111
LOG_TAG=redis-scripts
source "$HERE/lib.sh"
require_tools python3:python3 redis-server:redis-server redis-cli:redis-tools redis-benchmark:redis-tools
require_free_ports $REDIS_PORT
start_redis $REDIS_PORT

# scripts DIR OUT: the admission and write scripts of the checkout DIR, as Redis runs them (the shared prelude first).
scripts() {
  python3 - "$1" "$2" <<'PY'
import sys
root, out = sys.argv[1], sys.argv[2]
def raw(path, marker):
    # A C# raw string literal: the lines between its quotes, less the closing quotes' indentation.
    text = open(f"{root}/src/Baton.Redis/{path}").read()
    start = text.index('"""', text.index(marker)) + 3
    lines = text[start:text.index('"""', start)].split("\n")[1:]
    indent = len(lines[-1])
    return "\n".join(line[indent:] for line in lines[:-1])
prelude = raw("RedisBucketScript.cs", "Prelude =")
open(f"{out}-admission.lua", "w").write(prelude + "\n" + raw("RedisAdmissionStore.cs", "private const string Script ="))
open(f"{out}-writes.lua", "w").write(prelude + "\n" + raw("RedisWriteBehind.cs", "internal const string Script ="))
PY
}

# arguments SIZE: the keys and arguments of an admission script of SIZE admissions and of a write script of SIZE
# requests' writes (a token correction of each bucket, as charges of a batch are added together, and two lease
# releases a request), one per line, as RedisAdmissionStore and RedisWriteBehind send them.
arguments() {
  python3 - "$1" "$WORK" <<'PY'
import sys
n, work = int(sys.argv[1]), sys.argv[2]
key, deployment = "baton:rl:key:key_bench:1000000000:2000000000", "baton:rl:static-sse/bench-upstream"
key_leases, deployment_leases = "baton:cc:key:key_bench", "baton:cc:deployment:static-sse/bench-upstream"
limits = ["1000000000", "2000000000"]
lease = [f"{i:032x}" for i in range(n)]
keys = ["baton:keys:revocations"] + [key, key_leases, deployment, deployment_leases] * n
values = ["30000000"]
for i in range(n):
    values += ["rkd", "0", "key_bench", *limits, "21", "100000", *limits, "85", "100000", lease[i], "", "0", "0", "0"]
open(f"{work}/admission-{n}.args", "w").write("\n".join([str(len(keys))] + keys + values))
keys = [deployment, key]
values = ["c", *limits, "0", "-644", "c", *limits, "0", "-580"]
for i in range(n):
    keys += [key_leases, deployment_leases]
    values += ["z", lease[i], "z", lease[i]]
open(f"{work}/writes-{n}.args", "w").write("\n".join([str(len(keys))] + keys + values))
PY
}

# replay SCRIPT ARGS: µs a call by Redis's count, the script's and each command's it runs, after a warm-up.
replay() {
  local sha args
  redis-cli -h "$HOST" -p $REDIS_PORT flushall >/dev/null
  sha="$(redis-cli -h "$HOST" -p $REDIS_PORT script load "$(cat "$1")")"
  mapfile -t args <"$2"
  redis-benchmark -h "$HOST" -p $REDIS_PORT -n 2000 -c 1 EVALSHA "$sha" "${args[@]}" >/dev/null
  redis-cli -h "$HOST" -p $REDIS_PORT config resetstat >/dev/null
  redis-benchmark -h "$HOST" -p $REDIS_PORT -n "$CALLS" -c 1 EVALSHA "$sha" "${args[@]}" >/dev/null
  redis-cli -h "$HOST" -p $REDIS_PORT info commandstats | tr -d '\r' | python3 -c '
import re, sys
calls, rows = int(sys.argv[1]), {}
for line in sys.stdin:
    m = re.match(r"cmdstat_(\w+):calls=(\d+),usec=(\d+)", line)
    if m and m.group(1) not in ("config", "info"):
        rows[m.group(1)] = (int(m.group(2)) / calls, int(m.group(3)) / calls)
script = rows.pop("evalsha")[1]
inner = sum(us for _, us in rows.values())
print(f"{script:.1f} µs a call ({inner:.1f} in its commands: " + ", ".join(f"{name} {n:g}× {us:.1f}" for name, (n, us) in sorted(rows.items())) + ")")' "$CALLS"
}

scripts "$ROOT" "$WORK/b"
[[ -n $A_DIR ]] && scripts "$A_DIR" "$WORK/a"
sides=(b); [[ -n $A_DIR ]] && sides=(a b)
for n in $SIZES; do
  arguments "$n"
  for script in admission writes; do
    for round in $(seq 1 "$ROUNDS"); do
      for side in "${sides[@]}"; do
        echo "$script, $n a script, round $round$([[ -n $A_DIR ]] && echo ", $side"): $(replay "$WORK/$side-$script.lua" "$WORK/$script-$n.args")"
      done
    done
  done
done
