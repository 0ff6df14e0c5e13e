#!/usr/bin/env python3
"""A small, deterministic OpenAI-compatible server for merx's tests.

Listens on 127.0.0.1 only, on a free port chosen by the OS, and prints that
port as the first line on stdout. Exits after --idle seconds without requests
(so a crashed test never leaves it behind), or on SIGTERM.

Fault injection is chosen by the first path segment, so one server serves
every case of a test run; counters are kept per full prefix, so a test can use
a fresh prefix ("/t7-500x1/v1") to restart a "fail N times, then succeed" case:

  ok        normal answers
  slowS     sleep S seconds before answering (e.g. slow3)
  429xN     answer 429 with "Retry-After: 1" to the first N requests
  500xN     answer 500 to the first N requests
  500       always 500
  400       always 400 with an OpenAI-style error body
  badjson   a 200 whose body is not JSON
  wrongdim  one vector of each answer is one component short
  dimD      every vector has D components whatever was asked
  partial   answers with one embedding fewer than the inputs
  partial2  the second embeddings request answers partially, others are fine
  huge      a 200 of about 8 MB
  auth      requires "Authorization: Bearer <$FAKE_OPENAI_KEY>"
  echo      answers 401 with the request's Authorization header quoted in the
            error message (a server that echoes the key back)
  echo200   a 200 without "data" whose error.message quotes the Authorization header
  cite      chat answers cite the first "[ID]" of the system message and a
            made-up "[FAKE-404]" (a model citing a product that does not exist)

Endpoints: POST {prefix}/v1/embeddings, POST {prefix}/v1/chat/completions,
POST {prefix}/hook (records the body in "hooks" and, in "hook_requests", the
prefix and the Authorization, X-Hook-Token and Idempotency-Key headers, when the
request arrives, before any fault mode acts), GET /stats (request, text and TCP
connection counts, the most requests in flight at once per prefix, recorded
hooks, and the messages of the last chat request in "last_chat").

Embeddings are deterministic: component j of text t is derived from
sha256(f"{j}:{t}"), and the vector is L2-normalised; default dimension 8, or
the request's "dimensions".
"""
import argparse
import hashlib
import json
import math
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
COUNTS = {}          # prefix -> requests seen
STATS = {"requests": 0, "embedding_requests": 0, "texts": 0, "chat_requests": 0,
         "connections": 0, "max_inflight": {}, "hooks": [], "hook_requests": [],
         "models": []}
INFLIGHT = {}  # prefix -> requests being answered now
PEERS = set()  # client (address, port) pairs: one per TCP connection
LAST = [time.monotonic()]


def vector(text, dim):
    v = []
    for j in range(dim):
        h = hashlib.sha256(f"{j}:{text}".encode("utf-8")).digest()
        v.append(int.from_bytes(h[:8], "little") / 2.0**64 * 2.0 - 1.0)
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [round(x / n, 6) for x in v]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients can reuse connections

    def log_message(self, fmt, *args):  # quiet
        pass

    def send(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        LAST[0] = time.monotonic()
        if self.path == "/stats":
            with LOCK:
                self.send(200, STATS)
        else:
            self.send(404, {"error": {"message": "not found"}})

    def do_POST(self):
        prefix = self.path.split("/")[1] if self.path.count("/") > 1 else ""
        with LOCK:
            INFLIGHT[prefix] = INFLIGHT.get(prefix, 0) + 1
            peak = STATS["max_inflight"]
            peak[prefix] = max(peak.get(prefix, 0), INFLIGHT[prefix])
        try:
            self.post()
        finally:
            with LOCK:
                INFLIGHT[prefix] -= 1

    def post(self):
        LAST[0] = time.monotonic()
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        m = re.match(r"^/([^/]+)/(v1/embeddings|v1/chat/completions|hook)$", self.path)
        if not m:
            self.send(404, {"error": {"message": "unknown path " + self.path}})
            return
        prefix, endpoint = m.group(1), m.group(2)
        mode = prefix.split("-")[-1]  # "t7-500x1" -> "500x1"
        with LOCK:
            if self.client_address not in PEERS:
                PEERS.add(self.client_address)
                STATS["connections"] += 1
            COUNTS[prefix] = COUNTS.get(prefix, 0) + 1
            count = COUNTS[prefix]
            STATS["requests"] += 1
            if endpoint == "hook":
                STATS["hook_requests"].append({
                    "prefix": prefix,
                    "authorization": self.headers.get("Authorization"),
                    "x_hook_token": self.headers.get("X-Hook-Token"),
                    "idempotency_key": self.headers.get("Idempotency-Key")})
        if mode in ("echo", "echo200"):
            said = "invalid api key: " + str(self.headers.get("Authorization"))
            self.send(401 if mode == "echo" else 200, {"error": {"message": said}})
            return
        if mode == "auth":
            want = "Bearer " + os.environ.get("FAKE_OPENAI_KEY", "")
            if self.headers.get("Authorization") != want:
                self.send(401, {"error": {"message": "invalid api key"}})
                return
        fail = re.match(r"^(429|500)x(\d+)$", mode)
        if fail and count <= int(fail.group(2)):
            if fail.group(1) == "429":
                self.send(429, {"error": {"message": "rate limited"}}, [("Retry-After", "1")])
            else:
                self.send(500, {"error": {"message": "internal error"}})
            return
        if mode == "500":
            self.send(500, {"error": {"message": "internal error"}})
            return
        if mode == "400":
            self.send(400, {"error": {"message": "model not found"}})
            return
        slow = re.match(r"^slow(\d+)$", mode)
        if slow:
            time.sleep(int(slow.group(1)))
        if mode == "badjson":
            self.send(200, b'{"data": [{"embedding": [0.1, 0.2')
            return
        if mode == "huge":
            self.send(200, b'{"pad": "' + b"x" * (8 << 20) + b'"}')
            return
        try:
            req = json.loads(raw)
        except ValueError:
            self.send(400, {"error": {"message": "request is not JSON"}})
            return
        if endpoint == "hook":
            with LOCK:
                STATS["hooks"].append(req)
            self.send(200, {"ok": True})
            return
        if endpoint == "v1/chat/completions":
            msgs = req.get("messages", [])
            with LOCK:
                STATS["chat_requests"] += 1
                STATS["last_chat"] = msgs
            last = next((x["content"] for x in reversed(msgs) if x.get("role") == "user"), "")
            system = next((x["content"] for x in msgs if x.get("role") == "system"), "")
            content = f"echo: {last} | messages: {len(msgs)} | system: {len(system)} chars"
            if mode == "cite":
                ids = re.findall(r"\[([^\]\s]+)\]", system)
                first = ids[0] if ids else "none"
                content = f"Try [{first}] or [FAKE-404]. " + content
            self.send(200, {"id": "chat-1", "object": "chat.completion", "model": req.get("model"),
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": content}}]})
            return
        inputs = req.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        dim = int(req.get("dimensions") or 8)
        dm = re.match(r"^dim(\d+)$", mode)
        if dm:
            dim = int(dm.group(1))
        with LOCK:
            STATS["embedding_requests"] += 1
            STATS["texts"] += len(inputs)
            STATS["models"].append(req.get("model"))
            nth = STATS["embedding_requests"]
        data = [{"object": "embedding", "index": i, "embedding": vector(t, dim)}
                for i, t in enumerate(inputs)]
        # Answer in reverse order: clients must place vectors by "index".
        data.reverse()
        if mode == "wrongdim" and data:
            data[0]["embedding"] = data[0]["embedding"][:-1]
        if (mode == "partial" or (mode == "partial2" and count == 2)) and data:
            data = data[1:]
        self.send(200, {"object": "list", "model": req.get("model"), "data": data,
                        "usage": {"prompt_tokens": 0, "total_tokens": 0}})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle", type=float, default=120.0)
    args = ap.parse_args()
    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # clients that hang up early (timeouts, size limits) are expected

    srv = Server(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    while time.monotonic() - LAST[0] < args.idle:
        time.sleep(0.5)
    os._exit(0)


if __name__ == "__main__":
    main()
