# merx measure: the Hillstrom sample as a per-user table (means against an
# independent numpy/scipy computation, printed here as constants), event
# outcomes joined to assignments over a window, the reports, and bad input.
H="$MERX_SRC/examples/data/hillstrom_sample.csv.gz"
M=(--metric visit --metric conversion --metric spend)

expect_exit 0 "$MERX" measure --outcomes "$H" --columns arm=segment "${M[@]}" --control "No E-Mail" \
  --segment zip_code --json --out long.csv --html report.html
cp out.txt h.json
python3 - h.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert set(["arms", "uplift", "srm_p_value"]) <= set(r), r.keys()
arms = {a["arm"]: a for a in r["arms"]}
# means of the sample: math.fsum(values) / n (the exactly rounded sum; numpy's
# pairwise mean is 1 ulp off for Womens spend)
want = {"Mens E-Mail": (1320, 0.19696969696969696, 0.0098484848484848477, 1.2258712121212121),
        "Womens E-Mail": (1406, 0.13940256045519203, 0.0071123755334281651, 0.85990042674253198),
        "No E-Mail": (1274, 0.11773940345368916, 0.0070643642072213504, 0.97908948194662493)}
for arm, (n, v, c, s) in want.items():
    a = arms[arm]
    assert a["users"] == n, a
    assert (a["means"]["visit"], a["means"]["conversion"], a["means"]["spend"]) == (v, c, s), a
up = {(u["arm"], u["metric"]): u for u in r["uplift"]}
assert len(up) == 6
for u in r["uplift"]:
    assert set(["arm", "metric", "diff", "lo95", "hi95", "rel", "p_value"]) <= set(u)
    assert u["method"] == ("welch" if u["metric"] == "spend" else "newcombe"), u
# scipy: Welch interval of the spend difference, Mens vs No E-Mail
s = up[("Mens E-Mail", "spend")]
for got, ref in ((s["diff"], 0.24678173017458715), (s["lo95"], -0.95661650466750703),
                 (s["hi95"], 1.4501799650166813)):
    assert abs(got - ref) < 1e-9, (got, ref)
assert abs(r["srm_p_value"] - 0.03449296116374069) < 1e-12  # scipy.stats.chisquare
segs = {x["segment"] for x in r["segments"]}
assert segs == {"Urban", "Surburban", "Rural"}, segs
PY
head -1 long.csv | grep -q '^segment,arm,metric,users,mean,lo95,hi95,diff,diff_lo95,diff_hi95,rel'
[ "$(wc -l < long.csv)" -eq $((1 + 3 * 3 + 3 * 3 * 3)) ]
expect_contains report.html "<svg"
expect_contains report.html "Mens E-Mail"
if grep -qi "nan" report.html long.csv; then echo "FAIL: nan printed" >&2; exit 1; fi
[ "$(grep -c '<svg' report.html)" -eq 3 ]

# text output by default, means printed
expect_exit 0 "$MERX" measure --outcomes "$H" --columns arm=segment --metric visit --control "No E-Mail"
expect_contains out.txt "uplift vs 'No E-Mail'"

# CUPED with the past-year spend as covariate: smaller interval, same data
expect_exit 0 "$MERX" measure --outcomes "$H" --columns arm=segment --metric spend --control "No E-Mail" \
  --covariate history --json
python3 -c '
import json,sys; r=json.load(open("out.txt"))
for u in r["uplift"]:
    c=u["cuped"]; assert c["variance_reduction"] >= 0 and c["hi95"]-c["lo95"] <= u["hi95"]-u["lo95"]+1e-12, u
'

# events joined to assignments over a window
cat > units.csv <<'CSV'
user,arm,tier
a,control,gold
b,control,gold
c,control,new
d,coupon,gold
e,coupon,new
f,coupon,new
CSV
cat > orders.csv <<'CSV'
customer,ts,amount
a,2024-03-02,10
d,2024-03-03,20
d,2024-03-05,5
e,2024-03-31,7
zz,2024-03-04,99
b,2024-02-01,50
CSV
expect_exit 0 "$MERX" measure --outcomes orders.csv --columns user=customer,time=ts,value=amount \
  --assignments units.csv --segment tier --control control --window 2024-03-01..2024-03-31 --json
expect_contains err.txt "warning: 1 outcome rows name users with no assignment"
python3 -c '
import json; r=json.load(open("out.txt"))
a={x["arm"]: x for x in r["arms"]}
assert a["control"]["means"] == {"conversion": 1/3, "revenue": 10/3, "orders": 1/3}, a
assert a["coupon"]["means"] == {"conversion": 2/3, "revenue": 32/3, "orders": 1.0}, a
assert r["unknown_outcome_rows"] == 1 and r["outside_window_rows"] == 1
'
# a window with no outcomes: stated, every user counts 0
expect_exit 0 "$MERX" measure --outcomes orders.csv --columns user=customer,time=ts,value=amount \
  --assignments units.csv --control control --window 2025-01-01..2025-01-31 --metric conversion
expect_contains err.txt "no outcome row falls in the window (6 rows outside it)"
if grep -qi "nan" out.txt; then echo "FAIL: nan printed" >&2; cat out.txt; exit 1; fi
# CUPED from a pre-period file of the same layout
cat > pre.csv <<'CSV'
customer,ts,amount
a,2024-01-02,30
d,2024-01-03,40
f,2024-01-09,3
CSV
expect_exit 0 "$MERX" measure --outcomes orders.csv --columns user=customer,time=ts,value=amount \
  --assignments units.csv --control control --pre pre.csv --metric revenue --json
expect_contains out.txt '"cuped":{'

# bad input: one line naming file, line and field; exit 1
printf 'segment,visit\nNo E-Mail,0\nMens E-Mail,x1\n' > bad.csv
expect_exit 1 "$MERX" measure --outcomes bad.csv --columns arm=segment --metric visit --control "No E-Mail"
expect_contains err.txt "bad.csv:3:2: field 'visit': not a number: 'x1'"
[ "$(wc -l < err.txt)" -eq 1 ]
expect_exit 1 "$MERX" measure --outcomes "$H" --columns arm=segment --metric visit --control "No Mail"
expect_contains err.txt "control arm 'No Mail' has no users (arms with users: Mens E-Mail, Womens E-Mail, No E-Mail)"
expect_exit 1 "$MERX" measure --outcomes "$H" --columns arm=segment --metric vistit --control "No E-Mail"
expect_contains err.txt "no column named 'vistit'"
# a control share of 0, a missing control, an unknown option: usage errors
expect_exit 2 "$MERX" measure --outcomes "$H" --columns arm=segment --metric visit --control "No E-Mail" \
  --shares "No E-Mail=0,Mens E-Mail=0.5,Womens E-Mail=0.5"
expect_contains err.txt "control arm 'No E-Mail' has share 0"
expect_exit 2 "$MERX" measure --outcomes "$H" --columns arm=segment --metric visit
expect_contains err.txt "--control is required"
expect_exit 2 "$MERX" measure --outcomes "$H" --columns arm=segment --metric visit --control x --segmnet a
expect_contains err.txt "did you mean"
expect_exit 2 "$MERX" measure --outcomes "$H" --metric visit --control x
expect_contains err.txt "where are the arms?"
# planned shares: an arm with no users is stated, its figures are null
expect_exit 0 "$MERX" measure --outcomes "$H" --columns arm=segment --metric visit --control "No E-Mail" \
  --shares "No E-Mail=1,Mens E-Mail=1,Womens E-Mail=1,SMS=1" --json
expect_contains err.txt "warning: arm 'SMS' has no users"
expect_contains out.txt '"arm":"SMS","users":0'
expect_contains out.txt '"means":{"visit":null}'
# nothing written on failure
rm -f never.csv
expect_exit 1 "$MERX" measure --outcomes bad.csv --columns arm=segment --metric visit --control "No E-Mail" --out never.csv
[ ! -e never.csv ]

# merx.measure writes its reports inside --out when the run commits
cp "$H" h.csv.gz
expect_exit 0 "$MERX" run -e 'local r = merx.measure{ outcomes = "h.csv.gz", columns = { arm = "segment" },
  metric = "visit", control = "No E-Mail", html = "r.html", out = "r.csv" }
  print(r.arms[1].means.visit)' --out rep
expect_contains rep/r.html "<svg"
expect_contains rep/r.csv "No E-Mail,visit,1274,0.11773940345368916"
expect_contains out.txt "0.1177394034536"
