#!/usr/bin/env bash
# Forecasting benchmarks (../shared/BENCHMARKS.md section 4 and 5).
#   scripts/bench/forecast.sh
# 1. M4 Hourly (414 series, h = 48, m = 24): sMAPE, MASE, OWA vs Naive2 and
#    interval coverage for every method and for auto; wall and CPU time
#    (user + sys) of the whole `merx forecast` process, median of RUNS runs.
# 2. The R anchor measured in the same run: forecast::ets() on the first
#    R_SERIES series (default 12; the full 414 take ~40 min on one core),
#    single core, CPU time extrapolated linearly to 414 series (said so in the
#    table). Installs r-cran-forecast with apt-get when missing.
# 3. Car parts (2,674 monthly intermittent series): the last 6 months as test
#    (merx backtest --origins 1), MASE with the in-sample naive scale.
# Environment: MERX (binary, default build/merx), MERX_SHARED_DATA (default
# ../shared/data beside the repo), RUNS (3), THREADS (2),
# R_SERIES (12), SKIP_R=1 to skip the R anchor.
set -euo pipefail
ROOT="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
DATA="${MERX_SHARED_DATA:-$ROOT/../shared/data}"
MERX="${MERX:-$ROOT/build/merx}"
RUNS="${RUNS:-3}"
THREADS="${THREADS:-2}"
R_SERIES="${R_SERIES:-12}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/merx-bench-forecast-XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
[ -x "$MERX" ] || { echo "build merx first (cmake --build build), or set MERX=" >&2; exit 1; }
if [ ! -f "$DATA/m4/Hourly-train.csv" ]; then
  echo "benchmark data not found at $DATA/m4 (expected ../shared/data next to the repo); nothing to run" >&2
  exit 1
fi
M4="$DATA/m4"
SCORE="python3 $ROOT/scripts/bench/forecast_score.py"

# run CMD...: RUNS times; sets MED_WALL and MED_CPU (seconds)
run() {
  local walls=() cpus=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %U %S" -o "$TMP/time" "$@" > "$TMP/out" 2> "$TMP/err" \
      || { cat "$TMP/err" >&2; return 1; }
    read -r w u s < "$TMP/time"
    walls+=("$w"); cpus+=("$(awk -v a="$u" -v b="$s" 'BEGIN { printf "%.2f", a + b }')")
  done
  MED_WALL=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  MED_CPU=$(printf '%s\n' "${cpus[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
}

echo "merx forecasting benchmarks — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), threads $THREADS, runs $RUNS"
echo
echo "## M4 Hourly: merx forecast --data Hourly-train.csv --format wide --horizon 48 --season 24 --method M --threads $THREADS"
echo
echo "| method | sMAPE | MASE | OWA | cov80 | cov95 | wall s | CPU s | chosen |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
"$MERX" forecast --data "$M4/Hourly-train.csv" --format wide --horizon 48 --season 24 \
  --method naive2 --levels none --out "$TMP/naive2_ref.csv" > /dev/null 2>&1
for m in naive snaive naive2 ses theta holt damped hw ets croston tsb auto; do
  run "$MERX" forecast --data "$M4/Hourly-train.csv" --format wide --horizon 48 --season 24 \
    --method "$m" --threads "$THREADS" --out "$TMP/$m.csv" --json
  chosen=$(python3 -c "import json; d=json.load(open('$TMP/out')); print(' '.join('%s:%d' % kv for kv in sorted(d['methods'].items())))")
  read -r sm ms owa c80 c95 <<< "$($SCORE "$M4/Hourly-train.csv" "$M4/Hourly-test.csv" 24 "$TMP/$m.csv" "$TMP/naive2_ref.csv")"
  echo "| $m | $sm | $ms | $owa | $c80 | $c95 | $MED_WALL | $MED_CPU | $chosen |"
  eval "CPU_$m=$MED_CPU"
done
echo
echo "M4 official (Makridakis et al. 2020): Naive2 18.383/2.395/1.000, sNaive 13.912/1.193/0.627,"
echo "SES 18.094/2.385/0.990, Theta 18.138/2.455/1.006, ETS 17.307/1.824/0.852, ARIMA 13.980/0.943/~0.577,"
echo "winner (Smyl) 9.328/0.893/0.440."

echo
echo "## Speed anchor: R forecast::ets() on the same data, same run, one core"
if [ "${SKIP_R:-0}" = 1 ]; then
  echo "skipped (SKIP_R=1)"
else
  if ! Rscript -e 'suppressMessages(library(forecast))' > /dev/null 2>&1; then
    echo "installing r-cran-forecast ..." >&2
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends r-cran-forecast > /dev/null 2>&1 \
      || { $sudo_cmd apt-get update -qq > /dev/null 2>&1; DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends r-cran-forecast > /dev/null; }
  fi
  cat > "$TMP/ets.R" <<REOF
suppressMessages(library(forecast))
tr <- read.csv("$M4/Hourly-train.csv", stringsAsFactors = FALSE)
k <- min($R_SERIES, nrow(tr))
t0 <- proc.time()
for (i in 1:k) { x <- as.numeric(tr[i, -1]); x <- ts(x[!is.na(x)], frequency = 24); f <- forecast(ets(x), h = 48) }
t1 <- proc.time() - t0
cat(k, t1[["user.self"]] + t1[["sys.self"]], t1[["elapsed"]], "\n")
REOF
  read -r rk rcpu rwall <<< "$(OPENBLAS_NUM_THREADS=1 Rscript "$TMP/ets.R" 2>/dev/null | tail -1)"
  rfull=$(awk -v c="$rcpu" -v k="$rk" 'BEGIN { printf "%.0f", c * 414 / k }')
  # merx single thread, CPU time of the whole process, for a like-for-like ratio
  run "$MERX" forecast --data "$M4/Hourly-train.csv" --format wide --horizon 48 --season 24 --method ets --threads 1 --out "$TMP/e1.csv"
  ets1=$MED_CPU
  run "$MERX" forecast --data "$M4/Hourly-train.csv" --format wide --horizon 48 --season 24 --method auto --threads 1 --out "$TMP/a1.csv"
  auto1=$MED_CPU
  echo
  echo "| system | series timed | CPU s (measured) | CPU s for 414 | ratio R / merx |"
  echo "| --- | --- | --- | --- | --- |"
  echo "| R forecast::ets() + forecast(), 1 core | $rk | $rcpu (wall $rwall) | $rfull (extrapolated x414/$rk) | 1 |"
  echo "| merx --method ets --threads 1 | 414 | $ets1 | $ets1 | $(awk -v a="$rfull" -v b="$ets1" 'BEGIN { printf "%.0fx", a / b }') |"
  echo "| merx --method auto --threads 1 | 414 | $auto1 | $auto1 | $(awk -v a="$rfull" -v b="$auto1" 'BEGIN { printf "%.0fx", a / b }') |"
  echo
  echo "Published figure on this machine (BENCHMARKS.md): R ets() 2,340 s single core for the 414 series."
fi

echo
echo "## Car parts: last 6 months, merx backtest --data carparts.csv --format wide --horizon 6 --origins 1 --nonneg"
if [ -f "$DATA/carparts/carparts.csv" ]; then
  run "$MERX" backtest --data "$DATA/carparts/carparts.csv" --format wide --horizon 6 --origins 1 --nonneg \
    --methods naive,ses,croston,sba,tsb,auto --threads "$THREADS" --json
  echo
  echo "| method | MASE | RMSSE | WAPE | bias | cov80 | cov95 | series |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  python3 - "$TMP/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for m in d["methods"]:
    print("| %s | %.3f | %.3f | %.3f | %.4f | %.3f | %.3f | %d |" % (m["method"], m["mase"], m["rmsse"], m["wape"],
          m["bias"], m["coverage"]["80"], m["coverage"]["95"], m["evaluated"]))
PY
  echo
  echo "(whole backtest: wall $MED_WALL s, CPU $MED_CPU s)"
else
  echo "carparts data not found at $DATA/carparts; skipped"
fi
