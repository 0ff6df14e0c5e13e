# Real user ids arriving at a keyed store (issue #19): a model trained with
# --store records that its user ids are pseudonyms (and of which key), so
# `merx recommend --user/--users`, Lua model calls in a keyed run and
# `merx serve` (/v1/recommend, /v1/decide) hash a real id instead of calling
# the person unknown (or answering the popular items without a word); without
# the key, or with another one, they refuse and say why. Nothing raw reaches
# the store. Small generated data: a few seconds.
"$MERX" serve --help >/dev/null 2>&1 || { echo "merx serve not built"; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed"; exit 77; }
awk 'BEGIN { srand(3); print "user,item"; for (u = 0; u < 60; u++) for (j = 0; j < 6; j++)
  printf "c%d.0,i%d\n", u, int(rand() * 40) }' > data.csv
mkdir st other
(umask 077; head -c 24 /dev/urandom | base64 > st/store.key; head -c 24 /dev/urandom | base64 > other/store.key)
expect_exit 0 "$MERX" train --data data.csv --columns user=user,item=item --algo ials --factors 4 \
  --epochs 2 --threads 1 --store st --out m.mxm
expect_exit 0 "$MERX" model info --model m.mxm --json
expect_contains out.txt '"pseudonymous":true'

# ---- recommend: the real id is hashed with the store key; its pseudonym works as given
expect_exit 0 "$MERX" recommend --model m.mxm --user c7.0 --k 3 --store st --out r_real.csv
[ "$(tail -n +2 r_real.csv | wc -l)" -eq 3 ]
p=$(cut -d, -f1 r_real.csv | sed -n 2p)
[[ "$p" =~ ^[0-9a-f]{32}$ ]] || { echo "FAIL: output user is not a pseudonym: $p"; exit 1; }
expect_exit 0 "$MERX" recommend --model m.mxm --user "$p" --k 3 --out r_pseud.csv   # no key needed
cmp r_real.csv r_pseud.csv
MERX_STORE=st expect_exit 0 "$MERX" recommend --model m.mxm --user c7.0 --k 3 --out r_env.csv
cmp r_real.csv r_env.csv
printf 'customer\nc7.0\nc8.0\n' > users.txt
expect_exit 0 "$MERX" recommend --model m.mxm --users users.txt --k 3 --store st --out r_list.csv
[ "$(tail -n +2 r_list.csv | wc -l)" -eq 6 ]
# no key: a clear refusal naming the model, not "unknown user"
expect_exit 1 "$MERX" recommend --model m.mxm --user c7.0 --out r_nokey.csv
expect_contains err.txt "m.mxm"
expect_contains err.txt "pseudonyms"
expect_contains err.txt "--store"
# another store's key: refused too
expect_exit 1 "$MERX" recommend --model m.mxm --user c7.0 --store other --out r_other.csv
expect_contains err.txt "another store key"
[ ! -e r_nokey.csv ] && [ ! -e r_other.csv ]
# eval: the test file's real ids are hashed too (none unknown); without the key, refused
awk 'BEGIN { srand(9); print "user,item"; for (u = 0; u < 60; u += 3) printf "c%d.0,i%d\n", u, int(rand() * 40) }' > test.csv
expect_exit 0 "$MERX" eval --model m.mxm --test test.csv --columns user=user,item=item --store st --json
expect_contains out.txt '"unknown":0'
expect_exit 1 "$MERX" eval --model m.mxm --test test.csv --columns user=user,item=item
expect_contains err.txt "pseudonyms"
# a model without pseudonyms is as before: real ids as given, no key needed
expect_exit 0 "$MERX" train --data data.csv --columns user=user,item=item --algo ials --factors 4 \
  --epochs 2 --threads 1 --out plain.mxm
expect_exit 0 "$MERX" recommend --model plain.mxm --user c7.0 --k 3 --store st --out r_plain.csv
expect_contains r_plain.csv "c7.0,1,"

# ---- Lua, in a keyed run: a real id (here a literal of the script; the
# ledger records --set parameters as given) finds the person, and merx.emit
# stores its pseudonym
cat > recs.lua <<'LUA'
local m = merx.model.load(merx.params.model)
assert(m:info().pseudonymous)
local items = m:recommend({ "c7.0" }, 3)
assert(#items[1] == 3, "the real id was not found: " .. #items[1])
assert(m:knows({ "c7.0" })[1])
merx.emit("offer", { user = "c7.0", offer = items[1][1], reason = "top item" })
LUA
expect_exit 0 "$MERX" run recs.lua --store st --out o1 --set model="$PWD/m.mxm" --data "$PWD"
expect_contains o1/offer.csv "$p,"
# without a key, a real id is refused rather than silently unknown
expect_exit 1 "$MERX" run recs.lua --out o2 --set model="$PWD/m.mxm" --data "$PWD"
expect_contains err.txt "pseudonyms"
# with another key, the model is refused at load
expect_exit 1 "$MERX" run recs.lua --store other --out o3 --set model="$PWD/m.mxm" --data "$PWD"
expect_contains err.txt "another store key"

# ---- merx serve with the store: /v1/recommend and /v1/decide take real ids
. "$MERX_SRC/tests/net/serve_lib.sh"
cat > rules.lua <<'LUA'
local m = merx.model.load(merx.params and merx.params.model or "m.mxm")
local M = {}
function M.decide(a)
  local items = m:recommend({ a.user }, 1)
  if #items[1] == 0 then return { known = false } end
  merx.emit("offer", { user = a.user, offer = items[1][1], reason = "top item" })
  return { known = true }
end
return M
LUA
cat > serve.lua <<'LUA'
return { model = "m.mxm", store = "st", decide = { script = "rules.lua", default_function = "decide" },
         recommend = { unknown_user = "error" } }
LUA
start_server --config serve.lua
call POST /v1/recommend '{"user": "c7.0", "k": 3}'
expect_status 200
expect_contains body.txt '"user":"c7.0"'
expect_contains body.txt '"source":"model"'
python3 - "$PWD/body.txt" "$PWD/r_real.csv" <<'PY'
import csv, json, sys
got = [x["item"] for x in json.load(open(sys.argv[1]))["items"]]
want = [r["item"] for r in csv.DictReader(open(sys.argv[2]))]
assert got == want, (got, want)
PY
call POST /v1/decide '{"args": {"user": "c7.0"}}'
expect_status 200
expect_contains body.txt '"known":true'
expect_contains body.txt "$p"
# a pseudonym sent as args.user (an export's id) is taken as one, not hashed again
call POST /v1/decide "{\"args\": {\"user\": \"$p\"}}"
expect_status 200
expect_contains body.txt '"known":true'
stop_server
# the ledger holds the pseudonym, never the real id
[ "$(sqlite3 st/ledger.db "select count(*) from decisions where user = '$p'")" -ge 2 ]
if LC_ALL=C grep -a -r -l -F "c7.0" st; then echo "FAIL: a raw id in the store"; exit 1; fi
# a model of pseudonyms without its key: the server does not start
cat > nokey.lua <<'LUA'
return { model = "m.mxm", store = "other" }
LUA
expect_exit 1 "$MERX" serve --config nokey.lua --listen 127.0.0.1:0
expect_contains err.txt "another store key"
