# merx.llm / merx.http inside `merx run`, against the fake OpenAI-compatible
# server on 127.0.0.1: the run's config comes from $MERX_LLM_CONFIG; a dry
# run sends no webhook; a failed call commits nothing.
python3 "$MERX_SRC/tests/net/fake_openai.py" --idle 60 > port.txt &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s port.txt ] && break; sleep 0.1; done
PORT=$(head -1 port.txt)
hooks() {
  python3 -c "import json,urllib.request;print(len(json.load(urllib.request.urlopen('http://127.0.0.1:$PORT/stats'))['hooks']))"
}
cat > llm.json <<JSON
{"base_url": "http://127.0.0.1:$PORT/ok/v1", "model": "fake-embed", "chat_model": "fake-chat",
 "cache_dir": "cache", "max_retries": 1, "backoff_base": 0.01, "allow_hosts": ["127.0.0.1"]}
JSON
cat > answer.lua <<LUA
local v = merx.llm.embed({"white metal lantern", "cake stand"})
assert(#v == 2 and #v[1] == 8, "server vectors")
local reply = merx.llm.chat{ system = "Be brief.", messages = "Is the lantern in stock?",
  context_items = {{id = "71053", text = "WHITE METAL LANTERN"}} }
print(reply)
local status = merx.http.post_json("http://127.0.0.1:$PORT/ok/hook", {sku = "71053", qty = 3})
print("webhook status " .. status)
merx.emit("reply", { user = "17850", text = reply, reason = "grounded in 1 product" })
LUA
MERX_LLM_CONFIG=llm.json expect_exit 0 "$MERX" run answer.lua --out out1
expect_contains out.txt "echo: Is the lantern in stock? | messages: 2"
expect_contains out.txt "webhook status 200"
expect_contains out1/reply.csv "17850"
[ "$(hooks)" -eq 1 ]

# A dry run: no webhook leaves, nothing is committed.
MERX_LLM_CONFIG=llm.json expect_exit 0 "$MERX" run answer.lua --out out2 --dry-run
expect_contains err.txt "dry run: merx.http.post_json http://127.0.0.1:$PORT/ok/hook"
[ "$(hooks)" -eq 1 ]
[ ! -e out2/reply.csv ]

# A failing call (the server keeps answering 500) stops the script: nothing committed.
sed "s#/ok/v1#/500/v1#" llm.json > llm500.json
cat > fail.lua <<'LUA'
merx.emit("reply", { user = "1", text = "staged before the failure", reason = "test" })
local v = merx.llm.embed({"a text the cache has never seen"})
LUA
MERX_LLM_CONFIG=llm500.json expect_exit 1 "$MERX" run fail.lua --out out3
expect_contains err.txt "fail.lua:2:"
expect_contains err.txt "HTTP 500 after 2 attempts"
[ ! -e out3/reply.csv ]

# Webhooks carry Idempotency-Key RUN_ID.N (N = the run's post_json call count).
cat > twice.lua <<LUA
print("run " .. merx.run_id)
merx.http.post_json("http://127.0.0.1:$PORT/idem/hook", {n = 1})
merx.http.post_json("http://127.0.0.1:$PORT/idem/hook", {n = 2})
LUA
MERX_LLM_CONFIG=llm.json expect_exit 0 "$MERX" run twice.lua --out out4
RUN=$(sed -n 's/^run //p' out.txt)
KEYS=$(python3 -c "import json,urllib.request;print(' '.join(h['idempotency_key'] for h in json.load(urllib.request.urlopen('http://127.0.0.1:$PORT/stats'))['hook_requests'] if h['prefix']=='idem'))")
[ "$KEYS" = "$RUN.1 $RUN.2" ] || { echo "FAIL: idempotency keys '$KEYS' for run $RUN"; exit 1; }

# A webhook host that echoes its credential: the secret never reaches stderr.
cat > cred.json <<JSON
{"allow_hosts": ["127.0.0.1"], "max_retries": 0,
 "webhook_credentials": {"127.0.0.1": {"key_env": "HOOK_SECRET", "scheme": "Token"}}}
JSON
cat > echo.lua <<LUA
merx.emit("reply", { user = "1", text = "x", reason = "test" })
merx.http.post_json("http://127.0.0.1:$PORT/e-echo/hook", {sku = "1"})
LUA
HOOK_SECRET=hooksecretcli7 MERX_LLM_CONFIG=cred.json expect_exit 1 "$MERX" run echo.lua --out out5
expect_contains err.txt "HTTP 401"
expect_contains err.txt "Token [redacted]"
! grep -q hooksecretcli7 err.txt out.txt
[ ! -e out5/reply.csv ]
