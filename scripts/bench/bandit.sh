#!/usr/bin/env bash
# Bandit benchmark (issue #16, adaptive offers): merx.bandit's nightly loop
# against scripts/sim/campaign_sim.py's population with a planted per-segment
# uplift of two offers (coupon, email; the simulator's default truth), for
# NIGHTS nights and SEEDS seeds. Each night is one `merx run --store`:
# update the posteriors from last night's outcomes (the bandit's own logged
# decisions joined to the simulator's outcome table), then one Thompson draw
# per customer; the simulator then draws who converts. Regret per customer
# and night = best uplift in the customer's segment - uplift of the offer
# given (the base rate cancels). The anchor is a fixed 50/50 split of the two
# offers: its expected regret, best - mean uplift, per customer and night.
#
#   scripts/bench/bandit.sh [SEEDS] [NIGHTS] [DISCOUNT]   (default 10 30 1)
#
# Customers: the Online Retail customers of ../shared/data (4,338), else the
# 1,000 of examples/data/purchases.csv.gz (MERX_SHARED_DATA overrides ../shared/data).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seeds="${1:-10}"
nights="${2:-30}"
discount="${3:-1}"
merx="$root/build/merx"
sim="$root/scripts/sim/campaign_sim.py"
# Debian's python3 (the simulator needs only the standard library); a pyenv
# shim costs seconds per start on a loaded machine, 300 starts here
py="${PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3 )}"
if [ ! -x "$merx" ]; then
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build" -j2 >/dev/null
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
retail="${MERX_SHARED_DATA:-$root/../shared/data}/online-retail/online-retail.csv.gz"
[ -f "$retail" ] || retail="$root/examples/data/purchases.csv.gz"
cp "$root/scripts/bench/bandit_night.lua" "$work/"
"$py" "$sim" customers --retail "$retail" --out "$work/customers.csv" >/dev/null
"$py" "$sim" truth --out "$work/truth.json" >/dev/null
ncust=$(($(wc -l <"$work/customers.csv") - 1))

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
echo "blas: $("$merx" version | sed -n 's/^  openblas *//p') (not used here)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git -C "$root" rev-parse --short HEAD) $(date -u +%Y-%m-%dT%H:%MZ)"
echo "customers: $ncust from $(basename "$retail"), $nights nights, $seeds seeds, discount $discount"

play() { # play SEED: NIGHTS nights of the bandit in $work/bandit-SEED
  local seed=$1 dir="$work/bandit-$1"
  mkdir -p "$dir"
  for n in $(seq 1 "$nights"); do
    local prev=()
    [ "$n" -gt 1 ] && prev=(--set "prev=bandit-$seed/n$((n - 1))/outcomes.csv")
    "$merx" run "$work/bandit_night.lua" --store "$dir/store" \
      --now "$(date -u -d "2026-01-01 + $((n - 1)) days" +%F)" --out "$dir/n$n" \
      --set customers=customers.csv --set night="$n" --set seed="$seed" \
      --set discount="$discount" "${prev[@]}" >/dev/null 2>>"$dir/log.txt"
    "$py" "$sim" outcomes --customers "$work/customers.csv" --assignments "$dir/n$n/offer.csv" \
      --arm-column offer --truth "$work/truth.json" --seed $((seed * 1000 + n)) \
      --out "$dir/n$n/outcomes.csv" >/dev/null
  done
}

start=$(date +%s.%N)
for seed in $(seq 1 "$seeds"); do play "$seed"; done
end=$(date +%s.%N)
echo
# Regret per customer and night: best uplift of the segment - uplift of the
# offer given (expected, so the simulator's draws add no noise to it). The
# 50/50 split's is its expectation: best - mean of the two offers' uplifts.
"$py" - "$work" "$seeds" "$nights" "$start" "$end" <<'PY'
import csv, json, os, sys
work, seeds, nights = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
truth = json.load(open(os.path.join(work, "truth.json")))
up = truth["uplift"]
seg = {r["user"]: r["segment"] for r in csv.DictReader(open(os.path.join(work, "customers.csv")))}
best = {s: max(up[o][s] for o in up) for s in truth["base"]}
split = nights * sum(best[s] - sum(up[o][s] for o in up) / len(up) for s in seg.values())
print("| seed | bandit regret | 50/50 split regret | bandit / split | last night's share of best offers |")
print("| --- | --- | --- | --- | --- |")
wins, total = 0, 0.0
for seed in range(1, seeds + 1):
    r = 0.0
    for n in range(1, nights + 1):
        rows = list(csv.DictReader(open(os.path.join(work, f"bandit-{seed}", f"n{n}", "offer.csv"))))
        r += sum(best[seg[x["user"]]] - up[x["offer"]][seg[x["user"]]] for x in rows)
    good = sum(up[x["offer"]][seg[x["user"]]] == best[seg[x["user"]]] for x in rows) / len(rows)
    wins += r < split
    total += r
    print(f"| {seed} | {r:.1f} | {split:.1f} | {r / split:.3f} | {good:.3f} |")
print(f"\nbandit below the split on {wins} of {seeds} seeds; mean regret {total / seeds:.1f} vs "
      f"{split:.1f} ({total / seeds / split:.3f}); {float(sys.argv[5]) - float(sys.argv[4]):.0f} s wall")
open(os.path.join(work, "verdict"), "w").write(f"{wins} {seeds} {total / seeds} {split}\n")
PY
last="$work/bandit-$seeds/store"
echo
echo "posteriors after night $nights (seed $seeds), merx bandit show:"
"$merx" bandit show --store "$last" bench | column -t -s $'\t'
# the acceptance: below the split on at least 9 of 10 seeds (scaled) and on average
read -r wins n mean split <"$work/verdict"
awk -v w="$wins" -v n="$n" -v b="$mean" -v s="$split" 'BEGIN { exit !(w >= 0.9 * n && b < s) }'
