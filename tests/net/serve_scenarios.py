#!/usr/bin/env python3
"""Timing scenarios for the `merx serve` tests, made deterministic with a
request whose body is still being uploaded (python3 stdlib only).

  serve_scenarios.py sigterm URL PID BODY
      A request is in flight (headers and half the body sent) when the server
      gets SIGTERM: new connections must be refused, the in-flight request
      must still be answered 200. Prints "in-flight 200, new connections
      refused".
  serve_scenarios.py busy URL BODY_SLOW BODY_A BODY_B
      With one handler thread and no queue (threads = 1, max_queue = 0) and a
      recommend batch that waits while more requests are coming: S (slow
      upload) is pending, so A's batch waits and holds the only handler; B
      must get 503 with Retry-After, and so must S when its body is in (the
      handler is still held); A completes with 200.
"""
import http.client
import os
import signal
import socket
import sys
import time
import urllib.parse


def raw_request(host, port, path, body, split):
    """Open a connection and send the headers and body[:split]."""
    s = socket.create_connection((host, port), timeout=20)
    data = body.encode()
    head = ("POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (path, host, port, len(data))).encode()
    s.sendall(head + data[:split])
    return s, data[split:]


def read_status(s):
    f = s.makefile("rb")
    line = f.readline().decode()
    if not line:
        return None
    return int(line.split()[1])


def main():
    cmd = sys.argv[1]
    url = urllib.parse.urlsplit(sys.argv[2])
    host, port, path = url.hostname, url.port, url.path
    if cmd == "sigterm":
        pid, body = int(sys.argv[3]), sys.argv[4]
        s, rest = raw_request(host, port, path, body, len(body) // 2)
        time.sleep(0.3)
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.5)
        refused = False
        try:
            c = socket.create_connection((host, port), timeout=2)
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            st = read_status(c)
            refused = st is None or st == 503
            c.close()
        except OSError:
            refused = True
        s.sendall(rest)
        st = read_status(s)
        print("in-flight %s, new connections %s" % (st, "refused" if refused else "accepted"))
        return 0 if st == 200 and refused else 1
    if cmd == "busy":
        slow, a, b = sys.argv[3], sys.argv[4], sys.argv[5]
        s, s_rest = raw_request(host, port, path, slow, len(slow) // 2)
        time.sleep(0.2)
        sa, _ = raw_request(host, port, path, a, len(a))
        time.sleep(0.3)
        c = http.client.HTTPConnection(host, port, timeout=20)
        c.request("POST", path, body=b.encode(), headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        b_status, retry = r.status, r.getheader("Retry-After")
        s.sendall(s_rest)
        a_status, s_status = read_status(sa), read_status(s)
        print("A %s B %s retry-after %s S %s" % (a_status, b_status, retry, s_status))
        return 0 if (a_status, b_status, s_status) == (200, 503, 503) and retry else 1
    print("unknown scenario", cmd, file=sys.stderr)
    return 2


sys.exit(main())
