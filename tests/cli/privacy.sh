# Privacy (issue #19): a store key pseudonymises user ids at ingest, so a byte
# scan of every file in the store and the outputs finds no raw id; --reidentify
# gives activation files real ids back; explain takes the real id.
EX="$MERX_SRC/examples"
# every customer id of the example data (ids end in ".0": no hex pseudonym holds one)
python3 -c 'import csv,gzip,sys
print("\n".join(sorted({r["CustomerID"] for r in csv.DictReader(gzip.open(sys.argv[1], "rt")) if r["CustomerID"]})))' \
  "$EX/data/purchases.csv.gz" > ids.txt
[ "$(wc -l < ids.txt)" -gt 500 ]
# scan FILES...: no raw customer id in any byte of them (sqlite files, models, CSVs)
scan() {
  if LC_ALL=C grep -a -l -F -f ids.txt "$@" > found.txt; then
    echo "FAIL: raw customer ids in: $(tr '\n' ' ' < found.txt)" >&2
    LC_ALL=C grep -a -o -F -f ids.txt "$@" | head -3 >&2
    exit 1
  fi
}

# ---- the key: a private file (mode 0600) or MERX_STORE_KEY; a readable key file is refused
mkdir st
head -c 24 /dev/urandom | base64 > st/store.key
chmod 644 st/store.key
expect_exit 1 "$MERX" train --data "$EX/data/purchases.csv.gz" --store st --out m.mxm \
  --columns user=CustomerID,item=StockCode --algo ials --epochs 1 --factors 8
expect_contains err.txt "st/store.key"
expect_contains err.txt "chmod 600"
[ ! -e m.mxm ]
chmod 600 st/store.key

# ---- train: the model holds pseudonyms only
expect_exit 0 "$MERX" train --data "$EX/data/purchases.csv.gz" --store st --out m.mxm \
  --columns user=CustomerID,item=StockCode --algo ials --epochs 1 --factors 8 --json
expect_contains out.txt '"pseudonymised":true'
scan m.mxm
expect_exit 0 "$MERX" train --data "$EX/data/purchases.csv.gz" --out plain.mxm \
  --columns user=CustomerID,item=StockCode --algo ials --epochs 1 --factors 8
LC_ALL=C grep -a -q -F "$(head -1 ids.txt)" plain.mxm   # the scan can fail: ids are there without a key

# ---- run: ledger and outputs carry pseudonyms; the scan covers every file of both
expect_exit 0 "$MERX" run "$EX/spring_campaign.lua" --now 2011-12-10 --store st --out o1 \
  --set experiment=spring --set model="$PWD/m.mxm" --data "$PWD"
[ "$(tail -n +2 o1/offer.csv | wc -l)" -gt 20 ]
scan st/* o1/*
p=$(awk -F, 'NR == 2 { print $1; exit }' o1/offer.csv)
[[ "$p" =~ ^[0-9a-f]{32}$ ]] || { echo "FAIL: not a pseudonym: $p"; exit 1; }
# MERX_STORE_KEY is the key of a store without a key file: the same pseudonyms
mkdir st2
MERX_STORE_KEY="$(cat st/store.key)" expect_exit 0 "$MERX" train --data "$EX/data/purchases.csv.gz" \
  --store st2 --out m2.mxm --columns user=CustomerID,item=StockCode --algo ials --epochs 1 --factors 2
LC_ALL=C grep -a -q -F "$p" m2.mxm
# ---- --reidentify: the activation file gets real ids, the store keeps pseudonyms
expect_exit 0 "$MERX" run "$EX/spring_campaign.lua" --now 2011-12-11 --store st --out o2 \
  --set model="$PWD/m.mxm" --data "$PWD" --reidentify ids.txt
expect_contains err.txt "REAL ids"
[ "$(tail -n +2 o2/offer.csv | wc -l)" -gt 0 ]
comm -23 <(tail -n +2 o2/offer.csv | cut -d, -f1 | sort -u) ids.txt > notreal.txt
[ ! -s notreal.txt ] || { echo "FAIL: not re-identified: $(head -3 notreal.txt)"; exit 1; }
scan st/*
expect_exit 1 "$MERX" run "$EX/spring_campaign.lua" --out o3 --reidentify ids.txt
expect_contains err.txt "needs a store"
# the key is never printed, logged or written elsewhere: no file of the store
# (but the key file), no output and no captured stdout/stderr holds it
key=$(cat st/store.key)
LC_ALL=C grep -r -a -q -F "$key" st/store.key   # the scan can fail: the key is there
if LC_ALL=C grep -r -a -l -F --exclude=store.key "$key" st o1 o2 m.mxm m2.mxm out.txt err.txt; then
  echo "FAIL: the store key was written outside store.key"; exit 1
fi

# ---- explain: the real id is hashed to find the person
real=$(awk -F, 'NR == 2 { print $1; exit }' o2/offer.csv)
expect_exit 0 "$MERX" explain --store st --user "$real"
expect_contains out.txt "offer"
grep -q '[0-9a-f]\{32\}' out.txt
cp out.txt explain.txt
expect_exit 1 "$MERX" explain --store st --user no-such-customer
expect_contains err.txt "unknown pseudonym"

# ---- forget: the person leaves no byte in the store; models lose their row
mkdir -p st/models st/cache
cp m.mxm st/models/shop.mxm
cp plain.mxm st/models/old_plain.mxm       # a model trained before the key: raw ids
pz=$(grep -o '"user":"[0-9a-f]\{32\}' explain.txt | sed -n '1s/.*"//p')
[ -n "$pz" ]  # $real's pseudonym, from explain
printf 'entry for %s\n' "$pz" > st/cache/q1.emb
printf 'note about %s and %s\n' "$real" "$pz" > st/notes.log
sqlite3 st/ledger.db "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, job TEXT NOT NULL,
  scheduled INTEGER NOT NULL, scheduled_local TEXT NOT NULL, attempt INTEGER NOT NULL,
  status TEXT NOT NULL, started REAL, ended REAL, exit_code INTEGER, error TEXT NOT NULL DEFAULT '',
  output_dir TEXT NOT NULL DEFAULT '', outputs TEXT NOT NULL DEFAULT '[]');
  INSERT INTO runs(job, scheduled, scheduled_local, attempt, status, error)
  VALUES ('nightly', 0, '', 1, 'failed', 'script.lua:3: no offer for $pz');"
cp -r st st_template
"$MERX" model info --model st/models/shop.mxm > info0.txt
scan_person() { # no byte of $real or $pz in any file under $1
  if LC_ALL=C grep -r -a -l -F -e "$real" -e "$pz" "$1" > found.txt; then
    echo "FAIL: erased person still in: $(tr '\n' ' ' < found.txt)" >&2; exit 1
  fi
}
LC_ALL=C grep -r -a -q -F "$pz" st     # the scan can fail: the person is there before
expect_exit 0 "$MERX" forget --store st --user "$real" --json
expect_contains out.txt '"users":1'
expect_contains out.txt '"cache_entries":1'
expect_contains out.txt '"run_tails":1'
expect_contains out.txt '"retrain_due":["models/'
grep -q '"decisions":[1-9]' out.txt
grep -q '"model_factor_rows":2' out.txt
scan_person st
[ ! -e st/cache/q1.emb ] && grep -q 'note about \[erased\] and \[erased\]' st/notes.log
r=$(sed 's/.*"receipt":"\([^"]*\)".*/\1/' out.txt); [ -f "$r" ]
expect_exit 1 "$MERX" explain --store st --user "$real"
expect_exit 1 "$MERX" recommend --model st/models/shop.mxm --user "$pz" --out r.csv   # a new user now
expect_contains err.txt "unknown user"
expect_exit 0 "$MERX" recommend --model st/models/shop.mxm --all --out r.csv   # the rest still served
# idempotent: nothing more to remove, the models stay marked
expect_exit 0 "$MERX" forget --store st --user "$real" --json
expect_contains out.txt '"decisions":0'
expect_contains out.txt '"model_factor_rows":0'
expect_contains out.txt 'models/shop.mxm'
# --retrain: the marked models are retrained from what they keep, and unmarked
expect_exit 0 "$MERX" forget --store st --user "$real" --retrain --threads 1 --json
expect_contains out.txt '"retrain_due":[]'
expect_contains out.txt '"retrained":2'
[ ! -e st/retrain_due.txt ]
scan_person st

# ---- crash safety: SIGKILL at a random moment, then a rerun finishes the work
for i in 1 2 3; do
  rm -rf st && cp -r st_template st
  "$MERX" forget --store st --user "$real" > /dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v i="$i" 'BEGIN { srand(i); printf "%.3f", rand() * 0.08 }')"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # each place is before or after: the ledger opens, every model loads
  [ "$(sqlite3 st/ledger.db 'pragma integrity_check')" = ok ]
  "$MERX" model info --model st/models/shop.mxm > /dev/null
  "$MERX" model info --model st/models/old_plain.mxm > /dev/null
  expect_exit 0 "$MERX" forget --store st --user "$real"
  scan_person st
  grep -q 'models/shop.mxm' st/retrain_due.txt
done

# ---- retention: merx vacuum deletes exactly the expired rows and the file shrinks
expect_exit 0 "$MERX" run -e 'for i = 1, 3000 do merx.emit("offer", {user = "old" .. i, reason = string.rep("x", 200)}) end' \
  --store sv --out v1
expect_exit 0 "$MERX" run -e 'for i = 1, 500 do merx.emit("offer", {user = "new" .. i, reason = "r"}) end' \
  --store sv --out v2
# 60 days before 2026-03-02 is 2026-01-01T00:00:00Z: a row that old is kept, one second older goes
sqlite3 sv/ledger.db "UPDATE decisions SET committed_at = '2025-12-31T23:59:59Z' WHERE user LIKE 'old%';
  UPDATE decisions SET committed_at = '2026-01-01T00:00:00Z' WHERE user = 'new1'"
mkdir -p sv/cache && echo q > sv/cache/old.emb && echo q > sv/cache/new.emb
touch -d 2025-12-30 sv/cache/old.emb && touch -d 2026-03-05 sv/cache/new.emb
printf '# keep 60 days\nretain_days = 60\n' > sv/store.conf
expect_exit 0 "$MERX" vacuum --store sv --now 2026-03-02T00:00:00Z --json
expect_contains out.txt '"decisions":3000'
expect_contains out.txt '"cache_files":1'
[ "$(sqlite3 sv/ledger.db "select count(*) from decisions where user like 'old%'")" = 0 ]
[ "$(sqlite3 sv/ledger.db "select count(*) from decisions where user like 'new%'")" = 500 ]
[ ! -e sv/cache/old.emb ] && [ -e sv/cache/new.emb ]
before=$(sed 's/.*"bytes_before":\([0-9]*\).*/\1/' out.txt); after=$(sed 's/.*"bytes_after":\([0-9]*\).*/\1/' out.txt)
[ "$after" -lt "$((before / 2))" ] || { echo "FAIL: ledger $before -> $after bytes"; exit 1; }
! LC_ALL=C grep -a -q 'old17' sv/ledger.db*
# a second vacuum removes nothing more; a bad policy names file, line and setting
expect_exit 0 "$MERX" vacuum --store sv --now 2026-03-02T00:00:00Z --json
expect_contains out.txt '"decisions":0'
printf 'retain_days = 60\nretain_decision_days = 3\n' > sv/store.conf
expect_exit 1 "$MERX" vacuum --store sv
expect_contains err.txt "store.conf:2"
expect_contains err.txt "did you mean retain_decisions_days"

# ---- minimum data: a reason with an e-mail address or phone number is reported with its line
cat > pd.lua <<'LUA'
merx.emit("offer", {user = "a", reason = "score 0.6, budget left 396.00"})
merx.emit("offer", {user = "b", reason = "asked by jane@example.com"})
LUA
expect_exit 0 "$MERX" run pd.lua --out pd
expect_contains err.txt "pd.lua:2: warning: merx.emit: the reason holds an e-mail address"
[ "$(grep -c warning err.txt)" = 1 ]
