# Minimum data (issue #19): search queries and chat turns are kept only when
# the store says `store_queries = yes`, redacted (e-mail addresses, phone
# numbers) and under the user's pseudonym; kept rows obey retention (merx
# vacuum, also as a scheduled `vacuum = true` job) and erasure (merx forget).
# merx search (CLI) and merx serve's /v1/search and /v1/answer (built-in
# embedder; the chat model is tests/net/fake_openai.py, which echoes the question).
P="$MERX_SRC/examples/data/products.csv"
"$MERX" embed --data "$P" --columns id=StockCode,text=Description --out items.npy >/dev/null 2>&1
EMAIL="jo.bloggs@example.com"
PHONE="+44 20 7946 0958"
# scan DIR [TEXT]: no byte of the e-mail address, the phone number, the raw user id
# (nor TEXT) in any file of the store
scan() {
  if LC_ALL=C grep -r -a -l -F -e "$EMAIL" -e "7946 0958" -e "cust-42" -e "${2:-cust-42}" "$1" > found.txt; then
    echo "FAIL: raw query text or user id in: $(tr '\n' ' ' < found.txt)" >&2; exit 1
  fi
}

# ---- not configured: nothing is written (the store's ledger exists and is scanned)
mkdir st
expect_exit 0 "$MERX" run -e 'merx.emit("offer", {user = "u1", reason = "r"})' --store st --out o0
expect_exit 0 "$MERX" search --index items.npy --store st --k 2 "lantern for $EMAIL"
expect_contains out.txt "LANTERN"
MERX_STORE=st expect_exit 0 "$MERX" search --index items.npy --k 2 "lantern for $EMAIL"
scan st "lantern for"
[ "$(sqlite3 st/ledger.db "select count(*) from sqlite_master where name = 'queries'")" = 0 ]

# ---- configured, with a key: the CLI keeps each query redacted, the user as a pseudonym
printf 'test-key-0123456789abcdef\n' > st/store.key && chmod 600 st/store.key
printf 'store_queries = yes\nretain_days = 30\n' > st/store.conf
pz=$(python3 -c 'import hmac, hashlib; print(hmac.new(b"test-key-0123456789abcdef", b"cust-42", hashlib.sha256).hexdigest()[:32])')
expect_exit 0 "$MERX" search --index items.npy --store st --k 2 "lantern for $EMAIL" "call $PHONE about a cake stand"
[ "$(sqlite3 st/ledger.db "select source, role, text from queries order by id")" = \
  "$(printf 'search|query|lantern for [email]\nsearch|query|call [phone] about a cake stand')" ]
# a bad store policy fails before anything is searched
printf 'store_queries = maybe\n' > bad.conf && mkdir sb && cp bad.conf sb/store.conf
expect_exit 1 "$MERX" search --index items.npy --store sb "lantern"
expect_contains err.txt "store.conf:1"

# ---- merx serve: /v1/search and /v1/answer keep their texts off the request threads
. "$MERX_SRC/tests/net/serve_lib.sh"
python3 "$MERX_SRC/tests/net/fake_openai.py" --idle 60 > fake.port 2>/dev/null &
FAKE=$!
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; kill "$FAKE" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do [ -s fake.port ] && break; sleep 0.1; done
printf '{"base_url": "http://127.0.0.1:%s/cite/v1", "chat_model": "fake-chat", "key_env": "MERX_TEST_CHAT_KEY"}\n' \
  "$(head -1 fake.port)" > chat.json
export MERX_TEST_CHAT_KEY="sk-test-secret-0123456789"
cat > serve.lua <<'LUA'
return { store = "st", search = { index = "items.npy" }, answer = { llm = "chat.json" } }
LUA
start_server --config serve.lua
call POST /v1/search "{\"query\": \"lantern for $EMAIL\", \"user\": \"cust-42\", \"k\": 2}"
expect_status 200
call POST /v1/answer "{\"session\": \"s-1\", \"user\": \"cust-42\", \"question\": \"a lantern? ring $PHONE\"}"
expect_status 200
expect_contains body.txt "7946 0958"   # the reply echoes it; the store must not
call GET /metrics
expect_contains body.txt "merx_search_queries_kept_total 3"
stop_server   # flushes the queue
[ "$(sqlite3 st/ledger.db "select source, user = '$pz', coalesce(session, '-'), role,
  CASE role WHEN 'answer' THEN '' ELSE text END
  from queries where source like 'serve/%' order by id")" = \
  "$(printf 'serve/search|1|-|query|lantern for [email]\nserve/answer|1|s-1|question|a lantern? ring [phone]\nserve/answer|1|s-1|answer|')" ]
sqlite3 st/ledger.db "select text from queries where role = 'answer'" | grep -qF 'echo: a lantern? ring [phone]'
scan st

# ---- retention: exactly the expired rows go (30 days before --now; a row that old stays)
sqlite3 st/ledger.db "UPDATE queries SET at = '2026-01-30T03:14:59Z' WHERE source = 'search';
  UPDATE queries SET at = '2026-01-30T03:15:00Z' WHERE source = 'serve/search';
  UPDATE queries SET at = '2026-03-01T00:00:00Z' WHERE source = 'serve/answer'"
# as a scheduled job: the slot is the time ages are measured from
cat > sched.lua <<'LUA'
return { store = "st", outputs = "out", jobs = { { name = "retention", cron = "15 3 * * *", vacuum = true } } }
LUA
expect_exit 0 "$MERX" schedule sched.lua --once --now 2026-03-01T03:15:00Z
[ "$(sqlite3 st/ledger.db "select status from runs where job = 'retention'")" = success ]
[ "$(sqlite3 st/ledger.db "select source from queries order by id" | tr '\n' ' ')" = \
  "serve/search serve/answer serve/answer " ]
grep -q '"queries":2' out/.logs/retention/*.log
# a vacuum job with a script, or without a store folder, is refused
printf 'return { store = "x.db", jobs = { { name = "v", cron = "@daily", vacuum = true, script = "a.lua" } } }\n' > bad.lua
expect_exit 1 "$MERX" schedule bad.lua --next 1
expect_contains err.txt "field 'script'"
expect_contains err.txt "drop 'script'"

# ---- erasure: merx forget removes the person's queries and counts them on the receipt
expect_exit 0 "$MERX" forget --store st --user cust-42 --json
expect_contains out.txt '"queries":3'
[ "$(sqlite3 st/ledger.db "select count(*) from queries")" = 0 ]
grep -q '"queries":3' st/erasures/*.json
if LC_ALL=C grep -r -a -l -F -e "$pz" -e "cust-42" st; then echo "FAIL: erased person in the store"; exit 1; fi
