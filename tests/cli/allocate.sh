# merx allocate: contract form, JSON keys, caps, extra constraints, bad
# input, and the scale-out path (save duals, apply per shard).

cat > offers.csv <<'EOF'
customer,offer,score,discount,sms
c1,FREESHIP,4.0,2.0,0
c1,TENOFF,9.0,5.0,1
c2,FREESHIP,3.0,2.0,0
c2,TENOFF,8.0,5.0,1
c3,TENOFF,7.5,5.0,1
c3,BUNDLE,6.0,3.0,1
c4,BUNDLE,5.0,3.0,1
c4,FREESHIP,1.0,2.0,0
EOF
cols="user=customer,offer=offer,value=score,cost=discount"

# Contract form, budget 10; the plan is checked against the exhaustive optimum.
expect_exit 0 "$MERX" allocate --data offers.csv --columns "$cols" --budget 10 --out plan.csv --json
head -1 plan.csv | grep -qx 'user,offer,value,cost'
for k in objective spend bound gap assigned seconds; do expect_contains out.txt "\"$k\":"; done
python3 - <<'EOF'
import csv, json
r = json.load(open("out.txt"))
rows = list(csv.DictReader(open("plan.csv")))
assert len(rows) == r["assigned"], (rows, r)
spend = sum(float(x["cost"]) for x in rows)
obj = sum(float(x["value"]) for x in rows)
assert spend <= 10 + 1e-9 and abs(spend - r["spend"]) < 1e-6, (spend, r)
assert abs(obj - r["objective"]) < 1e-6 and obj <= r["bound"] + 1e-9, (obj, r)
users = [x["user"] for x in rows]
assert len(users) == len(set(users)), users          # per-user 1
# exhaustive optimum of this tiny instance
import itertools
cand = {}
for x in csv.DictReader(open("offers.csv")):
    cand.setdefault(x["customer"], []).append((float(x["score"]), float(x["discount"])))
best = 0
for pick in itertools.product(*[[None] + c for c in cand.values()]):
    v = sum(p[0] for p in pick if p); c = sum(p[1] for p in pick if p)
    if c <= 10: best = max(best, v)
assert obj <= best + 1e-9 and r["bound"] >= best - 1e-9, (obj, best, r)
assert obj == best, (obj, best)   # this instance is solved exactly
EOF

# Human output names the certificate
expect_exit 0 "$MERX" allocate --data offers.csv --columns "$cols" --budget 10 --out plan.csv
expect_contains out.txt "bound"
expect_contains out.txt "gap"

# Caps, per-user 2, and an extra cost column as a second constraint
expect_exit 0 "$MERX" allocate --data offers.csv --columns "$cols" --budget 100 --cap TENOFF=1 \
  --per-user 2 --constraint sms=2 --out plan2.csv --json --threads 2
head -1 plan2.csv | grep -qx 'user,offer,value,cost,sms'
python3 - <<'EOF'
import csv, json, collections
r = json.load(open("out.txt"))
rows = list(csv.DictReader(open("plan2.csv")))
assert sum(1 for x in rows if x["offer"] == "TENOFF") <= 1, rows
assert sum(float(x["sms"]) for x in rows) <= 2, rows
assert max(collections.Counter(x["user"] for x in rows).values()) <= 2
caps = {c["offer"]: c for c in r["caps"]}
assert caps["TENOFF"]["cap"] == 1 and caps["TENOFF"]["used"] <= 1
names = [c["name"] for c in r["constraints"]]
assert names == ["discount", "sms"], names
EOF

# caps from a file, same result as --cap
printf 'offer,cap\nTENOFF,1\n' > caps.csv
expect_exit 0 "$MERX" allocate --data offers.csv --columns "$cols" --budget 100 --caps caps.csv \
  --per-user 2 --constraint sms=2 --out plan3.csv
cmp plan2.csv plan3.csv
printf 'offer,cap\nNOPE,1\n' > badcaps.csv
expect_exit 1 "$MERX" allocate --data offers.csv --columns "$cols" --budget 100 --caps badcaps.csv --out p.csv
expect_contains err.txt "badcaps.csv:2:1: field 'offer': unknown offer 'NOPE'"

# value x margin: scores times margins
cat > scored.csv <<'EOF'
user;offer;p;margin;cost
a;X;0.5;10;1
a;Y;0.9;2;1
EOF
expect_exit 0 "$MERX" allocate --data scored.csv --columns user=user,offer=offer,value=p,margin=margin,cost=cost \
  --budget 5 --out m.csv --json
grep -q '^a,X,5,1$' m.csv

# --- bad input: one line naming file:line:column and field, exit 1
printf 'u,o,v,c\nx,A,1,1\nx,B,2,-3\n' > neg.csv
expect_exit 1 "$MERX" allocate --data neg.csv --columns user=u,offer=o,value=v,cost=c --budget 5 --out p.csv
expect_contains err.txt "neg.csv:3:4: field 'c'"
expect_contains err.txt "negative cost"
printf 'u,o,v,c\nx,A,NaN,1\n' > nan.csv
expect_exit 1 "$MERX" allocate --data nan.csv --columns user=u,offer=o,value=v,cost=c --budget 5 --out p.csv
expect_contains err.txt "nan.csv:2:3: field 'v'"
printf 'u,o,v,c\nx,A,1,1\ny,A,1,1\nx,A,2,1\n' > dup.csv
expect_exit 1 "$MERX" allocate --data dup.csv --columns user=u,offer=o,value=v,cost=c --budget 5 --out p.csv
expect_contains err.txt "dup.csv:4"
expect_contains err.txt "duplicate (user, offer) row: user 'x' offer 'A' already on line 2"
expect_exit 1 "$MERX" allocate --data offers.csv --columns "$cols" --budget 10 --cap NOPE=3 --out p.csv
expect_contains err.txt "unknown offer 'NOPE'"
expect_exit 1 "$MERX" allocate --data offers.csv --columns "$cols" --budget -1 --out p.csv
expect_contains err.txt "infeasible"
[ ! -e p.csv ]
# usage errors: exit 2
expect_exit 2 "$MERX" allocate --data offers.csv --columns "$cols" --out p.csv
expect_contains err.txt "--budget is required"
expect_exit 2 "$MERX" allocate --data offers.csv --columns user=customer,offer=offer,value=score --budget 3 --out p.csv
expect_contains err.txt "cost"
expect_exit 2 "$MERX" allocate --data offers.csv --columns "$cols" --budget 3 --cap TENOFF --out p.csv
expect_exit 0 "$MERX" allocate --help
expect_contains out.txt "--save-duals"

# --- scale-out: solve once, apply per shard, concatenated plans meet every limit
python3 - <<'EOF'
import random
random.seed(4)
with open("big.csv", "w") as f:
    f.write("user,offer,value,cost\n")
    for u in range(4000):
        for j in range(5):
            if random.random() < 0.8:
                c = 1 + j + random.random()
                f.write(f"user{u},o{j},{c * (0.7 + 0.8 * random.random()):.4f},{c:.4f}\n")
EOF
bc="user=user,offer=offer,value=value,cost=cost"
expect_exit 0 "$MERX" allocate --data big.csv --columns "$bc" --budget 5000 --cap o4=300 --out full.csv --save-duals duals.txt --json
cp out.txt full.json
head -1 duals.txt | grep -qx 'merx-duals 1'
for s in 0 1 2; do
  expect_exit 0 "$MERX" allocate --data big.csv --columns "$bc" --duals duals.txt --shard $s/3 --out shard$s.csv --json
  cp out.txt shard$s.json
done
python3 - <<'EOF'
import csv, json, zlib
full = json.load(open("full.json"))
tot_cost = tot_val = o4 = 0; users = set()
for s in range(3):
    rows = list(csv.DictReader(open(f"shard{s}.csv")))
    j = json.load(open(f"shard{s}.json"))
    assert j["spend"] <= 1667, j  # whole-number quotas 1667 + 1667 + 1666 = 5000
    for x in rows:
        assert x["user"] not in users; users.add(x["user"])
        tot_cost += float(x["cost"]); tot_val += float(x["value"]); o4 += x["offer"] == "o4"
assert tot_cost <= 5000 and o4 <= 300, (tot_cost, o4)
assert tot_val >= 0.98 * full["objective"], (tot_val, full["objective"])
assert full["gap"] < 0.005, full
EOF
expect_exit 2 "$MERX" allocate --data big.csv --columns "$bc" --duals duals.txt --budget 3 --out x.csv
expect_exit 2 "$MERX" allocate --data big.csv --columns "$bc" --budget 3 --shard 0/2 --out x.csv
expect_exit 2 "$MERX" allocate --data big.csv --columns "$bc" --duals duals.txt --shard 2/2 --out x.csv
printf 'garbage\n' > bad-duals.txt
expect_exit 1 "$MERX" allocate --data big.csv --columns "$bc" --duals bad-duals.txt --out x.csv
expect_contains err.txt "not a merx duals file"
