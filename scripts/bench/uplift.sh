#!/usr/bin/env bash
# Uplift models (BENCHMARKS.md section 6; issue #16).
#
# 1. Hillstrom (../shared/data/hillstrom, 64,000 customers): for each e-mail
#    arm against `No E-Mail` and the outcomes visit and conversion, a 70/30
#    split per arm (seed SEED, default 20261203; scripts/bench/uplift_bench.py
#    split), each learner trained on the 70% (`merx uplift train --test-share
#    0`) and evaluated on the 30% (`merx uplift eval --model`), next to a
#    scikit-learn two-model logistic baseline (C = 1, the same objective)
#    evaluated by the same `merx uplift eval` on the same rows: Qini
#    coefficient and AUUC gain over random with 95% bootstrap intervals
#    (B = 200). Features: recency, history, mens, womens, newbie (numeric),
#    zip_code, channel (categorical).
# 2. The campaign simulator (scripts/sim/campaign_sim.py) over the Online
#    Retail customers, planted per-segment uplift of a coupon (sure things:
#    champions, high response and uplift -0.01; persuadables: at_risk,
#    regular). For SEEDS seeds: a 50/50 coupon test campaign, a T-learner on
#    it, then a budget of 20% of the customers (coupon cost 1) allocated by
#    `merx allocate` with value = uplift score vs value = response score
#    (p_treated, the predicted conversion under the coupon); planted
#    incremental conversions per unit of budget of each plan.
# Needs python3-sklearn (installed here if missing; benchmark only).
# Usage: scripts/bench/uplift.sh   [env: SEED=20261203 SEEDS="1 2 3 4 5"]
set -euo pipefail
ROOT="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
source "$ROOT/scripts/lib.sh"
SHARED="$ROOT/../shared/data"
[ -d "$SHARED" ] || SHARED="$(dirname "$(git -C "$ROOT" rev-parse --git-common-dir)")/../shared/data"
HILL="$SHARED/hillstrom/hillstrom.csv.gz"
RETAIL="$SHARED/online-retail/online-retail.csv.gz"
for f in "$HILL" "$RETAIL"; do
  [ -f "$f" ] || { echo "uplift bench: $f is missing (needs ../shared/data); nothing measured" >&2; exit 1; }
done
SEED="${SEED:-20261203}"
SEEDS="${SEEDS:-1 2 3 4 5}"
# Debian's interpreter: python3-sklearn installs there (python3 may be another one)
SKPY=/usr/bin/python3
"$SKPY" -c "import sklearn, numpy" 2>/dev/null || merx_install_packages python3-sklearn
MERX="$ROOT/build/merx"
[ -x "$MERX" ] || merx_build "$ROOT/build" -DCMAKE_BUILD_TYPE=Release
PY="$ROOT/scripts/bench/uplift_bench.py"
SIM="$ROOT/scripts/sim/campaign_sim.py"
work="$(mktemp -d "${TMPDIR:-/tmp}/merx-bench-uplift-XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "BLAS: $("$MERX" version | grep -m1 openblas | sed 's/^ *openblas *//')"
echo
echo "== 1. Hillstrom: 70/30 split per arm, seed $SEED; held-out Qini and AUUC gain, 95% bootstrap (B=200)"
NUM="recency,history,mens,womens,newbie"
CAT="zip_code,channel"
printf "%-14s %-10s %-12s %26s %26s %8s\n" arm outcome model "qini [95%]" "auuc-random [95%]" seconds
for arm in "Womens E-Mail" "Mens E-Mail"; do
  python3 "$PY" split --data "$HILL" --arms "$arm,No E-Mail" --seed "$SEED" --out-dir . > split.json
  for y in visit conversion; do
    cols="treatment=segment,outcome=$y"
    for l in t transformed; do
      t0=$(date +%s.%N)
      "$MERX" uplift train --data train.csv --columns "$cols" --treatment "$arm" --control "No E-Mail" \
        --features "$NUM,$CAT" --learner "$l" --test-share 0 --out "$l.mxu" > /dev/null
      t1=$(date +%s.%N)
      "$MERX" uplift eval --data test.csv --columns "$cols" --treatment "$arm" --control "No E-Mail" \
        --model "$l.mxu" --seed "$SEED" --json > "eval_$l.json"
      echo "$(echo "$t1 - $t0" | bc)" > "time_$l.txt"
    done
    t0=$(date +%s.%N)
    "$SKPY" "$PY" sklearn --train train.csv --test test.csv --treatment segment --treated "$arm" \
      --control "No E-Mail" --outcome "$y" --numeric "$NUM" --categorical "$CAT" --out test_sk.csv
    t1=$(date +%s.%N)
    echo "$(echo "$t1 - $t0" | bc)" > time_sk.txt
    "$MERX" uplift eval --data test_sk.csv --columns "$cols,score=sk_uplift" --treatment "$arm" \
      --control "No E-Mail" --seed "$SEED" --json > eval_sk.json
    for m in t transformed sk; do
      python3 - "$arm" "$y" "$m" <<'EOF'
import json, sys
arm, y, m = sys.argv[1:]
r = json.load(open(f"eval_{m}.json"))
t = float(open(f"time_{m}.txt").read())
name = {"t": "merx T", "transformed": "merx TO", "sk": "sklearn 2xLR"}[m]
q = f"{r['qini']:.5f} [{r['qini_lo95']:.5f}, {r['qini_hi95']:.5f}]"
g = f"{r['auuc'] - r['random_area']:.5f} [{r['auuc_gain_lo95']:.5f}, {r['auuc_gain_hi95']:.5f}]"
beats = "beats random" if r["qini_lo95"] > 0 else "n.s."
print(f"{arm[:14]:<14} {y:<10} {name:<12} {q:>26} {g:>26} {t:8.2f}  {beats}")
EOF
    done
  done
done
echo "(test rows: $(python3 -c "import json; print(json.load(open('split.json'))['test'])") for the last arm; merx seconds = train only, sklearn seconds = both fits + scoring in Python)"

echo
echo "== 2. Simulator: allocation by uplift vs by response score, budget 20% of customers, coupon cost 1"
python3 "$SIM" customers --retail "$RETAIL" --out customers.csv
python3 "$SIM" truth --out truth.json
n=$(($(wc -l < customers.csv) - 1))
budget=$((n / 5))
printf "%-5s %-22s %9s %7s %12s %10s  %s\n" seed plan targeted spend incremental per_budget "targeted by segment"
for s in $SEEDS; do
  python3 "$SIM" assign --customers customers.csv --arms coupon=0.5,control=0.5 --seed "$s" --out arms.csv
  python3 "$SIM" outcomes --customers customers.csv --assignments arms.csv --truth truth.json --seed "$s" \
    --out outcomes.csv
  python3 "$PY" join --customers customers.csv --outcomes outcomes.csv --out campaign.csv
  "$MERX" uplift train --data campaign.csv --columns treatment=arm,outcome=conversion,user=user \
    --treatment coupon --control control --features segment,recency_days,frequency,monetary \
    --seed "$s" --out sim.mxu --json > train_sim.json
  "$MERX" uplift score --model sim.mxu --data customers.csv --out scores.csv > /dev/null
  for v in uplift p_treated; do
    python3 "$PY" candidates --scores scores.csv --value "$v" --out "cand_$v.csv"
    "$MERX" allocate --data "cand_$v.csv" --columns user=user,offer=offer,value=value,cost=cost \
      --budget "$budget" --out "plan_$v.csv" > /dev/null 2> allocate.log
    python3 "$PY" incremental --plan "plan_$v.csv" --customers customers.csv --truth truth.json \
      --arm coupon > "inc_$v.json"
  done
  python3 - "$s" <<'EOF'
import json, sys
s = sys.argv[1]
tr = json.load(open("train_sim.json"))
for v, name in (("uplift", "uplift-driven"), ("p_treated", "response-driven")):
    r = json.load(open(f"inc_{v}.json"))
    segs = " ".join(f"{k}={c}" for k, c in sorted(r["by_segment"].items()))
    print(f"{s:<5} {name:<22} {r['targeted']:9d} {r['spend']:7.0f} {r['incremental']:12.2f} {r['per_budget']:10.4f}  {segs}")
u = json.load(open("inc_uplift.json"))["per_budget"]
p = json.load(open("inc_p_treated.json"))["per_budget"]
print(f"      held-out qini of the T-learner {tr['qini']:.4f} [{tr['qini_lo95']:.4f}, {tr['qini_hi95']:.4f}]; "
      f"uplift-driven {'higher' if u > p else 'NOT higher'} per unit of budget ({u:.4f} vs {p:.4f})")
with open("summary.txt", "a") as f:
    f.write(f"{u} {p}\n")
EOF
done
python3 - <<'EOF'
rows = [tuple(map(float, l.split())) for l in open("summary.txt")]
u = sum(r[0] for r in rows) / len(rows)
p = sum(r[1] for r in rows) / len(rows)
wins = sum(r[0] > r[1] for r in rows)
ratio = f"{u / p:.1f}x" if p > 0 else "the response-driven plan loses conversions"
print(f"mean incremental conversions per unit of budget: uplift-driven {u:.4f}, response-driven {p:.4f} "
      f"({ratio}); uplift-driven higher in {wins} of {len(rows)} seeds")
EOF
