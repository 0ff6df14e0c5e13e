# merx serve operations: the config file (strict keys, sandboxed), bearer
# tokens (401, never logged), body size limit (413), concurrency limit (503
# with Retry-After), time limit (504), SIGTERM with a request in flight.
DATA="$MERX_SRC/examples/data/purchases.csv.gz"
$MERX train --data "$DATA" --columns user=CustomerID,item=StockCode --algo ials --factors 8 \
  --epochs 3 --seed 1 --out ials.mxm >/dev/null 2>&1
source "$MERX_SRC/tests/net/serve_lib.sh"
SCEN="python3 $MERX_SRC/tests/net/serve_scenarios.py"
user=$(zcat "$DATA" | python3 -c '
import csv, sys
print(sorted({r["CustomerID"] for r in csv.DictReader(sys.stdin) if r["CustomerID"]})[10])')

# ---- config: strict keys with a did-you-mean, sandboxed, errors name the file
mkdir -p conf
printf 'return { model = "../ials.mxm", tiemout = 3 }\n' > conf/typo.lua
expect_exit 1 $MERX serve --config conf/typo.lua --listen 127.0.0.1:0
expect_contains err.txt "conf/typo.lua: unknown key 'tiemout' (did you mean 'timeout'?)"
printf 'return { model = "../ials.mxm", recommend = { batch = 0 } }\n' > conf/range.lua
expect_exit 1 $MERX serve --config conf/range.lua --listen 127.0.0.1:0
expect_contains err.txt "recommend.batch"
printf 'local f = io.open("x")\nreturn {}\n' > conf/io.lua
expect_exit 1 $MERX serve --config conf/io.lua --listen 127.0.0.1:0
expect_contains err.txt 'conf/io.lua:1:'
printf 'while true do end\n' > conf/loop.lua
expect_exit 1 $MERX serve --config conf/loop.lua --listen 127.0.0.1:0
expect_contains err.txt 'time limit'

# ---- tokens: 401 without or with a wrong one; /healthz is public; never logged
printf 's3cret-token-1\n  second-token  \n' > tokens.txt
# relative paths in the config resolve against its folder; computed values are fine
cat > conf/serve.lua <<'LUA'
local limit = 64 * 16
return {
  model = "../ials.mxm",
  token_file = "../tokens.txt",
  max_body = limit,
  access_log = "access.log",
}
LUA
start_server --config conf/serve.lua
call POST /v1/recommend "{\"user\": \"$user\"}"
expect_status 401
expect_contains hdr.txt 'WWW-Authenticate: Bearer'
call POST /v1/recommend "{\"user\": \"$user\"}" --token wrong
expect_status 401
call POST /v1/recommend "{\"user\": \"$user\"}" --token s3cret-token-12
expect_status 401
call POST /v1/recommend "{\"user\": \"$user\"}" --token s3cret-token-1
expect_status 200
call POST /v1/recommend "{\"user\": \"$user\"}" --token second-token
expect_status 200
call GET /metrics
expect_status 401
call GET /healthz
expect_status 200
# ---- 413: a body over max_body (1024 bytes here), before and after the token check
big=$(python3 -c 'import json; print(json.dumps({"items": ["x%d" % i for i in range(400)]}))')
call POST /v1/recommend "$big" --token s3cret-token-1
expect_status 413
call POST /v1/recommend "$big"
expect_status 401
wait_for conf/access.log 'POST /v1/recommend 413 '
for t in s3cret-token-1 second-token; do
  if grep -q "$t" conf/access.log serve.log; then echo "token in a log"; exit 1; fi
done
stop_server

# ---- 503 with Retry-After when the only handler is busy and there is no queue
cat > conf/busy.lua <<'LUA'
return { model = "../ials.mxm", threads = 1, max_queue = 0,
         recommend = { batch = 8, batch_wait_ms = 1000 } }
LUA
start_server --config conf/busy.lua
$SCEN busy "$URL/v1/recommend" "{\"user\": \"$user\", \"k\": 3}" "{\"user\": \"$user\", \"k\": 2}" \
  "{\"user\": \"$user\", \"k\": 1}" > scen.txt || { cat scen.txt; cat serve.log; exit 1; }
expect_contains scen.txt 'A 200 B 503 retry-after 1 S 503'
call GET /metrics
expect_contains out.txt 'merx_http_rejected_busy_total 2'
stop_server

# ---- 504: a request past the time limit (0.5 s here): a long session (every item 300 times,
# seen items included, so 1000 items are returned and explained)
# explained for 1000 items is 1e9 similarities; the explanation polls the deadline
printf 'return { model = "../ials.mxm", timeout = 0.5, max_body = 16000000 }\n' > conf/slow.lua
start_server --config conf/slow.lua
zcat "$DATA" | python3 -c '
import csv, json, sys
items = sorted({r["StockCode"] for r in csv.DictReader(sys.stdin) if r["CustomerID"]})
print(json.dumps({"items": items * 300, "k": 1000, "explain": True, "include_seen": True}))' > session.json
curl -s -o body.txt -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @session.json \
  "$URL/v1/recommend" > code.txt
[ "$(cat code.txt)" = 504 ] || { echo "expected 504"; cat code.txt body.txt; tail -3 serve.log; exit 1; }
expect_contains body.txt 'time limit'
kill -0 "$PID" # the server lives on
stop_server

# ---- SIGTERM: stop accepting, finish the request in flight, exit 0
start_server --model ials.mxm
$SCEN sigterm "$URL/v1/recommend" "$PID" "{\"user\": \"$user\", \"k\": 5}" > scen.txt \
  || { cat scen.txt; cat serve.log; exit 1; }
expect_contains scen.txt 'in-flight 200, new connections refused'
for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
set +e; wait "$PID"; rc=$?; set -e
PID=""
[ "$rc" -eq 0 ] || { echo "exit $rc after SIGTERM"; cat serve.log; exit 1; }
expect_contains serve.log 'merx serve: stopped'

# ---- the example config and its files (docs/cli/serve.md, systemd unit) start as documented
mkdir -p ex/models ex/secrets ex/store
cp "$MERX_SRC/examples/serve.lua" ex/
cp ials.mxm ex/models/shop.mxm
printf 'example-token\n' > ex/secrets/tokens.txt
start_server --config ex/serve.lua
call POST /v1/recommend "{\"user\": \"$user\", \"k\": 2}" --token example-token
expect_status 200
stop_server
