#!/usr/bin/env python3
"""A tiny HTTP client for the `merx serve` tests (python3 stdlib only).

  serve_client.py METHOD URL [BODY] [--token T] [--header K:V]
      prints "STATUS" on the first line and the body after it; exit 0 for any
      HTTP answer, 3 when no answer came (connection refused, reset, timeout).
  serve_client.py loop URL BODY SECONDS [--token T]
      POSTs BODY in a loop on one keep-alive connection for SECONDS; prints
      "ok N failed M" and the statuses of failures; exit 0.
"""
import http.client
import sys
import time
import urllib.parse


def parse_opts(argv):
    opts = {"token": None, "headers": {}}
    rest = []
    i = 0
    while i < len(argv):
        if argv[i] == "--token":
            opts["token"] = argv[i + 1]
            i += 2
        elif argv[i] == "--header":
            k, v = argv[i + 1].split(":", 1)
            opts["headers"][k] = v
            i += 2
        else:
            rest.append(argv[i])
            i += 1
    return rest, opts


def request(conn, method, path, body, opts):
    headers = dict(opts["headers"])
    if opts["token"] is not None:
        headers["Authorization"] = "Bearer " + opts["token"]
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=body.encode() if body is not None else None, headers=headers)
    r = conn.getresponse()
    return r.status, r.read().decode("utf-8", "replace"), r


def main():
    args, opts = parse_opts(sys.argv[1:])
    if args[0] == "loop":
        url, body, seconds = urllib.parse.urlsplit(args[1]), args[2], float(args[3])
        ok = failed = 0
        bad = []
        end = time.time() + seconds
        conn = None
        while time.time() < end:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
                st, text, _ = request(conn, "POST", url.path, body, opts)
                if 200 <= st < 300:
                    ok += 1
                else:
                    failed += 1
                    bad.append("%d %s" % (st, text[:200]))
            except (OSError, http.client.HTTPException) as e:
                failed += 1
                bad.append("no answer: %s" % e)
                conn = None
        print("ok %d failed %d" % (ok, failed))
        for b in bad[:10]:
            print(b)
        return 0
    method, url = args[0], urllib.parse.urlsplit(args[1])
    body = args[2] if len(args) > 2 else None
    try:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        st, text, r = request(conn, method, url.path, body, opts)
    except (OSError, http.client.HTTPException) as e:
        print("no answer: %s" % e, file=sys.stderr)
        return 3
    print(st)
    for k in ("Retry-After", "WWW-Authenticate", "Content-Type"):
        if r.getheader(k):
            print("%s: %s" % (k, r.getheader(k)), file=sys.stderr)
    print(text)
    return 0


sys.exit(main())
