#!/usr/bin/env bash
# Car-parts benchmark (issue 6, BENCHMARKS.md section 5): 2,674 monthly
# intermittent series (Hyndman's expsmooth `carparts`), last 6 observed months
# of each series held out. For Croston, SBA, TSB and auto:
#   - MASE of the 6-month forecast (scale: in-sample naive MAE; series whose
#     training part has no change are left out of the mean and counted),
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
if ! "$MERX" forecast --help >/dev/null 2>&1; then
  echo "carparts bench: this merx has no 'forecast' command (the forecasting module is not merged)" >&2
  exit 1
fi
LT="${1:-1}"
SERVICE="${2:-0.95}"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
/usr/bin/python3 "$ROOT/scripts/bench/carparts.py" split "$DATA" "$TMP" "$LT"
H=$((6 + LT))   # the last test month's level needs forecasts up to 6 + L + R - 1
printf '%-8s %8s %10s %12s %14s %10s %10s\n' method MASE fill_rate cycle_service avg_on_hand stockouts seconds
for m in croston sba tsb auto; do
  t0=$(date +%s.%N)
  "$MERX" forecast --data "$TMP/train.csv" --format wide --horizon "$H" --method "$m" \
    --levels 80,95 --nonneg --out "$TMP/fc_$m.csv" --json > "$TMP/fc_$m.json"
  t1=$(date +%s.%N)
  "$MERX" plan --stock "$TMP/stock.csv" --forecast "$TMP/fc_$m.csv" --out "$TMP/orders_$m.csv" \
    --actuals "$TMP/test.csv" --replay-start target --service "$SERVICE" --service-type fill \
    --json > "$TMP/plan_$m.json"
  /usr/bin/python3 "$ROOT/scripts/bench/carparts.py" report "$TMP" "$m" "$t0" "$t1"
done
echo "data: $DATA (last 6 observed months of each series held out); lead time $LT month(s),"
echo "review every month, fill-rate target $SERVICE; stock = mean units on hand per part-month."
