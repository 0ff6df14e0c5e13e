#!/usr/bin/env bash
# Car-parts benchmark (issue 6, BENCHMARKS.md section 5): 2,674 monthly
# intermittent series (Hyndman's expsmooth `carparts`), last 6 observed months
# of each series held out. For Croston, SBA, TSB and auto:
#   - MASE of the 6-month forecast (scale: in-sample naive MAE; series whose
#     training part has no change are left out of the mean and counted),
#     forecasts made by `merx plan --history` (the forecasting module) and
#     written with --forecast-out,
#   - the inventory outcome when the forecast drives a monthly order-up-to
#     policy with a 95% fill-rate target, lead time 1 month: `merx plan`
#     replays it against the held-out demand (--actuals) and reports the
#     pooled fill rate, cycle service and average stock on hand.
# Usage: scripts/bench/carparts.sh [lead_time] [service]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/../shared/data/carparts/carparts.csv"
if [ ! -f "$DATA" ]; then
  echo "carparts bench: $DATA is missing (../shared/data not present); nothing to measure" >&2
  exit 0
fi
source "$ROOT/scripts/lib.sh"
merx_install_packages python3
[ -x "$ROOT/build/merx" ] || merx_build "$ROOT/build" -DCMAKE_BUILD_TYPE=Release
MERX="$ROOT/build/merx"
LT="${1:-1}"
SERVICE="${2:-0.95}"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
/usr/bin/python3 "$ROOT/scripts/bench/carparts.py" split "$DATA" "$TMP" "$LT"
H=$((6 + LT))   # the last test month's level needs forecasts up to 6 + L + R - 1
printf '%-8s %-7s %8s %10s %12s %12s %10s %8s\n' method ltd MASE fill_rate cycle_serv avg_on_hand stockouts seconds
for m in croston sba tsb auto; do
  for dist in normal negbin; do
    t0=$(date +%s.%N)
    "$MERX" plan --stock "$TMP/stock.csv" --history "$TMP/train.csv" --format wide \
      --method "$m" --horizon "$H" --forecast-out "$TMP/fc_$m.csv" --out "$TMP/orders_$m.csv" \
      --actuals "$TMP/test.csv" --replay-start target --service "$SERVICE" --service-type fill \
      --dist "$dist" --json > "$TMP/plan_$m.json"
    t1=$(date +%s.%N)
    /usr/bin/python3 "$ROOT/scripts/bench/carparts.py" report "$TMP" "$m" "$t0" "$t1" "$dist"
  done
done
echo "data: $DATA (last 6 observed months of each series held out); lead time $LT month(s),"
echo "review every month, fill-rate target $SERVICE; ltd = lead-time demand model of merx plan"
echo "(normal: sd from the forecast; negbin: negative binomial with its mean and variance);"
echo "avg_on_hand = mean units on hand per part-month; seconds = forecast + plan + replay."
