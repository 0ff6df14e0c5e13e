# Fairness audit (#19): a deliberately biased campaign (the Hillstrom sample,
# value driven by past spend, which existing customers have less of) is
# flagged by `merx audit` and by merx.audit{} before commit; users without an
# attribute row form "unknown"; bad attribute files name file:line:field.
python3 - "$MERX_SRC/examples/data/hillstrom_sample.csv.gz" <<'PY'
import csv, gzip, sys
r = csv.DictReader(gzip.open(sys.argv[1], "rt"))
with open("customers.csv", "w", newline="") as f, open("attr.csv", "w", newline="") as g:
    w, a = csv.writer(f), csv.writer(g)
    w.writerow(["user", "score"]); a.writerow(["user", "newbie", "zip_code"])
    for i, row in enumerate(r):
        w.writerow([f"c{i+1}", round(min(float(row["history"]) / 1000, 1), 4)])
        if i < 3990:  # the last ten have no attribute row
            a.writerow([f"c{i+1}", "new" if row["newbie"] == "1" else "existing", row["zip_code"]])
PY
cat > camp.lua <<'LUA'
local t = merx.data.read("customers.csv", { columns = { user = "user", score = "score" } })
local c = merx.campaign.new{ name = "biased", budget = 600 }
c:audience(t)
c:offer{ id = "VIP", cost = 1, margin = 10 }
c:run()
local a = merx.audit{ attribute = "attr.csv:newbie" }   -- the staged plan, before commit
assert(a.reference == "new" and a.flagged == 1 and a.min_ratio < 0.8, a.min_ratio)
assert(a.groups[1].group == "existing" and a.groups[1].flagged and a.groups[1].mean_score < 0.6)
assert(a.groups[3].group == "unknown" and a.groups[3].share == nil and a.groups[3].ratio == nil)
local ok, err = pcall(merx.audit, { attribute = "attr.csv" })
assert(not ok and err:find("FILE:COLUMN"), err)
ok, err = pcall(merx.audit, { attribute = "attr.csv:newbie", treshold = 0.8 })
assert(not ok and err:find("threshold"), err)
LUA
expect_exit 0 "$MERX" run camp.lua --store st --out o
run=$(sqlite3 st/ledger.db "select run_id from commits")
expect_exit 0 "$MERX" audit --store st --run "$run" --attribute attr.csv:newbie --json --out audit.csv
expect_contains err.txt "warning: group 'existing' is offered at"
python3 - <<'PY'
import json, csv
r = json.load(open("out.txt"))
g = {x["group"]: x for x in r["groups"]}
assert r["reference"] == "new" and r["flagged"] == 1, r
assert g["existing"]["flagged"] and g["existing"]["ratio"] < 0.8, g
assert g["existing"]["lo95"] < g["existing"]["share"] < g["existing"]["hi95"]
assert g["existing"]["mean_score"] < g["new"]["mean_score"]
assert g["unknown"]["share"] is None and g["unknown"]["ratio"] is None
assert sum(x["offered"] for x in r["groups"]) == r["offered"] == r["decisions"] == 600
assert g["existing"]["users"] + g["new"]["users"] == 3990
rows = list(csv.DictReader(open("audit.csv")))
assert [x["group"] for x in rows] == ["existing", "new", "unknown"], rows
PY
# a fair split (zip code) is not flagged; the text report names the reference group
expect_exit 0 "$MERX" audit --store st --run "$run" --attribute attr.csv:zip_code
expect_contains out.txt "most favoured group"
[ ! -s err.txt ] || { echo "FAIL: warning on an unflagged audit"; cat err.txt; exit 1; }

# errors: unknown run, usage, bad attribute files (file:line:field)
expect_exit 1 "$MERX" audit --store st --run nosuchrun --attribute attr.csv:newbie
expect_contains err.txt "run 'nosuchrun' is not in the ledger"
expect_exit 2 "$MERX" audit --store st --run "$run" --attribute attr.csv
expect_exit 2 "$MERX" audit --store st --attribute attr.csv:newbie
expect_exit 2 "$MERX" audit --store st --run "$run" --attribute attr.csv:newbie --treshold 0.8
expect_contains err.txt "threshold"
expect_exit 1 "$MERX" audit --store st --run "$run" --attribute attr.csv:age
expect_contains err.txt "attr.csv"
expect_contains err.txt "age"
printf 'user,newbie\nc1,new\nc2,existing\nc1,existing\n' > dup.csv
expect_exit 1 "$MERX" audit --store st --run "$run" --attribute dup.csv:newbie
expect_contains err.txt "dup.csv:4"
expect_contains err.txt "listed twice (first on line 2)"
printf 'user,newbie\nc1,new\nc2,\n' > empty.csv
expect_exit 1 "$MERX" audit --store st --run "$run" --attribute empty.csv:newbie
expect_contains err.txt "empty.csv:3:2"
expect_contains err.txt "newbie"
printf 'user,newbie\nc1,new\nc2\n' > short.csv
expect_exit 1 "$MERX" audit --store st --run "$run" --attribute short.csv:newbie
expect_contains err.txt "short.csv:3:2"
expect_contains err.txt "missing field"

# The fix: the same campaign with c:parity{} (four-fifths on newbie) passes the
# audit, and the summary reports the binding constraint's price and the value lost.
cat > fair.lua <<'LUA'
local t = merx.data.read("customers.csv", { columns = { user = "user", score = "score" } })
local g = merx.data.read("attr.csv", { columns = { user = "user", newbie = "newbie" } })
local grp = {}
for i = 1, #g.user do grp[g.user[i]] = g.newbie[i] end
t.newbie = {}
for i = 1, #t.user do t.newbie[i] = grp[t.user[i]] or "unknown" end
local c = merx.campaign.new{ name = "fair", budget = 600 }
c:audience(t)
c:offer{ id = "VIP", cost = 1, margin = 10 }
c:parity{ column = "newbie", ratio = 0.8 }
local s = c:run()
local p = s.parity
assert(p.value_lost > 0 and p.unconstrained_objective > s.value, p.value_lost)
assert(p.prices["rate(existing)>=0.8*rate(new)"] > 0)
assert(p.groups.existing.rate >= 0.8 * p.groups.new.rate - 1e-9)
local a = merx.audit{ attribute = "attr.csv:newbie" }
assert(a.flagged == 0 and a.min_ratio >= 0.8, a.min_ratio)
print(string.format("value_lost %.3f", p.value_lost))
LUA
expect_exit 0 "$MERX" run fair.lua --store st --out o2
expect_contains out.txt "value_lost"
run2=$(sqlite3 st/ledger.db "select run_id from commits where run_id != '$run'")
expect_exit 0 "$MERX" audit --store st --run "$run2" --attribute attr.csv:newbie --kind offer --json
python3 -c "
import json; r = json.load(open('out.txt'))
assert r['flagged'] == 0 and r['min_ratio'] >= 0.8, r"

# merx allocate: the same fix on a candidate file, certified (bound >= objective)
python3 - <<'PY'
import csv, random
random.seed(3)
with open("cand.csv", "w", newline="") as f, open("grp.csv", "w", newline="") as g:
    w, a = csv.writer(f), csv.writer(g)
    w.writerow(["user", "offer", "value", "cost"]); a.writerow(["user", "region"])
    for u in range(2000):
        region = "north" if u % 2 == 0 else "south"
        if u < 1990: a.writerow([f"u{u}", region])
        for o in ("A", "B"):
            v = random.uniform(1, 2) if region == "north" else random.uniform(0.2, 1.2)
            w.writerow([f"u{u}", o, round(v, 4), 1])
PY
cols="--columns user=user,offer=offer,value=value,cost=cost"
expect_exit 0 "$MERX" allocate --data cand.csv $cols --budget 600 --out plan.csv --groups grp.csv:region \
  --parity 0.8 --json
python3 - <<'PY'
import json, csv
r = json.load(open("out.txt"))
p = r["parity"]
g = {x["group"]: x for x in p["groups"]}
assert set(g) == {"north", "south", "unknown"}, g
rates = [x["rate"] for x in g.values()]
assert min(rates) >= 0.8 * max(rates) - 1e-9, g
assert p["value_lost"] > 0 and abs(p["unconstrained_objective"] - p["value_lost"] - r["objective"]) < 1e-6
assert r["bound"] >= r["objective"] - 1e-9 and r["gap"] < 0.01, r
assert any(c["price"] > 0 for c in p["constraints"]), p
rows = list(csv.DictReader(open("plan.csv")))
assert len(rows) == r["assigned"] and sum(float(x["cost"]) for x in rows) <= 600
PY
expect_exit 0 "$MERX" allocate --data cand.csv $cols --budget 600 --out plan2.csv --groups grp.csv:region \
  --group-share south=0.45:0.55
expect_contains out.txt "share(south)>=0.45 binds"
expect_contains out.txt "parity cost"
python3 - <<'PY'
import csv
rows = list(csv.DictReader(open("plan2.csv")))
south = sum(1 for x in rows if int(x["user"][1:]) % 2 == 1)
assert 0.45 * len(rows) - 1e-9 <= south <= 0.55 * len(rows), (south, len(rows))
PY
expect_exit 2 "$MERX" allocate --data cand.csv $cols --budget 600 --out p.csv --parity 0.8
expect_exit 2 "$MERX" allocate --data cand.csv $cols --budget 600 --out p.csv --groups grp.csv:region
expect_exit 2 "$MERX" allocate --data cand.csv $cols --budget 600 --out p.csv --groups grp.csv:region \
  --group-share south=0.6:0.4
expect_exit 2 "$MERX" allocate --data cand.csv $cols --budget 600 --out p.csv --groups grp.csv:region \
  --parity 0.8 --save-duals d.txt
expect_exit 1 "$MERX" allocate --data cand.csv $cols --budget 600 --out p.csv --groups grp.csv:region \
  --group-share west=0:0.5
expect_contains err.txt "west"
expect_exit 1 "$MERX" allocate --data cand.csv $cols --budget 600 --out p.csv --groups dup.csv:newbie \
  --parity 0.8
expect_contains err.txt "dup.csv:4"
# the sample warm start carries the groups; the LP export carries the parity
# rows, and GLPK's LP optimum lies between merx's plan and its bound
expect_exit 0 "$MERX" allocate --data cand.csv $cols --budget 600 --out plan3.csv --groups grp.csv:region \
  --parity 0.8 --sample 100 --json --write-lp parity.lp
python3 -c "
import json; r = json.load(open('out.txt'))
assert r['sample_passes'] > 0 and r['gap'] < 0.01, r
g = [x['rate'] for x in r['parity']['groups']]
assert min(g) >= 0.8 * max(g) - 1e-9, g"
cp out.txt sampled.json
if command -v glpsol >/dev/null; then
  glpsol --lp parity.lp -o lp.txt >/dev/null
  python3 - <<'PY'
import json, re
r = json.load(open("sampled.json"))
lp = float(re.search(r"obj = ([-0-9.e+]+)", open("lp.txt").read()).group(1))
assert r["objective"] <= lp + 1e-6 and r["bound"] >= lp - 1e-6 * abs(lp), (r["objective"], lp, r["bound"])
PY
fi

# a keyed store holds pseudonyms: the attribute file's raw ids are hashed with
# the same key, so the audit (of the plan and of the committed run) still joins
MERX_STORE_KEY=audit-test-key expect_exit 0 "$MERX" run camp.lua --store keyed --out o3
krun=$(sqlite3 keyed/ledger.db "select run_id from commits")
[ "$(sqlite3 keyed/ledger.db "select count(*) from decisions where length(user) != 32")" = 0 ]
MERX_STORE_KEY=audit-test-key expect_exit 0 "$MERX" audit --store keyed --run "$krun" \
  --attribute attr.csv:newbie --json
python3 -c "
import json; r = json.load(open('out.txt')); g = {x['group']: x for x in r['groups']}
assert g['existing']['flagged'] and g['existing']['offered'] + g['new']['offered'] > 590, g"
# rates count the attribute file's users of each group, also those without candidates
{ cat grp.csv; for i in $(seq 1 500); do echo "x$i,north"; done; } > grp2.csv
expect_exit 0 "$MERX" allocate --data cand.csv $cols --budget 600 --out plan4.csv --groups grp2.csv:region \
  --parity 0.8 --json
python3 -c "
import json; g = {x['group']: x for x in json.load(open('out.txt'))['parity']['groups']}
assert g['north']['users'] == 1495 and g['south']['users'] == 995, g
assert g['south']['rate'] >= 0.8 * g['north']['rate'] - 1e-9 and g['north']['rate'] >= 0.8 * g['south']['rate'] - 1e-9, g"
