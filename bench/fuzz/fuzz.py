#!/usr/bin/env python3
"""Fires hostile requests at a running Baton gateway and counts the answers by status class.

Every request is written byte by byte on its own connection (so malformed request lines, headers, bodies and
encodings reach the server as they are), from a seeded generator: the same seed sends the same requests.
Kinds: mutated JSON, invalid UTF-8 and lone surrogates, huge and odd numbers, wrong types, bad headers, bad
methods and paths, bad query strings, bad multipart uploads, oversize and short bodies, bad batch files.

    python3 bench/fuzz/fuzz.py --url http://127.0.0.1:8080 --count 2400 --seed 11

It prints the answers by status class and by kind, then every 5xx (and every request that got no answer) with
the request that caused it, and exits 1 if there was any. Only point it at a gateway on a loopback address.
"""

import argparse
import collections
import concurrent.futures
import json
import random
import socket
import sys
import urllib.parse

CHAT = "/v1/chat/completions"
MODELS = ["baton-sim", "baton-sim-reasoning", "scout", "mistral", "r1", "maverick", "no-such-model", "", "auto"]
FIELDS = ["model", "messages", "stream", "stream_options", "temperature", "top_p", "presence_penalty",
          "frequency_penalty", "max_tokens", "max_completion_tokens", "n", "seed", "stop", "tools", "tool_choice",
          "response_format", "user", "metadata", "logit_bias", "parallel_tool_calls"]
METADATA_KEYS = ["task", "session_id", "fallbacks", "cache_disabled", "cache_ttl", "tags", "other"]
ODD_NUMBERS = ["0", "-0", "-1", "1e300", "-1e300", "1e309", "5e11", "2147483648", "9223372036854775808",
               "1.0000000000000000000001", "0.5", "1e-400", "123456789012345678901234567890", "-2147483649", "1E2"]
ODD_STRINGS = ["NaN", "Infinity", "-Infinity", "nan", "1e300", "5e11", "-5", "", " ", "0x10", "1,5", "\u0000",
               "\ud800", "\\ud800", "😀", "a" * 5000, "true", "null", "%00", "../../etc/passwd", "'; DROP TABLE ledger;--"]
# Byte sequences no UTF-8 text holds, and escapes no UTF-16 text holds.
BAD_UTF8 = [b"\xff", b"\xfe\xff", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc3",
            b"\xe2\x82", b"\x80", b"\xf8\x88\x80\x80\x80"]
BAD_ESCAPES = [b"\\ud800", b"\\udc00", b"\\udbff\\u0041", b"\\ud83d", b"\\ude00\\ud83d", b"\\u12", b"\\x41", b"\\uZZZZ"]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT", "FOO", "get", "P0ST", ""]
PATHS = [CHAT, "/v1/models", "/v1/costs", "/v1/files", "/v1/batches", "/batch", "/health", "/health/providers",
         "/v1/pipelines", "/v1/pipelines/project-analysis/runs", "/v1/cache/stats", "/v1/cache", "/openapi/v1.json",
         "/v1/files/file-nope", "/v1/files/file-nope/content", "/v1/batches/batch_nope", "/v1/batches/batch_nope/cancel",
         "/v1/pipelines/nope/runs", "/nope", "/v1/", "/v1/chat/completions/", "//v1//models", "/v1/%2e%2e/health",
         "/v1/chat/completions%00", "/v1/%ff", "/" + "a" * 3000, "/v1/files/" + "%25" * 100, "/v1/models?x=%zz",
         "/scalar", "/v1/chat/completions?stream=true", "/v1/embeddings", "/v1/responses"]


def valid_chat(rng):
    body = {"model": rng.choice(MODELS[:6]), "messages": [{"role": "user", "content": "fuzz " + str(rng.random())}]}
    if rng.random() < 0.3:
        body["stream"] = True
    if rng.random() < 0.3:
        body["metadata"] = {"cache_ttl": rng.choice(["60", 60, "3600"]), "session_id": "fuzz"}
    return body


def dumps(value):
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


# --- request builders: each returns (kind, method, path, headers, body) --------------------------------------------

def mutated_json(rng):
    data = bytearray(dumps(valid_chat(rng)))
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        i = rng.randrange(len(data)) if data else 0
        if op == 0 and data:
            del data[i]
        elif op == 1:
            data.insert(i, rng.choice(b'{}[]",:\\0123456789eE-+.tfn \n\t\x00'))
        elif op == 2 and data:
            data[i] = rng.randrange(256)
        elif op == 3:
            data = data[:i]
        elif op == 4:
            data = data[:i] + data[i:i + 20] * rng.randint(2, 50) + data[i:]
        elif op == 5:
            data = bytearray(b"[" * rng.choice([65, 1000, 100000]) + data)
        else:
            data += rng.choice([b"}", b" x", b"\x00", b"{}", b"\n{\"a\":1}"])
    return "mutated JSON", "POST", CHAT, {"Content-Type": "application/json"}, bytes(data)


def bad_text(rng):
    body = valid_chat(rng)
    target = rng.choice(["content", "model", "user", "key", "session", "tag", "stop"])
    marker = "@@BAD@@"
    if target == "content":
        body["messages"][0]["content"] = "a" + marker + "b"
    elif target == "model":
        body["model"] = marker
    elif target == "user":
        body["user"] = marker
    elif target == "key":
        body["metadata"] = {marker: "x"}
    elif target == "session":
        body["metadata"] = {"session_id": marker}
    elif target == "tag":
        body["metadata"] = {"tags": "a," + marker}
    else:
        body["stop"] = ["x", marker]
    bad = rng.choice(BAD_UTF8 + BAD_ESCAPES)
    raw = dumps(body).replace(marker.encode(), bad)
    path = CHAT
    if rng.random() < 0.25:
        path = "/batch"
        raw = b'{"requests":[{"provider":"sim","model":"' + bad + b'","messages":[{"role":"user","content":"x"}]}]}'
    elif rng.random() < 0.2:
        path = "/v1/pipelines/project-analysis/runs"
        raw = b'{"input":{"project":{"name":"' + bad + b'","languages":"x","code_analysis":"y"}}}'
    elif rng.random() < 0.15:
        path = "/v1/batches"
        raw = b'{"input_file_id":"' + bad + b'","endpoint":"/v1/chat/completions","completion_window":"24h"}'
    return "bad UTF-8 / surrogates", "POST", path, {"Content-Type": "application/json"}, raw


def huge_numbers(rng):
    body = valid_chat(rng)
    field = rng.choice(["temperature", "top_p", "max_tokens", "max_completion_tokens", "n", "seed",
                        "presence_penalty", "frequency_penalty", "cache_ttl", "cache_ttl_string"])
    value = rng.choice(ODD_NUMBERS)
    marker = "@@NUM@@"
    if field == "cache_ttl":
        body["metadata"] = {"cache_ttl": marker}
    elif field == "cache_ttl_string":
        body["metadata"] = {"cache_ttl": rng.choice(ODD_STRINGS[:8] + ODD_NUMBERS)}
    else:
        body[field] = marker
    raw = dumps(body).replace(b'"' + marker.encode() + b'"', value.encode())
    return "huge / odd numbers", "POST", CHAT, {"Content-Type": "application/json"}, raw


def wrong_types(rng):
    body = valid_chat(rng)
    values = [None, True, 0, -1, 1.5, "x", [], [1, "a", None], {}, {"a": {"b": []}}, "😀" * 10, [[[]]]]
    target = rng.choice(FIELDS + ["messages[0]", "messages[0].role", "messages[0].content", "messages[0].content[0]",
                                  "tools[0]", "tools[0].function", "metadata.*", "stream_options.include_usage"])
    value = rng.choice(values)
    if target == "messages[0]":
        body["messages"] = [value]
    elif target == "messages[0].role":
        body["messages"][0]["role"] = value
    elif target == "messages[0].content":
        body["messages"][0]["content"] = value
    elif target == "messages[0].content[0]":
        body["messages"][0]["content"] = [value]
    elif target == "tools[0]":
        body["tools"] = [value]
    elif target == "tools[0].function":
        body["tools"] = [{"type": "function", "function": value}]
    elif target == "metadata.*":
        body["metadata"] = {rng.choice(METADATA_KEYS): value}
    elif target == "stream_options.include_usage":
        body["stream"] = True
        body["stream_options"] = {"include_usage": value}
    else:
        body[target] = value
    if rng.random() < 0.2:
        body.pop(rng.choice(["model", "messages"]), None)
    path = CHAT
    if rng.random() < 0.2:
        path = "/batch"
        body = {"requests": rng.choice([value, [value], [{"provider": value, "model": "baton-sim", "messages": value}]])}
    elif rng.random() < 0.15:
        path = "/v1/batches"
        body = {"input_file_id": value, "endpoint": rng.choice([value, "/v1/chat/completions"]), "completion_window": value, "metadata": value}
    elif rng.random() < 0.15:
        path = "/v1/pipelines/project-analysis/runs"
        body = rng.choice([{"input": value}, value, {"input": {"project": value}}])
    return "wrong types", "POST", path, {"Content-Type": "application/json"}, dumps(body)


def bad_headers(rng):
    body = dumps(valid_chat(rng))
    headers = {"Content-Type": "application/json"}
    choice = rng.randrange(12)
    if choice == 0:
        headers["X-Baton-Cache-TTL"] = rng.choice(ODD_STRINGS[:10] + ODD_NUMBERS)
    elif choice == 1:
        headers["Cache-Control"] = rng.choice(["max-age=-1", "max-age=99999999999999999999", "max-age=", "max-age=1e9",
                                               "no-store, max-age=5", "max-age=0", ",,,", "max-age=\"5\""])
    elif choice == 2:
        headers[rng.choice(["X-Baton-Fallbacks", "X-Baton-Tags", "X-Baton-Task", "X-Baton-Session"])] = rng.choice(
            [",,,", " ", "a" * 4000, "no-such-model", "baton-sim,baton-sim", "\u00e9", "x,\u00ff"])
    elif choice == 3:
        headers["Content-Type"] = rng.choice(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                              "application/json; charset=utf-16", "application/jsonx", "*/*", "",
                                              "application/json; charset=\"utf-8\"", "application/json;;;", "json",
                                              "application/json; boundary=x", "APPLICATION/JSON"])
    elif choice == 4:
        headers["Authorization"] = rng.choice(["Bearer", "Bearer " + "k" * 5000, "Basic !!!", "\u00ff", "Bearer sk-\x01"])
    elif choice == 5:
        headers["Host"] = rng.choice(["evil.example", "evil.example:8080", "localhost.evil.example", "127.0.0.2",
                                      "[::2]", "localhost:99999", "", "a b", "[::1", "localhost:abc"])
    elif choice == 6:
        headers["Content-Length"] = str(len(body) + rng.choice([-5, 10, 1000]))
    elif choice == 7:
        headers["Transfer-Encoding"] = "chunked"
        body = rng.choice([b"5\r\nhello\r\n0\r\n\r\n", b"zz\r\nhello\r\n0\r\n\r\n", b"ffffffffffffffff\r\nx\r\n",
                           b"3\r\n{}\r\n", hex(len(body))[2:].encode() + b"\r\n" + body + b"\r\n0\r\n\r\n"])
    elif choice == 8:
        headers["Transfer-Encoding"] = rng.choice(["gzip", "chunked, gzip", "identity"])
    elif choice == 9:
        headers["X-Big"] = "b" * rng.choice([1000, 9000, 40000])
    elif choice == 10:
        headers["Expect"] = rng.choice(["100-continue", "200-ok"])
    else:
        headers["X-Baton-Stream-Cost"] = rng.choice(["true", "yes", "\u00ff"])
        body = dumps({**valid_chat(rng), "stream": True})
    return "bad headers", "POST", CHAT, headers, body


def bad_routes(rng):
    method = rng.choice(METHODS)
    path = rng.choice(PATHS)
    body = rng.choice([b"", b"{}", dumps(valid_chat(rng)), b"\xff\xfe"])
    headers = {"Content-Type": rng.choice(["application/json", "text/plain"])} if body else {}
    return "bad methods / paths", method, path, headers, body


def bad_queries(rng):
    path = rng.choice(["/v1/costs", "/v1/files", "/v1/batches", "/health/providers", "/v1/cache"])
    names = {"/v1/costs": ["since", "until", "group_by", "session_id", "bogus"],
             "/v1/files": ["purpose", "limit", "after"], "/v1/batches": ["limit", "after"],
             "/health/providers": ["probe"], "/v1/cache": ["model"]}[path]
    values = ["999999999999", "253402300800", "253402300799", "-1", "0", "1e99", "99999999999999999999",
              "2026-13-45", "9999-12-31T23:59:59Z", "0001-01-01", "%00", "%ff", "", "model", "day", "nope", "true",
              "x" * 3000, "2026-01-31T12:00:00+99:00", "1700000000"]
    query = "&".join(f"{rng.choice(names)}={urllib.parse.quote(rng.choice(values), safe='%')}" for _ in range(rng.randint(1, 3)))
    method = "DELETE" if path == "/v1/cache" else "GET"
    if method == "DELETE" and rng.random() < 0.7:
        method = "GET"
        path = "/v1/costs"
    return "bad query strings", method, f"{path}?{query}", {}, b""


def bad_multipart(rng):
    boundary = rng.choice(["B", "x" * 80, "----fuzz", ""])
    content_type = rng.choice([f"multipart/form-data; boundary={boundary}", "multipart/form-data",
                               f"multipart/form-data; boundary=OTHER", f"multipart/mixed; boundary={boundary}",
                               f"multipart/form-data; boundary=\"{boundary}\""])
    line = dumps({"custom_id": "a", "method": "POST", "url": CHAT, "body": valid_chat(rng)}) + b"\n"
    file_part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
                 f"Content-Type: application/jsonl\r\n\r\n").encode() + line + b"\r\n"
    purpose = f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{rng.choice(['batch', 'fine-tune', '', 'b' * 3000])}\r\n".encode()
    end = f"--{boundary}--\r\n".encode()
    body = purpose + file_part + end
    op = rng.randrange(8)
    if op == 0:
        body = body[:rng.randrange(len(body))]
    elif op == 1:
        body = body.replace(b"Content-Disposition", b"Content-Dispositio")
    elif op == 2:
        body = purpose + end
    elif op == 3:
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"\r\n" + "X-H: " + "h" * 20000 + "\r\n\r\nx\r\n").encode() + end
    elif op == 4:
        body = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=k{i}\r\n\r\nv\r\n".encode() for i in range(1100)) + end
    elif op == 5:
        body = body.replace(b"in.jsonl", b"../../" + rng.choice(BAD_UTF8) + b".jsonl")
    elif op == 6:
        body = b"\xff\xfe" + body
    return "bad multipart", "POST", "/v1/files", {"Content-Type": content_type}, body


def oversize(rng):
    size = rng.choice([4 * 1024 * 1024 + 1, 5 * 1024 * 1024, 101 * 1024 * 1024])
    if size > 50 * 1024 * 1024:
        # Announce a huge body, send a little: the gateway refuses it from Content-Length alone.
        return "oversize bodies", "POST", rng.choice([CHAT, "/v1/files", "/batch"]), {
            "Content-Type": "application/json", "Content-Length": str(size)}, b"{" * 1024
    content = b'{"model":"baton-sim","messages":[{"role":"user","content":"' + b"x" * size + b'"}]}'
    headers = {"Content-Type": "application/json"}
    if rng.random() < 0.5:
        headers["Transfer-Encoding"] = "chunked"
        content = hex(len(content))[2:].encode() + b"\r\n" + content + b"\r\n0\r\n\r\n"
    return "oversize bodies", "POST", rng.choice([CHAT, "/batch", "/v1/pipelines/project-analysis/runs"]), headers, content


def bad_batch_file(rng):
    """An upload of a batch file whose lines are hostile; the batch is then created from it by a second request."""
    lines = []
    for i in range(rng.randint(1, 5)):
        body = valid_chat(rng)
        body.pop("stream", None)
        kind = rng.randrange(6)
        if kind == 0:
            body["metadata"] = {"cache_ttl": rng.choice(["NaN", "1e300", "5e11", "-5", 1e300])}
        raw = dumps({"custom_id": f"c{i}", "method": "POST", "url": CHAT, "body": body})
        if kind == 1:
            raw = raw.replace(b'"c%d"' % i, b'"c\\ud800"')
        elif kind == 2:
            raw = raw.replace(b"fuzz", rng.choice(BAD_UTF8))
        elif kind == 3:
            raw = raw[:rng.randrange(len(raw))]
        elif kind == 4:
            raw = b'{"custom_id":' + rng.choice([b"1", b"null", b'""', b"[]"]) + b"}"
        lines.append(raw)
    content = b"\n".join(lines) + b"\n"
    body = (b"--B\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
            b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hostile.jsonl\"\r\n\r\n" + content + b"\r\n--B--\r\n")
    return "bad batch files", "POST", "/v1/files", {"Content-Type": "multipart/form-data; boundary=B"}, body


def raw_garbage(rng):
    """Not HTTP at all, or HTTP broken in its framing: sent as is."""
    return "malformed requests", None, None, None, rng.choice([
        b"GET\t/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /health HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /health HTTP/1.1\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n",
        b"\r\n\r\n\r\n",
        b"GET /health HTTP/1.1\nHost: 127.0.0.1\n\n",
        b"GET /h\x00ealth HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-\xff: \xfe\r\n\r\n",
    ])


BUILDERS = [mutated_json, bad_text, huge_numbers, wrong_types, bad_headers, bad_routes, bad_queries, bad_multipart,
            oversize, bad_batch_file, raw_garbage]
WEIGHTS = [14, 14, 12, 14, 12, 10, 8, 8, 2, 3, 3]


def encode(method, path, headers, body, authority):
    headers = dict(headers)
    headers.setdefault("Host", authority)
    if "Content-Length" not in headers and "Transfer-Encoding" not in headers and (body or method == "POST"):
        headers["Content-Length"] = str(len(body))
    headers["Connection"] = "close"
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("utf-8", "surrogatepass") + body


def send(host, port, payload, timeout):
    """Sends one request on its own connection; the status code, whether the error had OpenAI's shape, and the body.

    The sending side stays open until the answer is read: Kestrel takes a half-closed connection for a client that
    left, and answers it nothing.
    """
    with socket.create_connection((host, port), timeout=timeout) as sock:
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The server answered (and closed) before reading everything, e.g. a 413 on Content-Length.
            pass
        chunks = []
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
        except (ConnectionResetError, socket.timeout):
            pass
    response = b"".join(chunks)
    if not response.startswith(b"HTTP/"):
        return None, False, response[:200]
    status = int(response.split(b" ", 2)[1])
    head, _, body = response.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        body = dechunk(body)
    shaped = False
    try:
        error = json.loads(body)["error"]
        shaped = all(k in error for k in ("message", "type", "param", "code"))
    except (ValueError, KeyError, TypeError):
        pass
    return status, shaped, body[:2000]


def dechunk(body):
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            return bytes(out)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return bytes(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the gateway (loopback only)")
    parser.add_argument("--count", type=int, default=2400, help="requests to send")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for one answer")
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    host, port = url.hostname, url.port or 80
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("refusing to fuzz a gateway that is not on a loopback address")
    authority = f"{host}:{port}"

    rng = random.Random(args.seed)
    requests = []
    for _ in range(args.count):
        kind, method, path, headers, body = rng.choices(BUILDERS, WEIGHTS)[0](rng)
        payload = body if method is None else encode(method, path, headers, body, authority)
        requests.append((kind, "raw bytes" if method is None else f"{method} {path}", payload))

    by_class = collections.Counter()
    by_kind = collections.defaultdict(collections.Counter)
    unshaped = collections.Counter()
    failures = []
    silent = []
    unshaped_samples = []

    def run(request):
        kind, line, payload = request
        result = attempt(request)
        if kind == "bad batch files" and result[0] == 200:
            # The upload is stored as it is; the batch made from it is where its lines are read.
            file_id = json.loads(result[2])["id"]
            create = dumps({"input_file_id": file_id, "endpoint": CHAT, "completion_window": "24h"})
            follow_up = ("batch from a bad file", "POST /v1/batches",
                         encode("POST", "/v1/batches", {"Content-Type": "application/json"}, create, authority))
            return [(request, result), (follow_up, attempt(follow_up))]
        return [(request, result)]

    def attempt(request):
        kind, line, payload = request
        try:
            # Bytes that never form a whole request get an answer from Kestrel or none: it waits for the rest.
            return send(host, port, payload, args.timeout if line != "raw bytes" else 5.0)
        except ConnectionRefusedError as error:
            # The gateway is gone: the worst answer of all.
            return -1, False, repr(error).encode()
        except OSError as error:
            return None, False, repr(error).encode()

    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        for (kind, line, payload), (status, shaped, body) in (pair for pairs in pool.map(run, requests) for pair in pairs):
            if status is None:
                cls = "no answer"
            elif status == -1:
                cls = "refused"
            elif status == 505:
                # Kestrel's answer to a request line naming an HTTP version it does not speak, sent before any of
                # the gateway's code runs (docs/security.md): counted apart, not hidden.
                cls = "505 Kestrel"
            else:
                cls = f"{status // 100}xx"
            by_class[cls] += 1
            by_kind[kind][cls] += 1
            # A HEAD answer never has a body.
            if status is not None and status >= 400 and not shaped and not line.startswith("HEAD "):
                unshaped[status] += 1
                if unshaped[status] <= 3:
                    unshaped_samples.append((status, kind, line, payload[:160]))
            if status is None:
                silent.append((kind, line, payload[:120], body[:300]))
            elif status == -1 or (status >= 500 and status != 505):
                failures.append((kind, line, status, payload[:300], body[:300]))

    classes = ["2xx", "3xx", "4xx", "5xx", "505 Kestrel", "no answer", "refused"]
    print(f"{sum(by_class.values())} requests to {args.url} ({args.count} generated with seed {args.seed}, "
          f"and a batch created from each bad batch file uploaded)")
    print("answers: " + ", ".join(f"{c}: {by_class[c]}" for c in classes))
    print(f"\n{'kind':24}" + "".join(f"{c:>12}" for c in classes))
    for kind in sorted(by_kind):
        print(f"{kind:24}" + "".join(f"{by_kind[kind][c]:>12}" for c in classes))
    print("\nerrors without OpenAI's error body, by status (Kestrel's own connection-level answers): "
          + (", ".join(f"{s}: {n}" for s, n in sorted(unshaped.items())) or "none"))
    for status, kind, line, payload in unshaped_samples:
        print(f"  e.g. {status} without a body for {kind}: {payload!r}")
    # A connection closed without a status line: Kestrel does that for bytes that never form a request.
    for kind, line, payload, body in silent:
        print(f"no answer to {kind}: {line}: {payload!r} ({body.decode(errors='replace') or 'closed'})")
    for kind, line, status, payload, body in failures:
        print(f"\n{'CONNECTION REFUSED' if status == -1 else status} from {kind}: {line}\n  request: {payload!r}\n  answer:  {body!r}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
