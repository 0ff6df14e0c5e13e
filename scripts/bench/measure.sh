#!/usr/bin/env bash
# Campaign measurement benchmark (BENCHMARKS.md section 6, issue #16).
#
# 1. Hillstrom (../shared/data/hillstrom, 64,000 customers, three arms):
#    `merx measure` must reproduce every arm's means exactly (the exactly
#    rounded sum / n) and every uplift interval, p-value, relative uplift,
#    CUPED interval and the SRM p-value to 1e-6 against an independent
#    numpy/scipy computation (scripts/bench/measure_check.py).
# 2. Coverage: SEEDS campaigns (default 200) simulated by scripts/sim/campaign_sim.py
#    over the Online Retail customers (../shared/data/online-retail) with a
#    planted per-segment uplift; the per-segment 95% intervals (conversion and
#    spend; per-user table, table + CUPED, events joined to assignments over a
#    window) must cover the planted effect 93-97% of the time.
# 3. Speed: `merx measure` on ROWS (default 10M) synthetic event rows joined to
#    USERS (default 1M) assignments over a window, three arms, four segments;
#    median of RUNS (default 3) wall times and peak RSS.
# numpy and scipy come from Debian (python3-numpy, python3-scipy), installed here:
# they are benchmark-only, not build dependencies.
# Usage: scripts/bench/measure.sh   [env: SEEDS=200 ROWS=10000000 USERS=1000000 RUNS=3 PARTS="1 2 3"]
set -euo pipefail
ROOT="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
source "$ROOT/scripts/lib.sh"
SEEDS="${SEEDS:-200}"
ROWS="${ROWS:-10000000}"
USERS="${USERS:-1000000}"
RUNS="${RUNS:-3}"
PARTS="${PARTS:-1 2 3}"
DATA="${MERX_SHARED_DATA:-$ROOT/../shared/data}"
MERX="$ROOT/build/merx"
[ -x "$MERX" ] || merx_build "$ROOT/build" -DCMAKE_BUILD_TYPE=Release
merx_install_packages python3-numpy python3-scipy
PY=/usr/bin/python3  # Debian's python, where python3-scipy lives
work="$(mktemp -d "${TMPDIR:-/tmp}/merx-bench-measure-XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "BLAS: $("$MERX" version | grep -m1 openblas | sed "s/^ *//") (merx measure itself does no BLAS work)"
status=0
if [[ " $PARTS " == *" 1 "* ]]; then
echo "== 1. Hillstrom: means exact, intervals to 1e-6 against numpy/scipy"
"$PY" "$ROOT/scripts/bench/measure_check.py" hillstrom "$MERX" "$DATA/hillstrom/hillstrom.csv.gz" || status=1
fi

if [[ " $PARTS " == *" 2 "* ]]; then
echo "== 2. Coverage of the planted uplift: $SEEDS campaigns over the Online Retail customers"
"$PY" "$ROOT/scripts/bench/measure_check.py" coverage "$MERX" "$ROOT/scripts/sim/campaign_sim.py" \
  "$DATA/online-retail/online-retail.csv.gz" "$SEEDS" || status=1
fi
[[ " $PARTS " == *" 3 "* ]] || exit $status

echo "== 3. Speed: $ROWS event rows joined to $USERS assignments, window, 4 segments"
"$PY" "$ROOT/scripts/bench/measure_check.py" synth "$work" "$USERS" "$ROWS"
ls -l "$work"/units.csv "$work"/events.csv | awk '{printf "  %s %.0f MB\n", $NF, $5/1e6}'
times=()
cpus=()
for r in $(seq 1 "$RUNS"); do
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$MERX" measure --outcomes "$work/events.csv" \
    --columns user=user,time=time,value=value --assignments "$work/units.csv" --segment segment \
    --control control --window 2024-06-01..2024-06-20 --json > "$work/r.json"
  read -r wall user sys rss < "$work/time"
  times+=("$wall")
  cpus+=("$("$PY" -c "print(f'{$user + $sys:.2f}')")")
  echo "  run $r: ${wall} s wall, $user s user + $sys s sys CPU, peak RSS $((rss / 1024)) MB"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
"$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("  users %d, outcome rows in window %d, outside %d" % (r["users"], r["outcome_rows"], r["outside_window_rows"]))
' "$work/r.json"
cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "  median ${median} s wall, ${cpu} s CPU for $ROWS rows: $("$PY" -c "print(f'{$ROWS / $cpu / 1e6:.2f}')") M rows per CPU-second" \
     "(wall is inflated when the machine is shared: load average $(cut -d' ' -f1-3 /proc/loadavg))"
exit $status
