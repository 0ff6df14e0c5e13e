# Measure from the store (#16): assign -> run (a campaign with an
# experiment) -> outcomes (the shared campaign simulator, planted uplift) ->
# `merx measure --store DIR --experiment NAME`, which must give exactly what
# `merx measure --assignments` gives on the same units exported as CSV.
EX="$MERX_SRC/examples"
SIM="$MERX_SRC/scripts/sim/campaign_sim.py"
python3 "$SIM" customers --retail "$EX/data/purchases.csv.gz" --out customers.csv
cat > camp.lua <<'LUA'
local t = merx.data.read("customers.csv", { columns = { user = "user", segment = "segment" } })
local e = merx.experiment{ name = "spring", arms = { control = 0.5, coupon = 0.5 } }
local c = merx.campaign.new{ name = "spring", experiment = e }
c:audience(t)
c:offer{ id = "COUPON", cost = 1, margin = 5 }
c:value(function(u) return 1 end)
c:run()
LUA
expect_exit 0 "$MERX" run camp.lua --now 2011-12-10 --store st --out o1
expect_exit 0 "$MERX" experiments --store st spring --assignments
cp out.txt arms.csv
python3 "$SIM" outcomes --customers customers.csv --assignments arms.csv --seed 1 --format events \
  --start 2011-12-10 --days 14 --out events.csv
cols="--columns user=user,time=time,value=value"
expect_exit 0 "$MERX" measure --store st --experiment spring --outcomes events.csv $cols --json
cp out.txt store.json
expect_exit 0 "$MERX" measure --assignments arms.csv --control control --shares control=0.5,coupon=0.5 \
  --outcomes events.csv $cols --json
cmp store.json out.txt || { echo "FAIL: the store's units differ from the exported assignments"; exit 1; }
python3 - <<'PY'
import json
r = json.load(open("store.json"))
users = {a["arm"]: a["users"] for a in r["arms"]}
assert users["control"] + users["coupon"] == sum(1 for _ in open("customers.csv")) - 1, users
assert r["srm_p_value"] > 0.001, r["srm_p_value"]
assert any(u["arm"] == "coupon" and u["metric"] == "conversion" for u in r["uplift"])
PY
# per segment: the segment each exposure record logged = the customers' segment column
python3 - <<'PY'
import csv
seg = {r["user"]: r["segment"] for r in csv.DictReader(open("customers.csv"))}
with open("arms_seg.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["user", "arm", "segment"])
    for r in csv.DictReader(open("arms.csv")):
        w.writerow([r["user"], r["arm"], seg[r["user"]]])
PY
expect_exit 0 "$MERX" measure --store st --experiment spring --segment segment --outcomes events.csv $cols --json
cp out.txt store_seg.json
expect_exit 0 "$MERX" measure --assignments arms_seg.csv --segment segment --control control \
  --shares control=0.5,coupon=0.5 --outcomes events.csv $cols --json
cmp store_seg.json out.txt || { echo "FAIL: per-segment figures differ"; exit 1; }
python3 -c "
import json; s = json.load(open('store_seg.json'))['segments']
assert {x['segment'] for x in s} >= {'loyal', 'at_risk'}, s"

# --run: the units of one run only (a second run exposes nobody new)
expect_exit 0 "$MERX" run camp.lua --now 2011-12-11 --store st --out o2
run1=$(sqlite3 st/ledger.db "select run_id from commits order by time limit 1")
expect_exit 0 "$MERX" measure --store st --experiment spring --run "$run1" --outcomes events.csv $cols --json
cmp store.json out.txt

# bad input: clear errors
expect_exit 1 "$MERX" measure --store st --experiment autumn --outcomes events.csv $cols
expect_contains err.txt "no experiment 'autumn' in the ledger"
expect_exit 2 "$MERX" measure --store st --outcomes events.csv $cols --control control
expect_contains err.txt "--store needs --experiment NAME"
expect_exit 2 "$MERX" measure --store st --experiment spring --control coupon --outcomes events.csv $cols
expect_contains err.txt "the control arm of experiment 'spring' is 'control'"
expect_exit 2 "$MERX" measure --store st --experiment spring --assignments arms.csv --outcomes events.csv $cols
expect_exit 1 "$MERX" measure --store st --experiment spring --run nosuchrun --outcomes events.csv $cols
expect_contains err.txt "no units"

# the same from Lua: merx.measure{ experiment = e } reads the run's store
cat > meas.lua <<'LUA'
local e = merx.experiment{ name = "spring", arms = { control = 0.5, coupon = 0.5 } }
local cols = "user=user,time=time,value=value"
local r = merx.measure{ experiment = e, outcomes = "events.csv", columns = cols }
local seg = merx.measure{ experiment = "spring", outcomes = "events.csv", columns = cols, segment = "segment" }
print(r.control, r.arms[1].arm, r.arms[1].users, r.arms[2].arm, r.arms[2].users, #seg.segments)
for _, u in ipairs(r.uplift) do print(u.arm, u.metric, string.format("%.12g", u.diff)) end
local ok, err = pcall(merx.measure, { experiment = "autumn", outcomes = "events.csv", columns = cols })
print(ok, err)
LUA
expect_exit 0 "$MERX" run meas.lua --store st
python3 - <<'PY'
import json
r = json.load(open("store.json"))
out = open("out.txt").read().split("\n")
head = out[0].split("\t")
assert head[0] == "control" and head[1] == r["arms"][0]["arm"] and int(head[2]) == r["arms"][0]["users"], head
assert int(head[4]) == r["arms"][1]["users"] and int(head[5]) >= 2, head
for u, line in zip(r["uplift"], out[1:]):
    arm, metric, diff = line.split("\t")
    assert (arm, metric) == (u["arm"], u["metric"]) and abs(float(diff) - u["diff"]) < 1e-9, (line, u)
assert "meas.lua:7:" in out[len(r["uplift"]) + 1] and "no experiment 'autumn'" in out[len(r["uplift"]) + 1], out
PY
expect_exit 1 "$MERX" run meas.lua
expect_contains err.txt "this run has no ledger to read (run with --store DIR)"
