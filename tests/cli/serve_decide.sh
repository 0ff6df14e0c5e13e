# merx serve, POST /v1/decide on a real server (127.0.0.1, free port): the
# example spring rule deciding one shopper, its decision in the store's
# ledger; a script that errors or loops fails that request alone (SCRIPT:LINE,
# the limit named) while the server keeps serving; bad JSON, unknown
# function and field; caps under 40 concurrent requests (no overshoot: the
# ledger is counted after the server stopped and flushed); two servers on one
# store sharing an offer's stock (each sees the other's written decisions).
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed"; exit 77; }
"$MERX" serve --help >/dev/null 2>&1 || { echo "merx serve not built"; exit 77; }
cp "$MERX_SRC/examples/spring_decide.lua" .
# the example's functions plus two that misbehave
sed '$d' spring_decide.lua > rules.lua
cat >> rules.lua <<'EOF'
function M.boom(a) error("no rule for " .. tostring(a.user)) end
function M.spin() while true do end end
local exp = merx.experiment{ name = "banner", arms = { control = 0.5, big = 0.5 } }
function M.arm(a) return { arm = exp:arm(a.user) } end
function M.expose(a) return { arm = exp:emit("offer", { user = a.user, offer = "BANNER", reason = "banner test" }) } end
return M
EOF
mkdir store
cat > serve.lua <<'EOF'
return {
  listen = "127.0.0.1:0",
  store = "store",
  decide = {
    script = "rules.lua",
    default_function = "decide",
    timeout_ms = 200,
    caps = {
      contacts = { kind = "offer", max = 1, days = 14 },
      per_offer = { kind = "offer", max = { SPRING10 = 5 } },
    },
  },
}
EOF

source "$MERX_SRC/tests/net/serve_lib.sh"
start_server --config serve.lua

timeout 120 python3 - "$URL" <<'PY'
import http.client, json, sys, threading, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])

def post(body, path="/v1/decide"):
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    c.request("POST", path, body=body if isinstance(body, str) else json.dumps(body),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    text = r.read().decode()
    c.close()
    return r.status, text

def shopper(user, segment="champions"):
    return {"args": {"user": user, "segment": segment, "recency": 3, "frequency": 12,
                     "monetary": 820, "item": "85123A"}}

st, text = post(shopper("u-first"))
assert st == 200, (st, text)
b = json.loads(text)
assert b["result"]["offer"] == "SPRING10" and b["recorded"] is True, b
assert [d["record"]["offer"] for d in b["decisions"]] == ["SPRING10"], b
assert b["decisions"][0]["reason"].startswith("champions: propensity"), b
# the contact cap: the same shopper again is capped, and says why
st, text = post(shopper("u-first"))
b = json.loads(text)
assert st == 200 and b["decisions"] == [] and b["capped"][0]["cap"].startswith("contact cap"), text
# a script error fails the request alone, naming script:line
st, text = post({"function": "boom", "args": {"user": "x"}})
assert st == 500 and "rules.lua:" in text and "no rule for x" in text, (st, text)
# a loop hits the per-call time limit
st, text = post({"function": "spin"})
assert st == 504 and "time limit of 0.2 s exceeded (decide)" in text and "rules.lua:" in text, (st, text)
# an experiment's arm is fine; exposures /v1/decide cannot record are refused, nothing emitted
st, text = post({"function": "arm", "args": {"user": "x1"}})
assert st == 200 and json.loads(text)["result"]["arm"] in ("control", "big"), (st, text)
st, text = post({"function": "expose", "args": {"user": "x1"}})
assert st == 500 and "experiment exposures" in text and "e:arm" in text, (st, text)
# ... and the server still decides
st, text = post(shopper("u-after", "new"))
assert st == 200 and json.loads(text)["result"]["offer"] == "FREESHIP", (st, text)
# request errors
st, text = post('{"args": ')
assert st == 400 and "invalid JSON" in text, (st, text)
st, text = post({"function": "nope"})
assert st == 404 and "no function 'nope'" in text, (st, text)
st, text = post({"arg": {}})
assert st == 400 and "did you mean 'args'" in text, (st, text)
st, text = post({"function": 3})
assert st == 400 and "field 'function'" in text, (st, text)

# 40 concurrent requests: 20 champions, each asked twice at once; SPRING10
# has 4 coupons left (5 minus u-first's), each shopper one contact
results = []
lock = threading.Lock()
def worker(i):
    st, text = post(shopper("c%02d" % (i % 20)))
    with lock:
        results.append((st, text))
ts = [threading.Thread(target=worker, args=(i,)) for i in range(40)]
for t in ts: t.start()
for t in ts: t.join()
assert all(st == 200 for st, _ in results), [r for r in results if r[0] != 200][:3]
granted = sum(len(json.loads(t)["decisions"]) for _, t in results)
assert granted == 4, granted
print("decide checks passed")
PY

stop_server
expect_contains serve.log "rules.lua:"
# the ledger after the flush on shutdown: no cap overshot
[ "$(sqlite3 store/ledger.db "SELECT count(*) FROM decisions WHERE json_extract(record, '\$.offer') = 'SPRING10'")" = 5 ]
[ "$(sqlite3 store/ledger.db "SELECT max(n) FROM (SELECT count(*) AS n FROM decisions GROUP BY user)")" = 1 ]
[ "$(sqlite3 store/ledger.db "SELECT count(*) FROM decisions")" = 6 ]
[ "$(sqlite3 store/ledger.db "SELECT DISTINCT params FROM decisions")" = '{"function":"decide"}' ]
# merx explain reads served decisions like any others
expect_exit 0 "$MERX" explain --store store --user u-first
expect_contains out.txt "SPRING10"

# Two writers, one cap: servers A and B on one store, SPRING10 stock 3. B
# decides 2 shoppers and writes them; A, started before, must see them and
# grant only 1 more (it used to count the ledger once, at start, and grant 3).
mkdir store2
sed -e 's|"store"|"store2"|' -e 's|SPRING10 = 5|SPRING10 = 3|' serve.lua > serve2.lua
start_server --config serve2.lua
A_PID=$PID A_URL=$URL
"$MERX" serve --listen 127.0.0.1:0 --config serve2.lua 2>serveB.log &
B_PID=$!
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; [ -n "$B_PID" ] && kill "$B_PID" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q "^listening on " serveB.log && break; sleep 0.1; done
B_URL=$(sed -n 's/^listening on \(http:.*\)$/\1/p' serveB.log)
[ -n "$B_URL" ] || { cat serveB.log; exit 1; }
shop() { printf '{"args": {"user": "%s", "segment": "champions", "recency": 3, "frequency": 12, "monetary": 820, "item": "85123A"}}' "$1"; }
URL=$B_URL
for u in b1 b2; do call POST /v1/decide "$(shop $u)"; expect_status 200; expect_contains out.txt SPRING10; done
for _ in $(seq 1 100); do
  [ "$(sqlite3 store2/ledger.db "SELECT count(*) FROM decisions" 2>/dev/null)" = 2 ] && break; sleep 0.05
done
URL=$A_URL
granted=0
for u in a1 a2 a3; do
  call POST /v1/decide "$(shop $u)"; expect_status 200
  grep -q '"decisions":\[\]' body.txt || granted=$((granted + 1))
done
[ "$granted" = 1 ] || { echo "FAIL: server A granted $granted SPRING10 after B wrote 2 of 3"; exit 1; }
stop_server
kill -TERM "$B_PID"; wait "$B_PID" || true
B_PID=""
[ "$(sqlite3 store2/ledger.db "SELECT count(*) FROM decisions WHERE json_extract(record, '\$.offer') = 'SPRING10'")" = 3 ]
