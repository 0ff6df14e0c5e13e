# HTTP calls of a run end with the run (#14.6): a webhook to a server that
# answers after 20 s is cut at --timeout, and a SIGTERM stops it at once;
# either way the run exits 1, says why, and commits nothing.
python3 "$MERX_SRC/tests/net/fake_openai.py" --idle 60 > port.txt &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s port.txt ] && break; sleep 0.1; done
PORT=$(head -1 port.txt)
cat > llm.json <<JSON
{"base_url": "http://127.0.0.1:$PORT/d-slow20/v1", "model": "fake-embed", "timeout": 60,
 "allow_hosts": ["127.0.0.1"]}
JSON
cat > hook.lua <<LUA
merx.emit("order", { user = "1", sku = "85123A", reason = "below reorder point" })
local ok, err = pcall(merx.http.post_json, "http://127.0.0.1:$PORT/d1-slow20/hook", {sku = "85123A"})
print("after the call", ok, err)
LUA
start=$SECONDS
MERX_LLM_CONFIG=llm.json expect_exit 1 "$MERX" run hook.lua --out out1 --timeout 1
[ $((SECONDS - start)) -lt 10 ] || { echo "FAIL: the webhook outlived --timeout 1 ($((SECONDS - start)) s)"; exit 1; }
expect_contains err.txt "hook.lua:2:"
expect_contains err.txt "time limit of 1 s exceeded (--timeout)"
[ ! -e out1/order.csv ]

# embeddings too
cat > emb.lua <<'LUA'
merx.emit("order", { user = "1", sku = "85123A", reason = "x" })
local v = merx.llm.embed({"red metal lantern"})
LUA
start=$SECONDS
MERX_LLM_CONFIG=llm.json expect_exit 1 "$MERX" run emb.lua --out out2 --timeout 1
[ $((SECONDS - start)) -lt 10 ] || { echo "FAIL: embed outlived --timeout 1"; exit 1; }
expect_contains err.txt "time limit of 1 s exceeded (--timeout)"
[ ! -e out2/order.csv ]

# SIGTERM during the call
start=$SECONDS
MERX_LLM_CONFIG=llm.json "$MERX" run hook.lua --out out3 > out.txt 2> err.txt &
RUN=$!
sleep 1
kill -TERM $RUN
set +e; wait $RUN; rc=$?; set -e
[ "$rc" -eq 1 ] || { echo "FAIL: exit $rc after SIGTERM"; cat err.txt; exit 1; }
[ $((SECONDS - start)) -lt 10 ] || { echo "FAIL: SIGTERM did not stop the webhook promptly"; exit 1; }
expect_contains err.txt "interrupted by a signal"
[ ! -e out3/order.csv ]
