# Budgets and global caps under `merx run --shard`: the shards together must
# stay within every global limit (the budget, each offer's stock, each
# segment cap), with even quotas when no prices are given (and a warning),
# and with prices and per-shard quotas from `--solve FILE --shards N`
# reaching >= 99% of the unsharded plan's value. Then the same for
# `merx allocate --synthetic` sharded with --duals.
cp -r "$MERX_SRC/examples" ex
# one model for every run: shards that trained their own would score users differently
expect_exit 0 "$MERX" train --data ex/data/purchases.csv.gz --columns user=CustomerID,item=StockCode \
  --algo ials --threads 1 --out ex/shop.mxm
run() { "$MERX" run ex/spring_campaign.lua --now 2011-12-10 --set model="$PWD/ex/shop.mxm" "$@"; }

expect_exit 0 run --out full
cp out.txt full.txt

# the shards' totals against the global limits, and their value against the unsharded plan
check() { # check DIR_PREFIX MIN_RATIO
python3 - "$1" "$2" <<'PY'
import csv, glob, re, sys
prefix, min_ratio = sys.argv[1], float(sys.argv[2])
rows = []
for d in sorted(glob.glob(prefix + "[0-9]")):
    rows += list(csv.DictReader(open(d + "/offer.csv")))
full = list(csv.DictReader(open("full/offer.csv")))
spend = sum(float(r["cost"]) for r in rows)
assert spend <= 400 + 1e-9, ("budget", spend)
users = [r["user"] for r in rows]
assert len(users) == len(set(users)), "a user in two shards"
count = lambda key: {k: sum(1 for r in rows if r[key] == k) for k in {r[key] for r in rows}}
seg_caps = {"champions": 60, "loyal": 80, "new": 40, "at_risk": 40, "hibernating": 0, "needs_attention": 40}
for s, k in count("segment").items():
    assert k <= seg_caps[s], ("segment cap", s, k)
stock = {"SPRING10": 70, "FREESHIP": 250}
for o, k in count("offer").items():
    assert k <= stock.get(o, 1e18), ("stock", o, k)
value = sum(float(r["value"]) for r in rows)
ref = sum(float(r["value"]) for r in full)
print(f"{prefix}: {len(rows)} offers, spend {spend:.2f}, value {value:.2f} of {ref:.2f} ({value / ref:.4f})")
assert value >= min_ratio * ref, (value, ref)
PY
}

# no prices: even quotas, said on stderr
for i in 0 1 2 3; do
  expect_exit 0 run --shard $i/4 --out even$i
  expect_contains err.txt "without --duals: this shard takes an even share (1/4)"
done
check even 0

# prices and quotas solved once on all users; --solve commits nothing
expect_exit 0 run --solve duals.txt --shards 4 --out solved
expect_contains err.txt "written to duals.txt; nothing committed"
[ ! -e solved ] || { echo "FAIL: --solve committed"; exit 1; }
head -1 duals.txt | grep -qx 'merx-duals 1'
grep -q '^shards 4$' duals.txt
for i in 0 1 2 3; do
  expect_exit 0 run --shard $i/4 --duals duals.txt --out priced$i
  if grep -q "even share" err.txt; then echo "FAIL: quotas not used"; exit 1; fi
done
check priced 0.99
# another shard count: even quotas with the saved prices, still within the limits
for i in 0 1 2; do
  expect_exit 0 run --shard $i/3 --duals duals.txt --out three$i
  expect_contains err.txt "holds no quotas for 3 shards"
done
check three 0

# prices solved for other limits are refused, naming the limit
expect_exit 1 run --shard 0/4 --duals duals.txt --set budget=300 --out x
expect_contains err.txt "the limit 'budget' is 300 here but 400 in duals.txt: solve again"
[ ! -e x ]
printf 'merx-duals 1\nper_user 1\nresource\t400\t1\tbudget\nshards 2\nquota\t5\t1\tbudget\n' > bad.txt
expect_exit 1 run --shard 0/2 --duals bad.txt --out x
expect_contains err.txt "bad.txt:5"
expect_exit 2 run --solve d.txt --shard 0/2
expect_exit 2 run --shards 4
expect_exit 1 "$MERX" run -e 'print(1)' --solve d.txt
expect_contains err.txt "no budgeted choice"

# merx allocate --synthetic, sharded with saved prices: >= 99% of the unsharded objective
expect_exit 0 "$MERX" allocate --synthetic 20000:10:3 --save-duals syn.txt --shards 4 --json
cp out.txt syn_full.json
for i in 0 1 2 3; do
  expect_exit 0 "$MERX" allocate --synthetic 20000:10:3 --duals syn.txt --shard $i/4 --json
  cp out.txt syn_$i.json
done
python3 - <<'PY'
import json
full = json.load(open("syn_full.json"))
parts = [json.load(open(f"syn_{i}.json")) for i in range(4)]
obj = sum(p["objective"] for p in parts)
for c in full["constraints"]:
    used = sum(next(x["spend"] for x in p["constraints"] if x["name"] == c["name"]) for p in parts)
    assert used <= c["limit"] + 1e-6, (c["name"], used, c["limit"])
assert sum(p["users"] for p in parts) == full["users"], "shards partition the users"
print(f"synthetic: {obj:.2f} of {full['objective']:.2f} ({obj / full['objective']:.4f})")
assert obj >= 0.99 * full["objective"], (obj, full["objective"])
PY

# merx.allocate in a sharded run takes its quota too (budget 3 over 2 shards: 2 + 1);
# merx.shard() tells the script its shard
code='local i, n = merx.shard()
local p = merx.allocate{ value = { {5}, {4}, {3}, {2} }, cost = 1, budget = 3 }
print(i, n, p.spend)'
expect_exit 0 "$MERX" run -e "$code" --shard 1/2
expect_contains out.txt "1	2	1.0"
expect_contains err.txt "allocate: --shard 1/2 without --duals"
expect_exit 0 "$MERX" run -e "$code" --shard 0/2
expect_contains out.txt "0	2	2.0"
