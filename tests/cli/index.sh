# merx index build / info and the nearest-neighbour paths of merx similar and
# merx search: the index beside the model is found and said so, --exact and
# --ann choose, results agree with the exact scan, builds are the same bytes
# for 1 and 2 threads, and stale, truncated, foreign or wrong-metric indexes
# are refused (explicit --ann) or skipped with a warning (found beside).
DATA="$MERX_SRC/examples/data/purchases.csv.gz"
P="$MERX_SRC/examples/data/products.csv"
COLS="user=CustomerID,item=StockCode"
$MERX train --data "$DATA" --columns "$COLS" --algo ials --factors 16 --epochs 3 --seed 1 \
  --out m.mxm >/dev/null 2>&1

# ---- build beside the model; same bytes for any thread count
expect_exit 0 $MERX index build --model m.mxm --threads 1 --json
expect_contains out.txt '"index":"m.mxm.hnsw"'
expect_contains out.txt '"source":"m.mxm (items)"'
expect_contains out.txt '"metric":"cosine"'
expect_contains out.txt '"vectors":3314'
expect_contains out.txt '"dim":16'
expect_contains out.txt '"M":16'
expect_exit 0 $MERX index build --model m.mxm --threads 2 --out t2.hnsw
cmp m.mxm.hnsw t2.hnsw
expect_exit 0 $MERX index build --model m.mxm --seed 2 --out s2.hnsw
if cmp -s m.mxm.hnsw s2.hnsw; then echo "another seed gave the same index"; exit 1; fi
expect_exit 0 $MERX index info m.mxm.hnsw --model m.mxm --json
expect_contains out.txt '"current":true'
expect_contains out.txt '"fingerprint":"'

# ---- similar: the index beside the model is used and named; --exact scans
expect_exit 0 $MERX similar --model m.mxm --all --k 10 --ef 200 --out ann.csv --json
expect_contains out.txt '"search":"hnsw"'
expect_contains out.txt '"index":"m.mxm.hnsw"'
expect_exit 0 $MERX similar --model m.mxm --all --k 10 --exact --out exact.csv --json
expect_contains out.txt '"search":"exact"'
expect_contains out.txt '"index":null'
[ "$(head -1 ann.csv)" = "item,rank,similar_item,score" ] || { echo "bad header"; exit 1; }
[ "$(wc -l < ann.csv)" -eq "$(wc -l < exact.csv)" ] || { echo "row counts differ"; exit 1; }
python3 - <<'EOF'
import csv
from collections import defaultdict
def load(p):
    d = defaultdict(list)
    for r in csv.DictReader(open(p)):
        d[r["item"]].append((int(r["rank"]), r["similar_item"], float(r["score"])))
    return d
a, e = load("ann.csv"), load("exact.csv")
hit = sum(len({x[1] for x in a[q]} & {x[1] for x in e[q]}) for q in e)
tot = sum(len(e[q]) for q in e)
assert hit / tot >= 0.95, "recall@10 %.4f" % (hit / tot)
for q, rows in a.items():
    assert all(x[1] != q for x in rows), "the query itself was returned for %s" % q
    s = [x[2] for x in rows]
    assert s == sorted(s, reverse=True), (q, s)
EOF
# --ann FILE names an index anywhere
expect_exit 0 $MERX similar --model m.mxm --item 22464 --k 3 --ann t2.hnsw --out one.csv --json
expect_contains out.txt '"index":"t2.hnsw"'
expect_exit 2 $MERX similar --model m.mxm --item 22464 --ann t2.hnsw --exact --out one.csv
expect_exit 2 $MERX similar --model m.mxm --item 22464 --ef 0 --out one.csv

# ---- users: their own index beside the model
expect_exit 0 $MERX index build --model m.mxm --side users --json
expect_contains out.txt '"index":"m.mxm.users.hnsw"'
expect_exit 0 $MERX similar --model m.mxm --all-users --k 5 --out users.csv --json
expect_contains out.txt '"index":"m.mxm.users.hnsw"'
# an index of the other side is refused when named
expect_exit 1 $MERX similar --model m.mxm --item 22464 --ann m.mxm.users.hnsw --out one.csv
expect_contains err.txt "stale index"
expect_contains err.txt "m.mxm (items)"

# ---- Lua: m:load_index, then m:similar answers from it (same lists as the CLI)
cat > sim.lua <<'EOF'
local m <close> = merx.model.load("m.mxm")
local exact = m:similar({ "22464", "85123A" }, 5)
assert(m:load_index("m.mxm.hnsw") == true)
local ann, s = m:similar({ "22464", "85123A", "no-such-item" }, 5, { ef = 200 })
assert(#ann == 3 and #ann[1] == 5 and #ann[3] == 0, "shape")
local hit = 0
for q = 1, 2 do
  for _, a in ipairs(ann[q]) do
    for _, e in ipairs(exact[q]) do if a == e then hit = hit + 1 end end
  end
  for r = 2, 5 do assert(s[q][r] <= s[q][r - 1], "order") end
end
assert(hit >= 9, "overlap with the exact lists: " .. hit)
local ex2 = m:similar({ "22464" }, 5, { exact = true })
for r = 1, 5 do assert(ex2[1][r] == exact[1][r]) end
assert(m:load_index("m.mxm.users.hnsw", { users = true }))
local u = m:similar({ "15100.0" }, 3, { users = true })
assert(#u[1] == 3)
local ok, err = pcall(m.load_index, m, "m.mxm.users.hnsw")
assert(not ok and tostring(err):find("stale index", 1, true), tostring(err))
ok, err = pcall(m.similar, m, { "22464" }, 5, { ef = 0 })
assert(not ok and tostring(err):find("ef must be", 1, true), tostring(err))
print("lua ok")
EOF
expect_exit 0 $MERX run sim.lua
expect_contains out.txt "lua ok"

# ---- metric: a dot query does not use a cosine index
expect_exit 0 $MERX similar --model m.mxm --item 22464 --metric dot --out one.csv --json
expect_contains out.txt '"search":"exact"'
expect_contains err.txt "built for --metric cosine"
expect_exit 1 $MERX similar --model m.mxm --item 22464 --metric dot --ann m.mxm.hnsw --out one.csv
expect_contains err.txt "built for --metric cosine, not dot"
expect_exit 0 $MERX index build --model m.mxm --metric dot --out dot.hnsw
expect_exit 0 $MERX similar --model m.mxm --item 22464 --metric dot --ann dot.hnsw --out one.csv --json
expect_contains out.txt '"search":"hnsw"'

# ---- stale: a retrained model; beside -> warning and exact, named -> error
$MERX train --data "$DATA" --columns "$COLS" --algo ials --factors 16 --epochs 3 --seed 2 \
  --out m.mxm >/dev/null 2>&1
expect_exit 0 $MERX similar --model m.mxm --item 22464 --k 3 --out one.csv --json
expect_contains out.txt '"search":"exact"'
expect_contains err.txt "warning: not using the index beside the vectors"
expect_contains err.txt "stale index"
expect_exit 1 $MERX similar --model m.mxm --item 22464 --ann m.mxm.hnsw --out one.csv
expect_contains err.txt "m.mxm.hnsw"
expect_contains err.txt "stale index: built for other vectors (m.mxm (items)) than m.mxm (items)"
expect_exit 1 $MERX index info m.mxm.hnsw --model m.mxm
expect_contains err.txt "stale index"
expect_exit 0 $MERX index info m.mxm.hnsw

# ---- truncated, foreign, missing
head -c 1000 t2.hnsw > cut.hnsw
expect_exit 1 $MERX index info cut.hnsw
expect_contains err.txt "cut.hnsw"
expect_contains err.txt "truncated"
expect_exit 1 $MERX similar --model m.mxm --item 22464 --ann "$P" --out one.csv
expect_contains err.txt "wrong magic (not a .hnsw file)"
expect_exit 1 $MERX similar --model m.mxm --item 22464 --ann none.hnsw --out one.csv
expect_contains err.txt "none.hnsw"

# ---- a failed build leaves nothing behind
expect_exit 1 $MERX index build --model m.mxm --out no/such/dir/x.hnsw
[ ! -e no ] || { echo "a directory appeared"; exit 1; }

# ---- search over embeddings: EMB.hnsw beside EMB.npy
$MERX embed --data "$P" --columns id=StockCode,text=Description --out emb.npy >/dev/null 2>&1
expect_exit 0 $MERX search --index emb.npy "white metal lantern" "cake stand" "red bag" --k 5 \
  --out exact_s.csv
expect_exit 0 $MERX index build --embeddings emb.npy --json
expect_contains out.txt '"index":"emb.hnsw"'
expect_contains out.txt '"source":"emb.npy"'
expect_exit 0 $MERX search --index emb.npy "white metal lantern" "cake stand" "red bag" --k 5 \
  --ef 200 --out ann_s.csv
cmp exact_s.csv ann_s.csv
expect_exit 0 $MERX search --index emb.npy "lantern" --json
expect_contains out.txt '"search":"hnsw"'
expect_contains out.txt '"index":"emb.hnsw"'
expect_exit 0 $MERX search --index emb.npy "lantern" --json --exact
expect_contains out.txt '"search":"exact"'
expect_exit 2 $MERX search --index emb.npy "lantern" --ann emb.hnsw --model m.mxm --user 15100.0
expect_contains err.txt "--ann cannot rank the blend"
# an index of other embeddings is refused
expect_exit 1 $MERX search --index emb.npy "lantern" --ann m.mxm.users.hnsw
expect_contains err.txt "stale index"

# ---- usage errors
expect_exit 2 $MERX index build --out x.hnsw
expect_contains err.txt "give exactly one of --model and --embeddings"
expect_exit 2 $MERX index build --model m.mxm --metric l2
expect_exit 2 $MERX index build --model m.mxm --M 1
expect_exit 2 $MERX index build --embeddings emb.npy --side users
expect_exit 2 $MERX index bild --model m.mxm
expect_contains err.txt "did you mean 'build'"
expect_exit 2 $MERX index build --model m.mxm --ef-constrution 10
expect_contains err.txt "ef-construction"
expect_exit 0 $MERX index build --help
expect_contains out.txt "usage: merx index build"
