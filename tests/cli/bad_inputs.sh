# Bad input is a clear error, never a hang, a NaN or a wrong answer (issue #14):
# every case exits 1 (2 for usage) with one line naming the file and the cause.
P="$MERX_SRC/examples/data/purchases.csv.gz"
COLS="user=CustomerID,item=StockCode"
expect_exit 0 "$MERX" train --data "$P" --columns "$COLS" --algo ials --factors 4 --epochs 1 --out m.mxm

# ---- #14.17 a FIFO as the model blocks nobody; a directory is named as one (#14.21)
mkfifo fifo.mxm
expect_exit 1 timeout 20 "$MERX" model info --model fifo.mxm
expect_contains err.txt "fifo.mxm"; expect_contains err.txt "not a regular file"
expect_exit 1 timeout 20 "$MERX" run -e 'merx.model.load("fifo.mxm")'
expect_contains err.txt "fifo.mxm"; expect_contains err.txt "not a regular file"
mkdir dir.mxm
expect_exit 1 timeout 20 "$MERX" model info --model dir.mxm
expect_contains err.txt "dir.mxm: "; expect_contains err.txt "is a directory"

# ---- #14.18 / #14.20 hostile ids and reasons: JSON stays valid UTF-8 (invalid bytes become
# U+FFFD), explain prints no terminal control sequence, and decision CSVs neutralise
# spreadsheet formulas with a leading ' (but leave numbers, even negative ones, alone)
cat > evil.lua <<'LUA'
merx.emit("offer", { user = "u\xff1", offer = '=HYPERLINK("http://x","click")', amount = -5,
  neg = "-5", plus = "+1+2", at = "@SUM(A1)", tab = "\tx", cr = "\rx", dash = "-x", ok = "a=b",
  reason = "low score\27[2K\r\27[32mapproved by manager\27[0m \xe9t\xe9" })
LUA
expect_exit 0 "$MERX" run evil.lua --out out --format both
iconv -f UTF-8 -t UTF-8 out/offer.jsonl >/dev/null || { echo "FAIL: offer.jsonl is not UTF-8"; exit 1; }
expect_contains out/offer.jsonl $'"user":"u\xef\xbf\xbd1"'
expect_contains out/offer.jsonl $'\\u001b[2K\\r'
# columns: user,amount,at,cr,dash,neg,offer,ok,plus,tab,reason
expect_contains out/offer.csv $',-5,\'@SUM(A1),"\'\rx",\'-x,-5,"\'=HYPERLINK(""http://x"",""click"")",a=b,\'+1+2,\'\tx,'
expect_exit 0 "$MERX" explain --log out/decisions.db --user $'u\xff1' --json
iconv -f UTF-8 -t UTF-8 out.txt >/dev/null || { echo "FAIL: explain --json is not UTF-8"; exit 1; }
expect_contains out.txt $'approved by manager\\u001b[0m \xef\xbf\xbdt\xef\xbf\xbd'
expect_exit 0 "$MERX" explain --log out/decisions.db --user $'u\xff1'
if grep -q $'\x1b' out.txt || grep -q $'\r' out.txt; then
  echo "FAIL: explain printed a control character"; cat -v out.txt; exit 1
fi
expect_contains out.txt 'low score\x1b[2K\r\x1b[32mapproved by manager'

# ---- #14.16 one mistyped date makes no series millions of periods long: the row is named
D="$MERX_SRC/examples/data/daily_sales.csv"
FC=(forecast --format long --columns id=StockCode,time=date,value=quantity --horizon 4 --out fc.csv)
{ head -8 "$D"; echo "15036,9999-12-31,5"; sed -n 9,200p "$D"; } > late.csv
expect_exit 1 timeout 60 "$MERX" "${FC[@]}" --data late.csv
expect_contains err.txt "late.csv:9:2: field 'date': "; expect_contains err.txt "100000 periods"
{ head -150 "$D"; echo "15036,-86400000000,5"; } > early.csv   # a negative epoch: year -768
expect_exit 1 timeout 60 "$MERX" "${FC[@]}" --data early.csv --freq week
expect_contains err.txt "early.csv:151:2: field 'date': "
# weekly, the same series spans 2 centuries: still fine
{ head -150 "$D"; echo "15036,1900-01-01,5"; } > old.csv
expect_exit 0 timeout 60 "$MERX" "${FC[@]}" --data old.csv --freq week
{ head -3 "$D"; echo "15036,2011-02-01T10:00:00+15:00,5"; } > tz.csv
expect_exit 1 "$MERX" "${FC[@]}" --data tz.csv
expect_contains err.txt "tz.csv:4:2: field 'date': "

# ---- #14.19 finite doubles that are absurd: each refused naming the field
printf 'u,i,r\na,x,1e39\na,y,3\nb,x,4\n' > big.csv      # a double, but inf as a float
expect_exit 1 "$MERX" train --data big.csv --columns user=u,item=i,value=r --algo mf --out big.mxm
expect_contains err.txt "big.csv:2:3: field 'r': 1e39 is beyond"
{ head -40 "$D"; echo "15036,2011-06-01,1e160"; } > huge.csv
expect_exit 1 "$MERX" "${FC[@]}" --data huge.csv
expect_contains err.txt "huge.csv:41:3: field 'quantity': 1e160 is beyond"
printf 'A,1,2,3,4,5,6,1e300,8\n' > wide.csv
expect_exit 1 "$MERX" forecast --data wide.csv --format wide --horizon 2 --out fc.csv
expect_contains err.txt "wide.csv:1:8: field 'value': 1e300 is beyond"
printf 'id,h,forecast,lo95,hi95,method\nA,1,10,4,16,ses\nA,2,10,4,16,ses\n' > pfc.csv
printf 'id,on_hand,lead_time,moq\nA,1,1,1e300\n' > moq.csv
expect_exit 1 "$MERX" plan --stock moq.csv --forecast pfc.csv --out orders.csv
expect_contains err.txt "moq.csv:2:4: field 'moq': "
printf 'id,on_hand,lead_time\nA,1,1e9\n' > lt.csv
expect_exit 1 "$MERX" plan --stock lt.csv --forecast pfc.csv --out orders.csv
expect_contains err.txt "lt.csv:2:3: field 'lead_time': "
[ ! -e orders.csv ] || { echo "FAIL: orders.csv written"; exit 1; }
expect_exit 0 "$MERX" model export --model m.mxm --out exp
# item_factors.npy with its first float32 set to NaN (v1 header: length at byte 8)
hl=$(od -An -tu2 -j8 -N2 exp/item_factors.npy | tr -d ' ')
printf '\x00\x00\xc0\x7f' | dd of=exp/item_factors.npy bs=1 seek=$((10 + hl)) conv=notrunc 2>/dev/null
IMP=(model import --user-factors exp/user_factors.npy --item-factors exp/item_factors.npy
     --user-ids exp/user_ids.txt --item-ids exp/item_ids.txt --out imp.mxm)
expect_exit 1 "$MERX" "${IMP[@]}"
expect_contains err.txt "item_factors.npy"; expect_contains err.txt "not a finite number"

# ---- #14.3 an embedding index is one unit: vectors, ids, texts and metadata
PR="$MERX_SRC/examples/data/products.csv"
EC=(--columns id=StockCode,text=Description)
sed '2,$s/^/B/' "$PR" > productsB.csv     # the same texts under other ids
expect_exit 0 "$MERX" embed --data "$PR" "${EC[@]}" --out a.npy
expect_exit 0 "$MERX" embed --data productsB.csv "${EC[@]}" --out b.npy
expect_exit 0 "$MERX" search --index a.npy "white metal lantern" --k 3
cp out.txt a_hits.txt
expect_contains a_hits.txt ",1,71053,"
# a failure between the writes (the .npy hits a 1 MB file-size limit, the small files do
# not): nothing is published and the old index answers as before
expect_exit 1 bash -c 'ulimit -f 1024 && exec "$0" "$@"' "$MERX" embed --data productsB.csv "${EC[@]}" --out a.npy
expect_contains err.txt "a.npy"; expect_contains err.txt "File too large"
expect_exit 0 "$MERX" search --index a.npy "white metal lantern" --k 3
cmp out.txt a_hits.txt
ls -A | grep -q '\.tmp\.' && { echo "FAIL: temporary left behind"; ls -A; exit 1; }
# ids (or texts) of another run beside the vectors: refused, never wrong items
cp b.ids a.ids
expect_exit 1 "$MERX" search --index a.npy "white metal lantern" --k 3
expect_contains err.txt "a.npy: "; expect_contains err.txt "not from the same"
expect_exit 1 "$MERX" coldstart map --model m.mxm --embeddings a.npy --out cs.mxm
expect_contains err.txt "not from the same"

# ---- #14.21 errors name the file and the cause: a corrupt .gz, a full disk
cp "$P" bad.csv.gz
printf 'garbage-garbage-garbage-garbage-garbage' | dd of=bad.csv.gz bs=1 seek=20 conv=notrunc 2>/dev/null
expect_exit 1 "$MERX" data stats --data bad.csv.gz --columns "$COLS"
expect_contains err.txt "bad.csv.gz:"; expect_contains err.txt "corrupt compressed"
if grep -q '<fd:' err.txt; then echo "FAIL: zlib's <fd:N> instead of the file"; cat err.txt; exit 1; fi
# a full disk (a 1 MB tmpfs in a private mount namespace, where this machine allows one):
# the .npy write names its file and the cause, and nothing of the index is published
mkdir small
if unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs "$0"' small 2>/dev/null; then
  expect_exit 1 unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs small && exec "$0" "$@"' \
    "$MERX" embed --data "$PR" "${EC[@]}" --out small/e.npy
  expect_contains err.txt "small/e.npy: "; expect_contains err.txt "No space left on device"
else
  echo "note: no private tmpfs here; the full-disk case is covered by the file-size limit above" >&2
fi
expect_exit 1 "$MERX" model import --user-factors bad.csv.gz --item-factors bad.csv.gz \
  --user-ids exp/user_ids.txt --item-ids exp/item_ids.txt --out imp.mxm
expect_contains err.txt "bad.csv.gz: corrupt compressed file ("
