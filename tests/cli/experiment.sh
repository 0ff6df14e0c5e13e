# merx.experiment end to end (#16): stable arms by the documented hash
# (checked against the pure-Python reference in docs/lua.md and in
# scripts/experiment/arm.py), control users held out of the offer file but
# logged as exposures, the ledger's first assignment kept, shards and
# concurrent processes, a changed definition refused, all or nothing, and a
# dry run that writes nothing.
EX="$MERX_SRC/examples"
q() { sqlite3 "$1/ledger.db" "$2"; }

# ---- the hash: merx against the Python references, on 2000 users
python3 - <<'PY'
import csv, random
r = random.Random(16)
with open("audience.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["user", "segment", "score"])
    for i in range(2000):
        w.writerow([f"c{i}" if i % 7 else f"ü-{i},x", r.choice(["loyal", "new", "at_risk"]),
                    round(r.random(), 3)])
PY
cat > arms.lua <<'LUA'
local t = merx.data.read("audience.csv", { columns = { user = "user", segment = "segment" } })
local e = merx.experiment{ name = "spring", arms = { control = 0.1, coupon = 0.9 } }
local s = merx.experiment{ name = "strat", salt = "s1", arms = { { "coupon", 0.7 }, { "control", 0.3 } },
                           stratify = "segment" }
for i = 1, #t.user do print(t.user[i], e:arm(t.user[i]), s:arm(t.user[i], t.segment[i])) end
LUA
expect_exit 0 "$MERX" run arms.lua
cp out.txt merx_arms.txt
# the docs' snippet, run as written (first python block of "## Experiment arms" in docs/lua.md)
awk '/^## Experiment arms/{s=1} s&&/^```python/{p=1;next} p&&/^```/{exit} p' "$MERX_SRC/docs/lua.md" > readme_arm.py
[ -s readme_arm.py ] || { echo "FAIL: no python snippet in docs/lua.md's Experiment arms"; exit 1; }
for ref in readme_arm.py "$MERX_SRC/scripts/experiment/arm.py"; do
python3 - "$ref" <<'PY'
import csv, importlib.util, sys
spec = importlib.util.spec_from_file_location("ref", sys.argv[1])
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
rows = list(csv.DictReader(open("audience.csv")))
got = [l.rstrip("\n").split("\t") for l in open("merx_arms.txt", encoding="utf-8")]
assert len(got) == len(rows), (len(got), len(rows))
for r, g in zip(rows, got):
    assert g[0] == r["user"], (g, r)
    assert g[1] == ref.arm("spring", [("control", 0.1), ("coupon", 0.9)], r["user"]), (sys.argv[1], g, r)
    assert g[2] == ref.arm("s1", [("coupon", 0.7), ("control", 0.3)], r["user"], r["segment"]), g
print(sys.argv[1], "agrees on", len(rows), "users")
PY
done

# ---- a campaign with a 20% control arm
cat > camp.lua <<'LUA'
local p = merx.params
local t = merx.data.read("audience.csv", { columns = { user = "user", segment = "segment", score = "score" },
                                           types = { score = "number" } })
local e = merx.experiment{ name = p.name or "camp", salt = p.salt, stratify = p.stratify,
                           arms = { control = 0.2, coupon = 0.8 } }
local c = merx.campaign.new{ name = "camp", budget = 1e9, experiment = e }
c:audience(t)
c:offer{ id = "C10", cost = 1, margin = 5 }
c:value(function(u) return 1 + u.score end) -- every user gets (or would get) the offer
local s = c:run()
print(string.format("decisions %d control %d", s.decisions, s.control))
if p.fail then error("failing after the campaign staged its exposures") end
LUA
expect_exit 0 "$MERX" run camp.lua --now 2026-01-01 --store st --out o1
expect_contains out.txt "decisions "
offers=$(tail -n +2 o1/offer.csv | wc -l)
[ "$(q st "select count(*) from exposures where arm='coupon' and delivered=1")" = "$offers" ]
[ "$(q st "select count(*) from assignments")" = 2000 ]
python3 - <<'PY'
import csv, sqlite3
db = sqlite3.connect("st/ledger.db")
offered = {r["user"] for r in csv.DictReader(open("o1/offer.csv"))}
exp = {u: (a, d) for u, a, d in db.execute("select user, arm, delivered from exposures")}
control = {u for u, (a, d) in exp.items() if a == "control"}
assert control and not (control & offered), "a control user got an offer"
assert all(d == 0 for u, (a, d) in exp.items() if a == "control")
assert offered == {u for u, (a, d) in exp.items() if a == "coupon"}
# the exposure of a control user is the would-have-been decision, whole
rec = db.execute("select record from exposures where arm='control' limit 1").fetchone()[0]
assert '"offer":"C10"' in rec and '"reason":' in rec, rec
share = len(control) / len(exp)
assert abs(share - 0.2) < 4.5 * (0.2 * 0.8 / len(exp)) ** 0.5, share
print("control", len(control), "of", len(exp))
PY

# a second run keeps every arm; its exposures are added, assignments are not
expect_exit 0 "$MERX" run camp.lua --now 2026-01-02 --store st --out o2
[ "$(q st "select count(*) from assignments")" = 2000 ]
[ "$(q st "select count(*) from exposures")" = 4000 ]
[ "$(q st "select count(*) from (select user from exposures group by user having count(distinct arm) > 1)")" = 0 ]
[ "$(q st "select count(distinct run_id) from assignments")" = 1 ]
expect_exit 0 "$MERX" experiments --store st
expect_contains out.txt "camp: salt 'camp', arms [[\"control\",0.2],[\"coupon\",0.8]], not stratified"
expect_exit 0 "$MERX" experiments --store st camp --json
python3 - <<'PY'
import json
e = json.load(open("out.txt"))["experiments"][0]
arms = {a["arm"]: a for a in e["arms"]}
assert arms["control"]["users"] + arms["coupon"]["users"] == 2000, arms
assert arms["control"]["delivered"] == 0 and arms["coupon"]["delivered"] == arms["coupon"]["exposures"]
assert arms["coupon"]["first_exposure"] == "2026-01-01T00:00:00Z" and arms["coupon"]["last_exposure"] == "2026-01-02T00:00:00Z"
PY
expect_exit 0 "$MERX" experiments --store st camp --assignments
[ "$(tail -n +2 out.txt | wc -l)" = 2000 ]
expect_exit 1 "$MERX" experiments --store st nope
expect_contains err.txt "no experiment 'nope'"

# ---- a changed definition is refused, naming both; nothing is written
expect_exit 1 "$MERX" run camp.lua --now 2026-01-03 --store st --out o3 --set salt=other
expect_contains err.txt "camp.lua:4:"
expect_contains err.txt "already in the ledger with salt 'camp'"
expect_contains err.txt "this run defines it with salt 'other'"
[ "$(q st "select count(*) from exposures")" = 4000 ] && [ ! -e o3/offer.csv ]

# ---- a dry run writes nothing, and says what it would log
before=$(q st "select count(*) from exposures"),$(q st "select count(*) from decisions")
expect_exit 0 "$MERX" run camp.lua --now 2026-01-03 --store st --dry-run
expect_contains err.txt "experiment camp: 2000 exposures (control "
[ "$(q st "select count(*) from exposures"),$(q st "select count(*) from decisions")" = "$before" ]

# ---- all or nothing: a script that fails after staging commits nothing,
# nor does a run whose output file cannot be written
expect_exit 1 "$MERX" run camp.lua --now 2026-01-03 --store st --out o4 --set fail=1
[ "$(q st "select count(*) from exposures"),$(q st "select count(*) from decisions")" = "$before" ]
mkdir -p o5/offer.csv
expect_exit 1 "$MERX" run camp.lua --now 2026-01-03 --store st --out o5
[ "$(q st "select count(*) from exposures"),$(q st "select count(*) from decisions")" = "$before" ]
# ... and a new experiment is not defined by a run that failed
expect_exit 1 "$MERX" run camp.lua --now 2026-01-03 --store st --out o6 --set name=new --set fail=1
[ "$(q st "select count(*) from experiments where name='new'")" = 0 ]

# ---- shards (two processes at once into one store) = the unsharded run
"$MERX" run camp.lua --now 2026-01-01 --store sh --shard 0/2 --out s0 > s0.log 2>&1 &
p0=$!
"$MERX" run camp.lua --now 2026-01-01 --store sh --shard 1/2 --out s1 > s1.log 2>&1 &
p1=$!
wait $p0 || { cat s0.log; exit 1; }
wait $p1 || { cat s1.log; exit 1; }
[ "$(q sh "select user, arm from assignments order by user")" = \
  "$(q st "select user, arm from assignments order by user")" ]
[ "$(q sh "select count(distinct run_id) from assignments")" = 2 ]

# ---- stratified: the first assignment is kept when the user's stratum changes
expect_exit 0 "$MERX" run camp.lua --now 2026-01-01 --store ss --out t1 --set stratify=segment
[ "$(q ss "select count(*) from assignments where stratum is null")" = 0 ]
q ss "select user, arm from assignments order by user" > first.txt
python3 - <<'PY'
import csv
rows = list(csv.reader(open("audience.csv")))
shift = {"loyal": "new", "new": "at_risk", "at_risk": "loyal"}
with open("audience.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(rows[0])
    for r in rows[1:]:
        w.writerow([r[0], shift[r[1]], r[2]])
PY
expect_exit 0 "$MERX" run camp.lua --now 2026-01-02 --store ss --out t2 --set stratify=segment
[ "$(q ss "select count(*) from (select user from exposures group by user having count(distinct arm) > 1)")" = 0 ]
[ "$(q ss "select user, arm from assignments order by user")" = "$(cat first.txt)" ]
# (without the ledger the new strata would move users between arms)
expect_exit 0 "$MERX" run camp.lua --now 2026-01-02 --store fresh --out t3 --set stratify=segment
[ "$(q fresh "select user, arm from assignments order by user")" != "$(cat first.txt)" ]

# ---- the example campaign with a 10% control arm
expect_exit 0 "$MERX" run "$EX/spring_campaign.lua" --now 2011-12-10 --set experiment=spring --store ex --out ex1
expect_contains out.txt "experiment spring: "
python3 - <<'PY'
import csv, sqlite3
db = sqlite3.connect("ex/ledger.db")
offered = {r["user"] for r in csv.DictReader(open("ex1/offer.csv"))}
control = {u for (u,) in db.execute("select user from exposures where arm='control'")}
assert control and not (control & offered)
assert offered == {u for (u,) in db.execute("select user from exposures where arm='coupon'")}
PY

# ---- a version-1 ledger (before experiments) is upgraded in place, rows kept
cp st/ledger.db v1.db
sqlite3 v1.db "DROP TABLE experiments; DROP TABLE experiment_arms; DROP TABLE assignments;
  DROP TABLE exposures; PRAGMA user_version=1"
d=$(sqlite3 v1.db "select count(*) from decisions")
expect_exit 0 "$MERX" experiments --log v1.db
[ ! -s out.txt ]
expect_exit 0 "$MERX" run camp.lua --now 2026-01-05 --log v1.db --out v1
[ "$(sqlite3 v1.db "pragma user_version")" = 3 ]
[ "$(sqlite3 v1.db "select count(*) from decisions")" -gt "$d" ]
[ "$(sqlite3 v1.db "select count(*) from assignments")" = 2000 ]

# ---- merx explain shows a held-out user's exposure (no decision)
u=$(q st "select user from exposures where arm='control' limit 1")
expect_exit 0 "$MERX" explain --store st --user "$u"
expect_contains out.txt "experiment camp: arm control, held out (no decision delivered)"
expect_contains out.txt '"offer":"C10"'
expect_exit 0 "$MERX" explain --store st --user "$u" --json
python3 -c "
import json; d = json.load(open('out.txt'))
assert d['decisions'] == [] and d['exposures'][0]['arm'] == 'control' and not d['exposures'][0]['delivered'], d"
expect_exit 1 "$MERX" explain --store st --user nobody
