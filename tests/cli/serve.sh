# merx serve: a real server on a free 127.0.0.1 port, driven over HTTP.
# /healthz, /v1/recommend (same items and order as `merx recommend --user`),
# the scan that answered (bf16 first pass or float; exact: true and
# recommend.exact), popular fallback, sessions, filters, explanations, /v1/similar (exact and
# through the HNSW index beside the model), errors
# (bad JSON, unknown fields, 404/405), /metrics, and SIGTERM exiting 0.
DATA="$MERX_SRC/examples/data/purchases.csv.gz"
$MERX train --data "$DATA" --columns user=CustomerID,item=StockCode --algo ials --factors 8 \
  --epochs 3 --seed 1 --out ials.mxm >/dev/null 2>&1
$MERX index build --model ials.mxm --ef-construction 40 >/dev/null 2>&1 # ials.mxm.hnsw, found beside the model
source "$MERX_SRC/tests/net/serve_lib.sh"

start_server --model ials.mxm

call GET /healthz
expect_status 200
expect_contains out.txt '"status":"ok"'

# ---- the same items and order as merx recommend --user, for several users
users=$(zcat "$DATA" | python3 -c '
import csv, sys
print("\n".join(sorted({r["CustomerID"] for r in csv.DictReader(sys.stdin) if r["CustomerID"]})[35:40]))')
n=0
for u in $users; do
  n=$((n + 1))
  $MERX recommend --model ials.mxm --user "$u" --k 7 --out "cli$n.csv" 2>/dev/null
  call POST /v1/recommend "{\"user\": \"$u\", \"k\": 7}"
  expect_status 200
  cp body.txt "srv$n.json"
done
python3 - $users <<'PY'
import csv, json, sys
for n, u in enumerate(sys.argv[1:], 1):
    cli = list(csv.DictReader(open("cli%d.csv" % n)))
    body = json.load(open("srv%d.json" % n))
    got = [(r["item"], r["score"]) for r in body["items"]]
    want = [(r["item"], float(r["score"])) for r in cli]
    assert body["user"] == u and body["source"] == "model", body
    assert len(want) == 7 and [g[0] for g in got] == [w[0] for w in want], (u, got, want)
    for (gi, gs), (wi, ws) in zip(got, want):
        assert abs(gs - ws) <= 1e-5 * max(1.0, abs(ws)), (u, gi, gs, ws)
PY
u1=$(echo "$users" | head -1)

# ---- the scan that answered: the bf16 first pass where the CPU has AVX-512
# BF16 (its lists are the exact ones, checked above); exact: true keeps the
# float scan with the same list; /metrics counts the batched rows per scan
native=0
if grep -qw avx512_bf16 /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo && [ -z "${MERX_NO_AVX512+x}" ]; then
  native=1
fi
python3 - "$native" <<'PY'
import json, sys
scans = [json.load(open("srv%d.json" % n))["scan"] for n in range(1, 6)]
assert set(scans) <= {"bf16", "float"}, scans
if sys.argv[1] == "1":
    assert "bf16" in scans, scans
else:
    assert scans == ["float"] * 5, scans
PY
call POST /v1/recommend "{\"user\": \"$u1\", \"k\": 7, \"exact\": true}"
expect_status 200
expect_contains out.txt '"scan":"float"'
python3 -c '
import json
a, b = json.load(open("srv1.json")), json.load(open("body.txt"))
assert [i["item"] for i in a["items"]] == [i["item"] for i in b["items"]], (a, b)
assert all(abs(x["score"] - y["score"]) <= 1e-6 * max(1, abs(y["score"])) for x, y in zip(a["items"], b["items"]))'
call GET /metrics
python3 - "$native" <<'PY'
import json, re, sys
m = open("body.txt").read()
rows = {k: int(v) for k, v in re.findall(r'^merx_recommend_rows_total\{scan="(\w+)"\} (\d+)$', m, re.M)}
bf16 = sum(json.load(open("srv%d.json" % n))["scan"] == "bf16" for n in range(1, 6))
assert rows == {"bf16": bf16, "float": 5 - bf16}, (rows, bf16)
PY

# ---- unknown user: the popular items, flagged
call POST /v1/recommend '{"user": "no-such-user", "k": 3}'
expect_status 200
expect_contains out.txt '"source":"popular"'
top=$(zcat "$DATA" | python3 -c '
import csv, sys, collections
pairs = {(r["CustomerID"], r["StockCode"]) for r in csv.DictReader(sys.stdin) if r["CustomerID"]}
n = collections.Counter(i for _, i in pairs)
print(max(n, key=lambda i: n[i]))')
expect_contains out.txt "{\"item\":\"$top\""

# ---- session: recent items folded in; they are not recommended back
call POST /v1/recommend '{"items": ["85123A", "22423"], "k": 5, "explain": true}'
expect_status 200
expect_contains out.txt '"source":"session"'
expect_contains out.txt '"because":[{"item":'
if grep -q '"item":"85123A","score"' out.txt; then echo "session item recommended back"; exit 1; fi

# ---- candidates and exclude
call POST /v1/recommend "{\"user\": \"$u1\", \"k\": 5, \"candidates\": [\"22423\", \"85123A\", \"nope\"]}"
first=$(python3 -c '
import json; b = json.load(open("body.txt"))
assert b["items"] and {i["item"] for i in b["items"]} <= {"22423", "85123A"}, b
print(b["items"][0]["item"])')
call POST /v1/recommend "{\"user\": \"$u1\", \"k\": 5, \"candidates\": [\"22423\", \"85123A\"], \"exclude\": [\"$first\"]}"
if grep -q "\"item\":\"$first\"" out.txt; then echo "excluded item returned"; exit 1; fi

# ---- explanations: the user's training items
call POST /v1/recommend "{\"user\": \"$u1\", \"k\": 2, \"explain\": true}"
expect_contains out.txt '"because":[{"item":'

# ---- similar items: exact by default on a small catalogue (index or not),
# the HNSW index beside the model with "exact": false, both as the CLI says
call POST /v1/similar '{"item": "85123A", "k": 4}'
expect_status 200
expect_contains out.txt '"search":"exact"'
cp body.txt sim_exact.json
call POST /v1/similar '{"item": "85123A", "k": 4, "exact": false, "ef": 50}'
expect_contains out.txt '"search":"hnsw"'
cp body.txt sim_ann.json
call POST /v1/similar '{"item": "85123A", "k": 4, "exact": false, "metric": "dot"}'
expect_contains out.txt '"search":"exact"' # the index is cosine
call POST /v1/similar '{"item": "85123A", "k": 4, "ef": 0}'
expect_status 400
expect_contains out.txt "field 'ef'"
$MERX similar --model ials.mxm --item 85123A --k 4 --exact --out sim.csv 2>/dev/null
$MERX similar --model ials.mxm --item 85123A --k 4 --ef 50 --out sim_ann.csv 2>/dev/null
python3 -c '
import csv, json
for f, c in (("sim_exact.json", "sim.csv"), ("sim_ann.json", "sim_ann.csv")):
    b = json.load(open(f))
    want = [(r["similar_item"], float(r["score"])) for r in csv.DictReader(open(c))]
    got = [(i["item"], i["score"]) for i in b["items"]]
    assert [g[0] for g in got] == [w[0] for w in want], (f, got, want)
    assert all(abs(g[1] - w[1]) < 1e-6 for g, w in zip(got, want)), (f, got, want)'
call POST /v1/similar '{"item": "no-such-item"}'
expect_status 404

# ---- bad requests: 400 naming the problem
call POST /v1/recommend '{"user": '
expect_status 400
expect_contains out.txt 'invalid JSON at line 1'
call POST /v1/recommend '{"usr": "x"}'
expect_status 400
expect_contains out.txt "unknown field 'usr' (did you mean 'user'?)"
call POST /v1/recommend '{"user": "x", "k": "ten"}'
expect_status 400
expect_contains out.txt "field 'k'"
call POST /v1/recommend '[1, 2]'
expect_status 400
call POST /v1/nothing '{}'
expect_status 404
call GET /v1/recommend
expect_status 405

# ---- metrics: counts by route and status, the model's fingerprint
call GET /metrics
expect_status 200
expect_contains out.txt 'merx_http_requests_total{route="/v1/recommend",status="200"}'
expect_contains out.txt 'merx_http_requests_total{route="/v1/recommend",status="400"} 4'
expect_contains out.txt 'merx_http_request_duration_seconds_bucket{route="/v1/recommend",le="+Inf"}'
expect_contains out.txt 'merx_model_info{path="ials.mxm",kind="ials",fingerprint="'
# the access log: method, path, status, bytes, microseconds; no bodies
expect_contains serve.log ' POST /v1/recommend 400 '
if grep -q 'no-such-user' serve.log; then echo "request body in the log"; exit 1; fi

stop_server
expect_contains serve.log 'merx serve: stopped'

# ---- recommend.exact = true: no bf16 copy, every answer from the float scan
printf 'return { model = "ials.mxm", recommend = { exact = true } }\n' > exact.lua
start_server --config exact.lua
call POST /v1/recommend "{\"user\": \"$u1\", \"k\": 7}"
expect_status 200
expect_contains out.txt '"scan":"float"'
python3 -c '
import json
a, b = json.load(open("srv1.json")), json.load(open("body.txt"))
assert [i["item"] for i in a["items"]] == [i["item"] for i in b["items"]], (a, b)'
call GET /metrics
expect_contains out.txt 'merx_recommend_rows_total{scan="bf16"} 0'
stop_server
printf 'return { model = "ials.mxm", recommend = { exact = "yes" } }\n' > bad.lua
expect_exit 1 $MERX serve --config bad.lua --listen 127.0.0.1:0
expect_contains err.txt "exact"

# ---- ids needing escapes, or not UTF-8 (written as U+FFFD): the same items
# with and without explanations, the key never dropped
python3 - <<'PY'
import random
random.seed(1)
items = [b'a"b', b'c\\d', b'caf\xc3\xa9', b'tab\there'] + [b'x%d' % i for i in range(6)]
with open("odd.csv", "wb") as f:
    f.write(b"user,item\n")
    for u in range(40):
        for it in random.sample(items, 4):
            f.write(b"u%d,\"%s\"\n" % (u, it.replace(b'"', b'""')))
    f.write(b"u0,bad\xffid\nu1,bad\xffid\n")
PY
$MERX train --data odd.csv --columns user=user,item=item --algo ials --factors 4 --epochs 2 \
  --seed 1 --out odd.mxm >/dev/null 2>&1
start_server --model odd.mxm
for u in u0 u2; do
  call POST /v1/recommend "{\"user\": \"$u\", \"k\": 8}"
  expect_status 200
  cp body.txt "odd_$u.json"
  call POST /v1/recommend "{\"user\": \"$u\", \"k\": 8, \"explain\": true}"
  expect_status 200
  cp body.txt "odd_${u}_explain.json"
done
python3 - <<'PY'
import json
for u in ("u0", "u2"):
    a, b = json.load(open("odd_%s.json" % u)), json.load(open("odd_%s_explain.json" % u))
    assert all("item" in i for i in a["items"] + b["items"]), (a, b)
    assert [(i["item"], i["score"]) for i in a["items"]] == [(i["item"], i["score"]) for i in b["items"]], (a, b)
    assert all("item" in w for i in b["items"] for w in i["because"]), b
    got = {i["item"] for i in a["items"]} | {w["item"] for i in b["items"] for w in i["because"]}
    assert got & {'a"b', "c\\d", "tab\there"}, got
    if u == "u2":
        assert "bad\ufffdid" in got, got
PY
stop_server

# ---- usage errors
expect_exit 2 $MERX serve
expect_exit 2 $MERX serve --model ials.mxm --lisen 127.0.0.1:0
expect_contains err.txt "did you mean '--listen'"
expect_exit 1 $MERX serve --model missing.mxm --listen 127.0.0.1:0
expect_contains err.txt 'missing.mxm'
