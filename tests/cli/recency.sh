# Recency (issue 21): --half-life, --now and --recent-popular on the example
# purchases (a time split at 2011-10-01), results fixed by --now, and bad
# dates named by file, line and field. Small models: about a CPU-second.
P="$MERX_SRC/examples/data/purchases.csv.gz"
COLS="user=CustomerID,item=StockCode,time=InvoiceDate"
SMALL="--factors 16 --epochs 3 --threads 1"
# under ASan (a Debug build, many times slower) a third of the rows
case "$(ldd "$MERX" 2>/dev/null || true)" in
  *libasan*) zcat "$P" | awk 'NR == 1 || NR % 3 == 0' > part.csv; P=part.csv ;;
esac
expect_exit 0 "$MERX" split --data "$P" --columns "$COLS" --cut 2011-10-01 --train train.csv --test test.csv

ndcg() { sed 's/.*"ndcg@10":\([0-9.e+-]*\).*/\1/' out.txt; }
# each recency-aware model trains, evaluates, and ranks better than chance
for args in "--algo ials --half-life 30" "--algo bpr --half-life 30" "--algo ease --half-life 30" \
            "--algo ials --half-life 60 --recent-popular 30 --recent-popular-users 2"; do
  expect_exit 0 "$MERX" train --data train.csv --columns "$COLS" $SMALL $args --out m.mxm --json
  expect_exit 0 "$MERX" eval --model m.mxm --test test.csv --columns "$COLS" --json
  awk -v n="$(ndcg)" 'BEGIN { exit !(n > 0.02) }' || { echo "FAIL: $args: ndcg@10 $(ndcg)"; cat out.txt; exit 1; }
done
# the blend is one more factor
expect_exit 0 "$MERX" train --data train.csv --columns "$COLS" $SMALL --recent-popular 30 --out m.mxm --json
expect_contains out.txt '"factors":17'
expect_contains out.txt '"recent_popular_days":30,"recent_popular_users":5,"now":"2011-09-'

# --now fixes the result: the same model byte for byte whatever the data's
# newest event, and a different one for another --now
expect_exit 0 "$MERX" train --data train.csv --columns "$COLS" $SMALL --half-life 30 --now 2011-10-01 --out a.mxm
expect_exit 0 "$MERX" train --data train.csv --columns "$COLS" $SMALL --half-life 30 --now 2011-10-01T00:00:00Z --out b.mxm
cmp a.mxm b.mxm || { echo "FAIL: same --now, different models"; exit 1; }
expect_exit 0 "$MERX" train --data train.csv --columns "$COLS" $SMALL --half-life 30 --now 2011-11-01 --out c.mxm
if cmp -s a.mxm c.mxm; then echo "FAIL: --now changed nothing"; exit 1; fi
# without --now ages count from the newest event: same as --now at that event
expect_exit 0 "$MERX" data stats --data train.csv --columns "$COLS" --json
newest=$(sed 's/.*"time_max":"\([^"]*\)".*/\1/' out.txt)
expect_exit 0 "$MERX" train --data train.csv --columns "$COLS" $SMALL --half-life 30 --out d.mxm
expect_exit 0 "$MERX" train --data train.csv --columns "$COLS" $SMALL --half-life 30 --now "$newest" --out e.mxm
cmp d.mxm e.mxm || { echo "FAIL: default now is not the newest event ($newest)"; exit 1; }

# bad input: a date that does not parse names file, line and field; nothing written
{ echo "user,item,when"; echo "u1,a,2011-01-02"; echo "u2,b,2011-02-30"; } > bad.csv
expect_exit 1 "$MERX" train --data bad.csv --columns user=user,item=item,time=when --half-life 7 --out bad.mxm
expect_contains err.txt "bad.csv:3:3: field 'when': not a timestamp"
test ! -e bad.mxm
expect_exit 2 "$MERX" train --data train.csv --columns "$COLS" --half-life 7 --now yesterday --out bad.mxm
expect_contains err.txt "--now: not a timestamp"
expect_exit 2 "$MERX" train --data train.csv --columns "$COLS" --half-life 0 --out bad.mxm
expect_contains err.txt "--half-life"
expect_exit 2 "$MERX" train --data train.csv --columns "$COLS" --now 2011-10-01 --out bad.mxm
expect_contains err.txt "--now and --recent-popular-users go with --half-life or --recent-popular"
# no time column, or an algorithm without recency
expect_exit 1 "$MERX" train --data train.csv --columns user=CustomerID,item=StockCode --half-life 7 --out bad.mxm
expect_contains err.txt "--half-life needs event times: select a time column"
expect_exit 1 "$MERX" train --data train.csv --columns "$COLS" --algo ease --recent-popular 30 --out bad.mxm
expect_contains err.txt "--recent-popular works with the factor models ials and bpr"
test ! -e bad.mxm

# Lua: the same options train the model the CLI trains (same rows, seed, thread)
{ echo "user,item,time"; for u in 1 2 3 4 5 6; do for i in 1 2 3 4 5 6 7 8; do
    [ $(( (u * 3 + i * 5) % 4 )) -ne 0 ] && echo "u$u,i$(( (u + i) % 10 )),2011-0$(( (u + i) % 9 + 1 ))-1${i}"
  done; done; } > small.csv
expect_exit 0 "$MERX" train --data small.csv --columns user=user,item=item,time=time $SMALL --half-life 20 --now 2011-10-01 --recent-popular 30 --out cli.mxm
cat > rec.lua <<'LUA'
local t = merx.data.read("small.csv")
local m = merx.model.train(t, { factors = 16, epochs = 3, threads = 1, half_life = 20,
                                now = "2011-10-01", recent_popular = 30 })
local c = merx.model.load("cli.mxm")
local users, items = {}, {}
for i = 1, 6 do users[i] = "u" .. i end
for i = 0, 9 do items[#items + 1] = "i" .. i end
local x, y = m:score(users, items), c:score(users, items)
for r = 1, #users do for k = 1, #items do
  assert(math.abs(x:get(r, k) - y:get(r, k)) < 1e-5, "Lua and CLI models differ")
end end
local ok, err = pcall(merx.model.train, t, { half_life = 7, now = "soon" })
assert(not ok and err:find("option 'now': not a timestamp", 1, true), err)
print("ok")
LUA
expect_exit 0 "$MERX" run rec.lua
expect_contains out.txt "ok"

# --tune keeps the times: the half-life applies on the validation slice too
expect_exit 0 "$MERX" train --data train.csv --columns "$COLS" $SMALL --half-life 20 --tune --out tuned.mxm --json
expect_contains out.txt '"tuned"'
