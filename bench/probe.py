#!/usr/bin/env python3
"""Time to first chunk of a streamed answer, and the arrival times of every chunk.

  probe.py ttfc URL BODY_FILE N      -> "BENCH ttfc_p50_us=... ttfc_p99_us=..." over N sequential requests
  probe.py chunks URL BODY_FILE      -> one line per SSE event: milliseconds since the request was sent

One keep-alive connection; the clock starts when the request is written and stops when the first
'data:' line has been read, so it includes the proxy's wait for the upstream's first chunk.
"""
import http.client
import os
import sys
import time
from urllib.parse import urlsplit


def stream_once(conn, path, body, on_event):
    start = time.perf_counter_ns()
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    # Baton's virtual key (bench/run.sh creates one); the other targets ignore it.
    if os.environ.get("BENCH_API_KEY"):
        headers["Authorization"] = "Bearer " + os.environ["BENCH_API_KEY"]
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    if response.status != 200:
        raise SystemExit(f"HTTP {response.status}: {response.read()[:300]!r}")
    while True:
        line = response.readline()
        if not line:
            break
        if line.startswith(b"data:"):
            on_event(time.perf_counter_ns() - start, line)
    response.close()


def main():
    mode, url, body_file = sys.argv[1], sys.argv[2], sys.argv[3]
    parts = urlsplit(url)
    body = open(body_file, "rb").read()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    if mode == "ttfc":
        count = int(sys.argv[4])
        samples = []
        for i in range(count + count // 10):
            first = []
            stream_once(conn, parts.path, body, lambda t, _: first.append(t) if not first else None)
            if i >= count // 10:  # the first tenth warms up
                samples.append(first[0] / 1000)
        samples.sort()
        p50 = samples[len(samples) // 2]
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        print(f"BENCH ttfc_p50_us={p50:.0f} ttfc_p99_us={p99:.0f}")
    else:
        stream_once(conn, parts.path, body, lambda t, line: print(f"{t / 1e6:9.1f} ms  {line[:60].decode(errors='replace').rstrip()}"))


if __name__ == "__main__":
    main()
