# merx.bandit's nightly loop through the store (examples/bandit_sim.lua):
# outcomes of night N update the posteriors in night N+1 from the bandit's
# own logged decisions, state commits with the run (never in a dry run or a
# failed run), the same outcomes are never applied twice, and over 30 nights
# the bandit's regret is below a fixed 50/50 split's on every seed.
cp "$MERX_SRC/examples/bandit_sim.lua" .
night() { # night SEED N [extra args]: one night of the simulation in store st-SEED
  local seed=$1 n=$2; shift 2
  local prev=()
  [ "$n" -gt 1 ] && prev=(--set "prev=s$seed/n$((n - 1))/outcomes.csv")
  "$MERX" run bandit_sim.lua --store "st$seed" --now "$(date -u -d "2026-01-01 + $((n - 1)) days" +%F)" \
    --out "s$seed/n$n" --set night="$n" --set seed="$seed" --set users=100 "${prev[@]}" "$@"
}

# ---- regret after 30 nights, two seeds (scripts/bench/bandit.sh runs 10 x 1000 users);
# under the sanitizers the second seed only (the store checks below read its store)
seeds="1 2"
case "$(ldd "$MERX" 2>/dev/null || true)" in *libasan*) seeds=2 ;; esac
for seed in $seeds; do
  for n in $(seq 1 30); do night "$seed" "$n" >>"regret$seed.txt" 2>>"log$seed.txt"; done
  awk -v s="$seed" '{ r += $4; sp += $6 }
    END { printf "seed %d: bandit regret %.2f, 50/50 split %.2f\n", s, r, sp; if (!(r < 0.5 * sp)) exit 1 }' \
    "regret$seed.txt"
done

db=st2/ledger.db
[ "$(sqlite3 $db 'pragma user_version')" = 3 ]
# 29 nights of outcomes applied, one log row per scored run, every decision once
[ "$(sqlite3 $db "select count(*) from bandit_updates where bandit = 'sim'")" = 29 ]
[ "$(sqlite3 $db "select sum(decisions) from bandit_updates")" = 2900 ]
[ "$(sqlite3 $db "select count(distinct source) from bandit_updates")" = 29 ]
[ "$(sqlite3 $db "select count(*) from bandit_updates u join commits c on c.run_id = u.source")" = 29 ]
# no discount: the posteriors are the prior plus the counts, exactly
[ "$(sqlite3 $db "select sum(alpha + beta - 2) from bandit_arms")" = 2900.0 ]
[ "$(sqlite3 $db "select sum(alpha - 1) from bandit_arms")" = \
  "$(sqlite3 $db "select sum(conversions) from bandit_updates").0" ]
[ "$(sqlite3 $db "select count(*) from bandit_arms")" = 4 ]
expect_contains log2.txt "night 30: applied 100 decisions of 1 runs"

state() { sqlite3 "$db" 'select * from bandit_arms; select * from bandit_updates'; }
state >before.txt
# ---- a dry run updates in memory only
expect_exit 0 night 2 31 --dry-run
expect_contains err.txt "applied 100 decisions of 1 runs"
state | cmp - before.txt
# ---- a failing run commits nothing, state included
cat >fail.lua <<'LUA'
local b = merx.bandit{ name = "sim", offers = { "A", "B" }, segments = { "new", "loyal" } }
local r = b:update{ outcomes = {} }
assert(r.batches == 1 and r.decisions == 100, r.decisions)
error("after the update")
LUA
expect_exit 1 "$MERX" run fail.lua --store st2 --now 2026-02-01 --out f
expect_contains err.txt "fail.lua:4: after the update"
state | cmp - before.txt
# ---- night 31 applies night 30; the same outcomes again find nothing pending
expect_exit 0 night 2 31
expect_contains err.txt "applied 100 decisions of 1 runs"
[ "$(sqlite3 $db "select count(*) from bandit_updates")" = 30 ]
cat >again.lua <<'LUA'
local b = merx.bandit{ name = "sim", offers = { "A", "B" }, segments = { "new", "loyal" } }
local t, n = merx.data.read("s2/n30/outcomes.csv", { types = { converted = "integer" } })
local o = {}
for i = 1, n do o[t.user[i]] = t.converted[i] end
-- night 30's run was applied by night 31; night 31's own run is excluded by runs=
local r = b:update{ outcomes = o, runs = { merx.params.run30 } }
print("batches " .. r.batches .. " decisions " .. r.decisions)
-- rows with a source already logged are refused
b:update{ source = merx.params.run30, rows = { { segment = "new", offer = "A", converted = 1 } } }
LUA
run30=$(sqlite3 $db "select distinct run_id from decisions where run_id in (select run_id from commits) order by time desc limit 1 offset 1")
expect_exit 1 "$MERX" run again.lua --store st2 --now 2026-02-02 --out g --set run30="$run30"
expect_contains out.txt "batches 0 decisions 0"
expect_contains err.txt "again.lua:9: bandit:update: the outcomes of '$run30' were already applied"
[ "$(sqlite3 $db "select count(*) from bandit_updates")" = 30 ]

# ---- a discount forgets: with d = 0.5 an arm's evidence is at most 2 nights' worth
for n in 1 2 3 4 5 6; do night 3 "$n" --set discount=0.5 >/dev/null 2>&1; done
sqlite3 st3/ledger.db "select max(alpha + beta - 2) from bandit_arms" | awk '{ exit !($1 < 2 * 50 + 1e-9) }'

# ---- merx bandit show: the posteriors in the store
expect_exit 0 "$MERX" bandit show --store st2 sim
[ "$(wc -l <out.txt)" = 5 ]
head -1 out.txt | grep -qx $'bandit\tsegment\toffer\talpha\tbeta\tmean\tsd\tevidence\tupdated'
expect_exit 0 "$MERX" bandit show --store st2 sim --json
python3 - "$(sqlite3 $db "select sum(alpha) from bandit_arms")" <<'PY'
import json, sys
d = json.load(open("out.txt"))
assert d["updates"] == 30 and len(d["arms"]) == 4, d
assert abs(sum(a["alpha"] for a in d["arms"]) - float(sys.argv[1])) < 1e-9
best = {a["segment"]: max((x for x in d["arms"] if x["segment"] == a["segment"]), key=lambda x: x["mean"])["offer"] for a in d["arms"]}
assert best == {"new": "B", "loyal": "A"}, best   # the planted best offers
PY
MERX_STORE=st2 expect_exit 0 "$MERX" bandit show
expect_exit 1 "$MERX" bandit show --store st2 nope
expect_contains err.txt "no bandit 'nope' in this store"
expect_exit 1 "$MERX" bandit show --store empty
expect_contains err.txt "no ledger in this store yet"
expect_exit 2 "$MERX" bandit shwo
expect_contains err.txt "did you mean 'show'"
expect_exit 2 env -u MERX_STORE "$MERX" bandit show

# ---- --shard: every shard applies the update in memory, only shard 0 writes it
night 4 1 >/dev/null 2>&1
for k in 1 0; do
  expect_exit 0 "$MERX" run bandit_sim.lua --store st4 --now 2026-01-02 --out "sh$k" --set night=2 \
    --set seed=4 --set users=100 --set prev=s4/n1/outcomes.csv --shard "$k/2"
  expect_contains err.txt "applied 100 decisions of 1 runs"
  grep -o 'applied.*' err.txt >"applied$k.txt"
done
cmp applied0.txt applied1.txt # the same outcomes, conversions included, in both shards
[ "$(sqlite3 st4/ledger.db "select count(*) from bandit_updates")" = 1 ]
