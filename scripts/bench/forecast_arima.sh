#!/usr/bin/env bash
# ARIMA benchmark (issue #22): merx --method arima against R forecast::auto.arima,
# both measured in the same run.
#   scripts/bench/forecast_arima.sh
# 1. M4 Hourly (414 series, h = 48, m = 24): merx arima on all series: sMAPE,
#    MASE, OWA (vs Naive2), coverage, wall and CPU time.
# 2. The same subset for both: the first R_SERIES (default 24) M4 Hourly series,
#    merx arima --threads 1 and R auto.arima() + forecast() on one core;
#    accuracy on that subset and CPU seconds per series (R's full 414 takes
#    hours on one core: the subset is what fits a run; say so when quoting).
# 3. Online Retail top-100 weekly (examples/data/retail_top100_weekly.csv), the
#    last 8 weeks held out, m = 1 (a year of weekly data has no room for a
#    52-week season): both systems on all 100 series.
# 4. Drivers: Online Retail daily best sellers, rolling origin: ARIMA alone,
#    with the UK bank-holiday regressor (--holidays), with the observed
#    UnitPrice (--regressors) and with both (scripts/bench/forecast_drivers.py;
#    DRIVER_SERIES 10, DRIVER_ORIGINS 5 every 14 days, h = 14, the last on
#    DRIVER_LAST 2011-06-11: ten weeks from 16 April holding 5 of the year's
#    bank holidays; DRIVER_LAST=end for the data's last 14 days).
# Environment: MERX (binary, default build/merx), MERX_SHARED_DATA (default
# ../shared/data beside the repo), THREADS (2), R_SERIES (24), SKIP_R=1,
# PARTS (default "m4 subset retail drivers": which of 1, 2, 3, 4 to run).
set -euo pipefail
ROOT="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
DATA="${MERX_SHARED_DATA:-$ROOT/../shared/data}"
MERX="${MERX:-$ROOT/build/merx}"
THREADS="${THREADS:-2}"
R_SERIES="${R_SERIES:-24}"
PARTS="${PARTS:-m4 subset retail drivers}"
part() { case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
TMP="$(mktemp -d "${TMPDIR:-/tmp}/merx-bench-arima-XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
[ -x "$MERX" ] || { echo "build merx first (cmake --build build), or set MERX=" >&2; exit 1; }
if { part m4 || part subset; } && [ ! -f "$DATA/m4/Hourly-train.csv" ]; then
  echo "M4 data not found at $DATA/m4 (set MERX_SHARED_DATA)" >&2; exit 1
fi
M4="$DATA/m4"
SCORE="python3 $ROOT/scripts/bench/forecast_score.py"
RSCORE="python3 $ROOT/scripts/bench/forecast_score_retail.py"

# timed CMD...: sets WALL and CPU (user + sys seconds) of one run
timed() {
  /usr/bin/time -f "%e %U %S" -o "$TMP/time" "$@" > "$TMP/out" 2> "$TMP/err" \
    || { cat "$TMP/err" >&2; return 1; }
  read -r WALL u s < "$TMP/time"
  CPU=$(awk -v a="$u" -v b="$s" 'BEGIN { printf "%.2f", a + b }')
}

# R: auto.arima + forecast on a wide CSV; writes merx's output layout, prints CPU s
cat > "$TMP/arima.R" <<'REOF'
suppressMessages(library(forecast))
a <- commandArgs(TRUE); h <- as.integer(a[3]); m <- as.integer(a[4])
tr <- read.csv(a[1], header = as.logical(a[5]), stringsAsFactors = FALSE)
out <- file(a[2], "w")
cat("id,h,forecast,lo80,hi80,lo95,hi95,method\n", file = out)
t0 <- proc.time()
for (i in seq_len(nrow(tr))) {
  x <- as.numeric(tr[i, -1]); x <- ts(x[!is.na(x)], frequency = m)
  f <- forecast(auto.arima(x), h = h, level = c(80, 95))
  cat(sprintf("%s,%d,%.10g,%.10g,%.10g,%.10g,%.10g,arima\n", tr[i, 1], 1:h, f$mean,
              f$lower[, 1], f$upper[, 1], f$lower[, 2], f$upper[, 2]), sep = "", file = out)
}
t1 <- proc.time() - t0
close(out)
cat(t1[["user.self"]] + t1[["sys.self"]], t1[["elapsed"]], "\n")
REOF

echo "merx ARIMA benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), threads $THREADS"
"$MERX" version --json 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); print('BLAS core:', d.get('blas_core', d.get('blas', '?')))" || true
if part m4; then
echo
echo "## M4 Hourly, 414 series: merx forecast --format wide --horizon 48 --season 24 --method arima --threads $THREADS"
"$MERX" forecast --data "$M4/Hourly-train.csv" --format wide --horizon 48 --season 24 \
  --method naive2 --levels none --out "$TMP/naive2.csv" > /dev/null 2>&1
timed "$MERX" forecast --data "$M4/Hourly-train.csv" --format wide --horizon 48 --season 24 \
  --method arima --threads "$THREADS" --out "$TMP/arima.csv"
read -r sm ms owa c80 c95 <<< "$($SCORE "$M4/Hourly-train.csv" "$M4/Hourly-test.csv" 24 "$TMP/arima.csv" "$TMP/naive2.csv")"
echo
echo "| system | series | sMAPE | MASE | OWA | cov80 | cov95 | wall s | CPU s |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
echo "| merx arima | 414 | $sm | $ms | $owa | $c80 | $c95 | $WALL | $CPU |"
echo
echo "M4 official ARIMA (auto.arima) on Hourly: sMAPE 13.980, MASE 0.943, OWA ~0.577."
fi

if part subset; then
echo
echo "## The same subset for both: the first $R_SERIES M4 Hourly series, one core each"
python3 - "$M4" "$TMP" "$R_SERIES" <<'PY'
import sys
m4, tmp, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
for part in ("train", "test"):
    lines = open("%s/Hourly-%s.csv" % (m4, part)).read().splitlines()
    open("%s/sub-%s.csv" % (tmp, part), "w").write("\n".join(lines[:k + 1]) + "\n")
PY
"$MERX" forecast --data "$TMP/sub-train.csv" --format wide --horizon 48 --season 24 \
  --method naive2 --levels none --out "$TMP/sub-naive2.csv" > /dev/null 2>&1
timed "$MERX" forecast --data "$TMP/sub-train.csv" --format wide --horizon 48 --season 24 \
  --method arima --threads 1 --out "$TMP/sub-merx.csv"
mcpu=$CPU
read -r sm ms owa c80 c95 <<< "$($SCORE "$TMP/sub-train.csv" "$TMP/sub-test.csv" 24 "$TMP/sub-merx.csv" "$TMP/sub-naive2.csv")"
echo
echo "| system | series | sMAPE | MASE | OWA | cov80 | cov95 | CPU s | CPU s / series |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
echo "| merx arima, 1 thread | $R_SERIES | $sm | $ms | $owa | $c80 | $c95 | $mcpu | $(awk -v c="$mcpu" -v k="$R_SERIES" 'BEGIN { printf "%.3f", c / k }') |"
if [ "${SKIP_R:-0}" != 1 ]; then
  read -r rcpu rwall <<< "$(OPENBLAS_NUM_THREADS=1 Rscript "$TMP/arima.R" "$TMP/sub-train.csv" "$TMP/sub-r.csv" 48 24 TRUE 2>/dev/null | tail -1)"
  read -r sm ms owa c80 c95 <<< "$($SCORE "$TMP/sub-train.csv" "$TMP/sub-test.csv" 24 "$TMP/sub-r.csv" "$TMP/sub-naive2.csv")"
  echo "| R auto.arima + forecast, 1 core | $R_SERIES | $sm | $ms | $owa | $c80 | $c95 | $rcpu | $(awk -v c="$rcpu" -v k="$R_SERIES" 'BEGIN { printf "%.3f", c / k }') |"
  echo
  echo "CPU ratio R / merx: $(awk -v a="$rcpu" -v b="$mcpu" 'BEGIN { printf "%.1fx", a / b }')"
fi
fi

if part retail; then
echo
echo "## Online Retail top-100 weekly: last 8 weeks held out, m = 1, one core each"
python3 - "$ROOT/examples/data/retail_top100_weekly.csv" "$TMP" <<'PY'
import sys
src, tmp = sys.argv[1], sys.argv[2]
rows = [l.split(",") for l in open(src).read().splitlines() if l.strip()]
with open(tmp + "/rt-train.csv", "w") as tr, open(tmp + "/rt-test.csv", "w") as te:
    tr.write("id," + ",".join("V%d" % i for i in range(1, len(rows[0]))) + "\n")
    te.write("id," + ",".join("V%d" % i for i in range(1, 9)) + "\n")
    kept = 0
    for r in rows:
        vals = [v for v in r[1:] if v != ""]
        if len(vals) < 8 + 16:
            continue  # fewer than 16 weeks of history before the test weeks
        kept += 1
        tr.write(",".join([r[0]] + vals[:-8]) + "\n")
        te.write(",".join([r[0]] + vals[-8:]) + "\n")
open(tmp + "/rt-kept", "w").write(str(kept))
PY
RT=$(cat "$TMP/rt-kept")
echo
echo "($RT of the 100 series have at least 16 weeks before the last 8)"
"$MERX" forecast --data "$TMP/rt-train.csv" --format wide --header --horizon 8 --season 1 \
  --method naive2 --levels none --out "$TMP/rt-naive2.csv" > /dev/null 2>&1
timed "$MERX" forecast --data "$TMP/rt-train.csv" --format wide --header --horizon 8 --season 1 \
  --method arima --threads 1 --out "$TMP/rt-merx.csv"
mcpu=$CPU
read -r sm ms wape c80 c95 <<< "$($RSCORE "$TMP/rt-train.csv" "$TMP/rt-test.csv" 1 "$TMP/rt-merx.csv")"
echo
echo "| system | series | sMAPE | MASE | WAPE | cov80 | cov95 | CPU s |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
echo "| merx arima, 1 thread | $RT | $sm | $ms | $wape | $c80 | $c95 | $mcpu |"
if [ "${SKIP_R:-0}" != 1 ]; then
  read -r rcpu rwall <<< "$(OPENBLAS_NUM_THREADS=1 Rscript "$TMP/arima.R" "$TMP/rt-train.csv" "$TMP/rt-r.csv" 8 1 TRUE 2>/dev/null | tail -1)"
  read -r sm ms wape c80 c95 <<< "$($RSCORE "$TMP/rt-train.csv" "$TMP/rt-test.csv" 1 "$TMP/rt-r.csv")"
  echo "| R auto.arima + forecast, 1 core | $RT | $sm | $ms | $wape | $c80 | $c95 | $rcpu |"
  echo
  echo "CPU ratio R / merx: $(awk -v a="$rcpu" -v b="$mcpu" 'BEGIN { printf "%.1fx", a / b }')"
fi
fi

if part drivers; then
SRC="$DATA/online-retail/online-retail.csv.gz"
[ -f "$SRC" ] || { echo "$SRC not found (set MERX_SHARED_DATA)" >&2; exit 1; }
NS="${DRIVER_SERIES:-10}" NO="${DRIVER_ORIGINS:-5}" LAST="${DRIVER_LAST:-2011-06-11}"
[ "$LAST" = end ] && LAST=""
echo
echo "## Online Retail daily, top $NS sellers: ARIMA with drivers, $NO origins 14 days apart (last ${LAST:-at the end}), h = 14, m = 7, one thread"
echo
python3 "$ROOT/scripts/bench/forecast_drivers.py" "$MERX" "$SRC" \
  "$ROOT/examples/data/uk_bank_holidays.csv" "$TMP" "$NS" "$NO" 14 14 $LAST
fi
