#!/usr/bin/env python3
"""Tables the alternating rows bench/cache.sh and bench/observability.sh collect (lib.sh's drive_row).

  rows.py RAW_FILE BASE ROW=LABEL...  -> the table (markdown) on stdout

A raw line is "row=R conns=C" and wrk's summary (requests, duration_us, p50_us, p99_us, errors). Each row, at one
connection and at 64, is reported as the median of its runs, each run's requests/s beside it, and its median against
BASE's (the row the others are compared with), in the order the rows are named.
"""
import statistics
import sys


def main(raw, base, named):
    labels = dict(pair.split("=", 1) for pair in named)
    rows = {}
    for line in open(raw):
        f = dict(p.split("=", 1) for p in line.split() if "=" in p)
        rps = int(f["requests"]) / (int(f["duration_us"]) / 1e6)
        rows.setdefault((f["row"], f["conns"]), []).append((rps, int(f["p50_us"]), int(f["p99_us"]), int(f["errors"])))
    print(f"| row | conns | requests/s (median) | runs (requests/s) | p50 µs | p99 µs | errors | vs {labels[base]} |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    for conns in ("1", "64"):
        base_rps = statistics.median(r[0] for r in rows[(base, conns)])
        for name, label in labels.items():
            runs = rows[(name, conns)]
            rps = statistics.median(r[0] for r in runs)
            each = ", ".join(f"{r[0]:,.0f}" for r in runs)
            print(f"| {label} | {conns} | {rps:,.0f} | {each} | {statistics.median(r[1] for r in runs)} | "
                  f"{statistics.median(r[2] for r in runs)} | {sum(r[3] for r in runs)} | {rps / base_rps:.2f}× |")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
