# merx recommend / similar / score on a model trained from the example
# purchases (Online Retail subset): contract columns, exclusion of training
# items, candidates, unknown ids, K beyond the catalogue, explanations,
# determinism across thread counts, and agreement between the commands.
DATA="$MERX_SRC/examples/data/purchases.csv.gz"
COLS="user=CustomerID,item=StockCode"
$MERX train --data "$DATA" --columns "$COLS" --algo ials --factors 8 --epochs 3 --seed 1 \
  --out ials.mxm >/dev/null 2>&1

# ---- --all: contract header, K rows per user, no training item recommended
expect_exit 0 $MERX recommend --model ials.mxm --all --k 5 --out all.csv --json
expect_contains out.txt '"rows":'
expect_contains out.txt '"unknown_users":0'
[ "$(head -1 all.csv)" = "user,rank,item,score" ] || { echo "bad header"; exit 1; }
users=$(tail -n +2 all.csv | cut -d, -f1 | sort -u | wc -l)
rows=$(tail -n +2 all.csv | wc -l)
[ "$rows" -eq $((users * 5)) ] || { echo "rows $rows != 5 x $users"; exit 1; }
# training pairs (user,item) vs recommended pairs: no overlap
zcat "$DATA" | python3 -c '
import csv, sys
seen = {(r["CustomerID"], r["StockCode"]) for r in csv.DictReader(sys.stdin) if r["CustomerID"] and r["StockCode"]}
recs = list(csv.DictReader(open("all.csv")))
bad = [r for r in recs if (r["user"], r["item"]) in seen]
assert not bad, "recommended a training item: %r" % bad[:3]
# ranks 1..5 per user, scores non-increasing
by = {}
for r in recs: by.setdefault(r["user"], []).append(r)
for u, rs in by.items():
    assert [int(r["rank"]) for r in rs] == [1, 2, 3, 4, 5], u
    s = [float(r["score"]) for r in rs]
    assert s == sorted(s, reverse=True), (u, s)
'

# ---- same output for 1 and 2 threads
expect_exit 0 $MERX recommend --model ials.mxm --all --k 5 --threads 1 --out t1.csv
expect_exit 0 $MERX recommend --model ials.mxm --all --k 5 --threads 2 --out t2.csv
cmp t1.csv t2.csv

# ---- --include-seen brings training items back for someone
expect_exit 0 $MERX recommend --model ials.mxm --all --k 5 --include-seen --out seen.csv
if cmp -s all.csv seen.csv; then echo "--include-seen changed nothing"; exit 1; fi

# ---- one user; unknown user
u=$(sed -n 2p all.csv | cut -d, -f1)
expect_exit 0 $MERX recommend --model ials.mxm --user "$u" --out one.csv
[ "$(sed -n 2,6p one.csv)" = "$(grep "^$u," all.csv)" ] || { echo "--user differs from --all"; exit 1; }
expect_exit 1 $MERX recommend --model ials.mxm --user nobody --out x.csv
expect_contains err.txt "unknown user 'nobody'"
[ ! -e x.csv ] || { echo "output written on failure"; exit 1; }
expect_exit 0 $MERX recommend --model ials.mxm --user nobody --skip-unknown --out x.csv --json
expect_contains out.txt '"unknown_users":1'
[ "$(wc -l < x.csv)" -eq 1 ] || { echo "expected a header-only file"; exit 1; }

# ---- --users file with a header line and an unknown id at line 3
printf 'CustomerID\n%s\nghost\n' "$u" > users.csv
expect_exit 1 $MERX recommend --model ials.mxm --users users.csv --out x.csv
expect_contains err.txt "users.csv:3:1: unknown user 'ghost'"
expect_exit 0 $MERX recommend --model ials.mxm --users users.csv --skip-unknown --k 3 --out u.csv --json
expect_contains out.txt '"unknown_users":1'
[ "$(tail -n +2 u.csv | wc -l)" -eq 3 ] || { echo "expected 3 rows"; exit 1; }

# ---- K larger than the catalogue: warned, capped by the eligible items
items=$(sed 1d all.csv | cut -d, -f3 | sort -u | sed -n 1,4p)
printf 'StockCode\n%s\nNOT-AN-ITEM\n' "$items" > cand.csv
expect_exit 0 $MERX recommend --model ials.mxm --all --k 50 --candidates cand.csv --out c.csv --json
expect_contains err.txt "1 of 5 candidate ids are not items of the model (first: 'NOT-AN-ITEM' at line 6)"
expect_contains err.txt "larger than the 4 eligible items"
expect_contains out.txt '"unknown_candidates":1'
tail -n +2 c.csv | cut -d, -f3 | sort -u > got_items.txt
printf '%s\n' $items | sort -u > want_items.txt
comm -23 got_items.txt want_items.txt | grep -q . && { echo "item outside the candidates"; exit 1; }
awk -F, 'NR>1 && $2>4 {exit 1}' c.csv || { echo "more than 4 per user"; exit 1; }

# ---- empty and all-unknown candidate sets are errors
printf 'StockCode\n' > empty.csv
expect_exit 1 $MERX recommend --model ials.mxm --all --candidates empty.csv --out x.csv
expect_contains err.txt "empty"
printf 'nope1\nnope2\n' > unknown.csv
expect_exit 1 $MERX recommend --model ials.mxm --all --candidates unknown.csv --out x.csv
expect_contains err.txt "is an item of the model"

# ---- explanations: the listed items are the user's training items
expect_exit 0 $MERX recommend --model ials.mxm --user "$u" --explain --explain-top 2 --out ex.csv
[ "$(head -1 ex.csv)" = "user,rank,item,score,explanation" ] || { echo "no explanation column"; exit 1; }
zcat "$DATA" | python3 -c '
import csv, sys
u = sys.argv[1]
mine = {r["StockCode"] for r in csv.DictReader(sys.stdin) if r["CustomerID"] == u}
for r in csv.DictReader(open("ex.csv")):
    parts = r["explanation"].split(";")
    assert 1 <= len(parts) <= 2, r
    for p in parts:
        item, w = p.rsplit(":", 1)
        assert item in mine, (item, u)
        float(w)
' "$u"

# ---- merx score agrees with the recommended scores
(echo "user,item"; sed -n 2,51p all.csv | cut -d, -f1,3) > pairs.csv
expect_exit 0 $MERX score --model ials.mxm --pairs pairs.csv --out s.csv
paste -d, <(sed -n 2,51p all.csv | cut -d, -f4) <(tail -n +2 s.csv | cut -d, -f3) |
  awk -F, '{d=$1-$2; if (d<0) d=-d; if (d > 1e-4 * (1 + ($1<0?-$1:$1))) {print "score mismatch " $0; exit 1}}'
printf 'user,item\n%s,NOPE\n' "$u" > badpairs.csv
expect_exit 1 $MERX score --model ials.mxm --pairs badpairs.csv --out x.csv
expect_contains err.txt "badpairs.csv:2:2: field 'item': unknown item 'NOPE'"
expect_exit 0 $MERX score --model ials.mxm --pairs badpairs.csv --skip-unknown --out x.csv --json
expect_contains out.txt '"unknown":1'

# ---- similar items and users
it=$(sed -n 2p all.csv | cut -d, -f3)
expect_exit 0 $MERX similar --model ials.mxm --item "$it" --k 5 --out sim.csv
[ "$(head -1 sim.csv)" = "item,rank,similar_item,score" ] || { echo "bad similar header"; exit 1; }
[ "$(tail -n +2 sim.csv | wc -l)" -eq 5 ] || { echo "expected 5 similar items"; exit 1; }
tail -n +2 sim.csv | cut -d, -f3 | grep -qx -- "$it" && { echo "item similar to itself"; exit 1; }
awk -F, 'NR>1 && ($4 > 1.0001 || $4 < -1.0001) {exit 1}' sim.csv || { echo "cosine out of range"; exit 1; }
expect_exit 0 $MERX similar --model ials.mxm --user "$u" --k 3 --metric dot --out simu.csv
[ "$(head -1 simu.csv)" = "user,rank,similar_user,score" ] || { echo "bad similar users header"; exit 1; }
expect_exit 2 $MERX similar --model ials.mxm --item "$it" --metric euclid --out x.csv
expect_exit 1 $MERX similar --model ials.mxm --item NOPE --out x.csv
expect_contains err.txt "unknown item 'NOPE'"

# ---- EASE and an explicit model go through the same commands
$MERX train --data "$DATA" --columns "$COLS" --algo ease --out ease.mxm >/dev/null 2>&1
expect_exit 0 $MERX recommend --model ease.mxm --all --k 3 --explain --out e.csv
[ "$(tail -n +2 e.csv | wc -l)" -ge 3 ] || { echo "no EASE recommendations"; exit 1; }
expect_exit 0 $MERX similar --model ease.mxm --item "$it" --k 3 --out es.csv --json
expect_contains out.txt '"metric":"ease"'
$MERX train --data "$DATA" --columns "$COLS,value=Quantity" --algo als --factors 8 --epochs 3 \
  --out als.mxm >/dev/null 2>&1
expect_exit 0 $MERX recommend --model als.mxm --user "$u" --k 4 --explain --out als.csv
[ "$(tail -n +2 als.csv | wc -l)" -eq 4 ] || { echo "no ALS recommendations"; exit 1; }

# ---- usage errors exit 2; a missing model exits 1
expect_exit 2 $MERX recommend --model ials.mxm --out x.csv
expect_exit 2 $MERX recommend --model ials.mxm --all --user "$u" --out x.csv
expect_exit 2 $MERX recommend --model ials.mxm --all --k 0 --out x.csv
expect_exit 2 $MERX recommend --model ials.mxm --all
expect_exit 1 $MERX recommend --model missing.mxm --all --out x.csv
expect_contains err.txt "missing.mxm"
expect_exit 0 $MERX recommend --help
expect_contains out.txt "user,rank,item,score"
