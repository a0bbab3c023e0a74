#!/usr/bin/env python3
"""Turns the raw lines run.sh collected into the benchmark table and the target checks."""
import sys

rows = []
for line in open(sys.argv[1]):
    fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
    rows.append(fields)


def find(target, mode, conns=None):
    for r in rows:
        if r["target"] == target and r["mode"] == mode and (conns is None or r.get("conns") == str(conns)):
            return r
    return None


def rps(r):
    return int(r["requests"]) / (int(r["duration_us"]) / 1e6)


print()
print("| answer | conns | target | requests/s | p50 µs | p99 µs | added p50 µs (vs direct) | errors | Baton / YARP |")
print("|---|---:|---|---:|---:|---:|---:|---:|---|")
for mode, label in (("json", "non-streamed"), ("sse", "streamed")):
    for conns in (1, 64):
        direct = find("direct", mode, conns)
        yarp = find("yarp", mode, conns)
        for target in ("direct", "yarp", "baton"):
            r = find(target, mode, conns)
            if r is None:
                continue
            added = int(r["p50_us"]) - int(direct["p50_us"]) if direct else 0
            ratio = ""
            if target == "baton" and yarp:
                ratio = f"{rps(r) / rps(yarp):.2f}× req/s"
                yarp_added = int(yarp["p50_us"]) - int(direct["p50_us"])
                if yarp_added > 0:
                    ratio += f", {added / yarp_added:.2f}× added p50"
            print(f"| {label} | {conns} | {target} | {rps(r):,.0f} | {r['p50_us']} | {r['p99_us']} | "
                  f"{'' if target == 'direct' else added} | {r['errors']} | {ratio} |")

print()
print("| time to first chunk (2000 sequential streams) | p50 µs | p99 µs | added p50 µs |")
print("|---|---:|---:|---:|")
direct = find("direct", "ttfc")
for target in ("direct", "yarp", "baton"):
    r = find(target, "ttfc")
    if r:
        added = int(r["ttfc_p50_us"]) - int(direct["ttfc_p50_us"])
        print(f"| {target} | {r['ttfc_p50_us']} | {r['ttfc_p99_us']} | {'' if target == 'direct' else added} |")

checks = []
b, y = find("baton", "json", 64), find("yarp", "json", 64)
if b and y:
    checks.append(("non-streamed, 64 connections: Baton req/s ≥ 0.7 × YARP", f"{rps(b) / rps(y):.2f}×", rps(b) >= 0.7 * rps(y)))
b, y, d = find("baton", "json", 1), find("yarp", "json", 1), find("direct", "json", 1)
if b and y and d:
    ba, ya = int(b["p50_us"]) - int(d["p50_us"]), int(y["p50_us"]) - int(d["p50_us"])
    checks.append(("non-streamed, 1 connection: Baton added p50 ≤ 2 × YARP added p50",
                   f"{ba} µs vs {ya} µs ({ba / max(ya, 1):.2f}×)", ba <= 2 * ya))
b, d = find("baton", "ttfc"), find("direct", "ttfc")
if b and d:
    added = int(b["ttfc_p50_us"]) - int(d["ttfc_p50_us"])
    checks.append(("streamed: time to first chunk ≤ direct + 1 ms", f"+{added} µs (p50)", added <= 1000))
b, d = find("baton", "slow"), find("direct", "slow")
if b and d:
    spread_b = float(b["last_ms"]) - float(b["first_ms"])
    spread_d = float(d["last_ms"]) - float(d["first_ms"])
    checks.append(("streamed: chunks forwarded as they arrive (paced upstream, 50 ms a token)",
                   f"direct first {d['first_ms']} ms, last {d['last_ms']} ms; Baton first {b['first_ms']} ms, last {b['last_ms']} ms",
                   float(b["first_ms"]) < float(d["first_ms"]) + 20 and spread_b > 0.8 * spread_d))
peak = max((int(r.get("rss_kb", 0)) for r in rows if r["target"] == "baton" and r.get("conns") == "64"), default=0)
if peak:
    checks.append(("resident memory at 64 connections < 300 MB", f"peak {peak / 1024:.0f} MB", peak < 300 * 1024))
s = find("baton", "soak")
if s:
    r1, r10 = int(s["rss1_kb"]), int(s["rss10_kb"])
    checks.append(("memory after 10 minutes within 10 % of 1 minute", f"{r1 / 1024:.0f} MB → {r10 / 1024:.0f} MB", abs(r10 - r1) <= 0.1 * r1))

print()
print("| target | measured | met |")
print("|---|---|---|")
for name, value, ok in checks:
    print(f"| {name} | {value} | {'yes' if ok else 'NO'} |")
h, y = find("baton", "hit", 64), find("yarp", "json", 64)
if h and y:
    print(f"| cache hit, 64 connections: Baton req/s ≥ 1.5 × YARP | {rps(h):,.0f} req/s, {rps(h) / rps(y):.2f}× | {'yes' if rps(h) >= 1.5 * rps(y) else 'NO'} |")
