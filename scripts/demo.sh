#!/usr/bin/env bash
# The main job on the bundled example data: installs missing Debian packages,
# builds merx (Release) and runs the pipeline on examples/data, writing every
# output under out/demo/.
source "$(dirname "$0")/lib.sh"
merx_install_packages "${MERX_PACKAGES[@]}"
cd "$MERX_ROOT"
merx_build build -DCMAKE_BUILD_TYPE=Release -DMERX_SANITIZE=OFF
# MERX_WRAP runs every merx command under a wrapper (scripts/valgrind_demo.sh
# sets it to valgrind); word splitting of it is intended.
# shellcheck disable=SC2206
B=(${MERX_WRAP:-} "$MERX_ROOT/build/merx")
D="$MERX_ROOT/examples/data"
OUT="$MERX_ROOT/out/demo"
rm -rf "$OUT"; mkdir -p "$OUT"

step() { printf '\n==> %s\n' "$*" >&2; }

step "1. What is in the example purchases? (merx data stats)"
"${B[@]}" data stats --data "$D/purchases.csv.gz" \
  --columns user=CustomerID,item=StockCode,value=Quantity,time=InvoiceDate --top 5

step "2. Train an implicit-feedback model on the purchases (merx train --algo ials)"
"${B[@]}" train --data "$D/purchases.csv.gz" --columns user=CustomerID,item=StockCode \
  --algo ials --out "$OUT/shop.mxm" --json

step "3. Top-5 products for every customer, excluding what they bought (merx recommend --all)"
"${B[@]}" recommend --model "$OUT/shop.mxm" --all --k 5 --out "$OUT/recommendations.csv" --json
head -6 "$OUT/recommendations.csv" >&2

step "4. Run the spring campaign script: segments, recommendations, coupons under a budget (merx run)"
"${B[@]}" run "$MERX_ROOT/examples/spring_campaign.lua" --now 2011-12-10 \
  --set model="$OUT/shop.mxm" --set budget=400 --out "$OUT"

step "5. Forecast 28 days of demand for the 40 best sellers (merx forecast)"
"${B[@]}" forecast --data "$D/daily_sales.csv" --format long \
  --columns id=StockCode,time=date,value=quantity --horizon 28 --nonneg \
  --out "$OUT/forecast.csv" --json

step "6. Replenishment: the planner's rule over stock and sales (merx run replenish.lua)"
"${B[@]}" run "$MERX_ROOT/examples/replenish.lua" --now 2011-12-10 --out "$OUT"

step "7. When do the scheduled jobs fire next? (merx schedule --next)"
"${B[@]}" schedule "$MERX_ROOT/examples/schedule.lua" --next 2 --from 2026-03-28T00:00:00Z

step "Done. Outputs are in $OUT:"
ls -l "$OUT" >&2
cat >&2 <<MSG
  shop.mxm             the trained model           (merx recommend --model ... --user 12347.0)
  recommendations.csv  user,rank,item,score
  offer.csv            the campaign's coupons, one row per customer, with the reason
  order.csv, alert.csv the replenishment orders and stock-out alerts
  decisions.db         SQLite log of every committed decision (merx explain --log ... --user U)
  forecast.csv         id,h,time,forecast,lo80,hi80,lo95,hi95,method
MSG
