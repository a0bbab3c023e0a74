#!/usr/bin/env python3
"""An upstream that answers after a fixed wait: the static upstream's answers (completion.json, and stream.sse for
paths under /sse/), each sent whole once the request has been read and --delay-ms have passed.

nginx answers the static files within about 80 µs, so fast that a proxy's thread pool is still spinning when the answer
comes back; any model takes far longer, and by then every pool thread is asleep. The rows measured against this
upstream show what a proxy adds at one connection when its threads have to be woken, as they are in front of a
real model (see docs/benchmarks.md, "Sixteenth round"). One thread per connection, keep-alive, HTTP/1.1 with
Content-Length only: enough for wrk, YARP and Baton at one connection, not a load target.

  delayed.py --port PORT --delay-ms MS
"""
import argparse
import os
import socket
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def response(path, content_type):
    with open(os.path.join(HERE, path), "rb") as f:
        body = f.read()
    return (b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"\r\nContent-Length: " + str(len(body)).encode()
            + b"\r\n\r\n" + body)


COMPLETION = response("completion.json", b"application/json")
STREAM = response("stream.sse", b"text/event-stream")
HEALTH = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


def serve(conn, delay):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pending = b""
    with conn:
        while True:
            while b"\r\n\r\n" not in pending:
                data = conn.recv(65536)
                if not data:
                    return
                pending += data
            head, _, rest = pending.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            request_line = lines[0].split(b" ")
            path = request_line[1] if len(request_line) > 1 else b"/"
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(rest) < length:
                data = conn.recv(65536)
                if not data:
                    return
                rest += data
            pending = rest[length:]
            if path == b"/health":
                conn.sendall(HEALTH)
                continue
            time.sleep(delay)
            conn.sendall(STREAM if path.startswith(b"/sse/") else COMPLETION)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, required=True)
    args = parser.parse_args()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(512)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, args.delay_ms / 1000), daemon=True).start()


if __name__ == "__main__":
    main()
