#!/usr/bin/env bash
# Rolling-origin forecast benchmark on Online Retail best sellers (issue 22):
# is `auto` at least as accurate (WAPE, MASE) as the best single method on
# e-commerce data? Every choice (auto's method, the ETS form) is made on the
# history before each origin (merx backtest --refit every).
#   scripts/bench/forecast_retail.sh
# 1. weekly: the top-100 products from the week of their first sale
#    (examples/data/retail_top100_weekly.csv), h = 4, 6 origins 2 weeks apart.
# 2. daily: the same 100 products per day from their first sale, season 7,
#    h = 14, 6 origins 7 days apart (built here from the full file).
# Environment: MERX (binary, default build/merx), THREADS (2).
set -euo pipefail
ROOT="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
DATA="${MERX_SHARED_DATA:-$ROOT/../shared/data}"
MERX="${MERX:-$ROOT/build/merx}"
THREADS="${THREADS:-2}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/merx-bench-retail-XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
[ -x "$MERX" ] || { echo "build merx first (cmake --build build), or set MERX=" >&2; exit 1; }
SRC="$DATA/online-retail/online-retail.csv.gz"
[ -f "$SRC" ] || { echo "$SRC not found (../shared/data next to the repo, or MERX_SHARED_DATA)" >&2; exit 1; }
python3 - "$SRC" "$ROOT/examples/data/retail_top100_weekly.csv" "$TMP/daily.csv" <<'PY'
import csv, datetime, gzip, sys
from collections import defaultdict
src, weekly, out = sys.argv[1:4]
ids = [r[0] for r in csv.reader(open(weekly))]
keep, day = set(ids), defaultdict(lambda: defaultdict(float))
with gzip.open(src, "rt", encoding="utf-8", newline="") as f:
    rd = csv.reader(f)
    ix = {h: i for i, h in enumerate(next(rd))}
    for r in rd:
        q = float(r[ix["Quantity"]])
        if r[ix["StockCode"]] in keep and q > 0 and not r[ix["InvoiceNo"]].startswith("C"):
            day[r[ix["StockCode"]]][datetime.date.fromisoformat(r[ix["InvoiceDate"]][:10])] += q
last = max(max(v) for v in day.values())
with open(out, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    for code in ids:
        t, vals = min(day[code]), []
        while t <= last:
            vals.append("%g" % day[code].get(t, 0.0))
            t += datetime.timedelta(days=1)
        w.writerow([code] + vals)
PY
METHODS=${METHODS:-naive,snaive,ses,holt,damped,theta,ets,croston,sba,tsb,auto}
echo "merx Online Retail rolling-origin benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), threads $THREADS"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
bench() { # title data horizon season origins step
  echo
  echo "## $1: merx backtest --data $2 --format wide --no-header --horizon $3 --season $4 --origins $5 --step $6 --methods $METHODS --nonneg"
  echo
  /usr/bin/time -f "%U %S" -o "$TMP/time" "$MERX" backtest --data "$2" --format wide --no-header \
    --horizon "$3" --season "$4" --origins "$5" --step "$6" --methods "$METHODS" --nonneg \
    --threads "$THREADS" --json > "$TMP/bt.json"
  python3 - "$TMP/bt.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
ms = j["methods"]
print("| method | WAPE | MASE | sMAPE | cov80 | cov95 | series-origins |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for m in ms:
    print("| %s | %.4f | %.4f | %.2f | %.3f | %.3f | %d |" % (m["method"], m["wape"], m["mase"], m["smape"],
          m["coverage"]["80"], m["coverage"]["95"], m["evaluated"]))
single = [m for m in ms if m["method"] != "auto"]
a = [m for m in ms if m["method"] == "auto"][0]
bw = min(single, key=lambda m: m["wape"]); bm = min(single, key=lambda m: m["mase"])
print()
print("auto WAPE %.4f vs best single %s %.4f; auto MASE %.4f vs best single %s %.4f" %
      (a["wape"], bw["method"], bw["wape"], a["mase"], bm["method"], bm["mase"]))
PY
  read -r u s < "$TMP/time"
  echo "CPU $(awk -v a="$u" -v b="$s" 'BEGIN { printf "%.2f", a + b }') s"
}
bench "weekly top-100" "$ROOT/examples/data/retail_top100_weekly.csv" 4 1 6 2
bench "daily top-100" "$TMP/daily.csv" 14 7 6 7
