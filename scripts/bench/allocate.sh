#!/usr/bin/env bash
# Allocation benchmark (BENCHMARKS.md section 6).
#
# 1. Scale: 10M users x 10 offers x 3 global constraints (budget, SMS
#    capacity, stock), values generated in memory by `merx allocate
#    --synthetic` (no file to parse). Target: <= 60 s on 2 cores, gap <= 0.1%.
#    Median of RUNS runs (default 3), with peak RSS.
# 2. Anchor: the exact LP-relaxation optimum from GLPK (glpsol, glpk-utils) on
#    growing instances of the same generator (exported with --write-lp), up to
#    the largest GLPK solves within GLPK_LIMIT seconds (default 600): merx's
#    plan value and bound against the LP optimum, and both times.
#
# The instances are synthetic (no data set is needed), so ../shared/data is
# not read.
# Usage: scripts/bench/allocate.sh   [env: RUNS=3 USERS=10000000 GLPK_LIMIT=600
#                                          GLPK_SIZES="3000 10000 30000 100000"]
set -euo pipefail
ROOT="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
source "$ROOT/scripts/lib.sh"
RUNS="${RUNS:-3}"
USERS="${USERS:-10000000}"
GLPK_LIMIT="${GLPK_LIMIT:-600}"
GLPK_SIZES="${GLPK_SIZES:-3000 10000 30000 100000}"
THREADS="${THREADS:-2}"

MERX="$ROOT/build/merx"
if [ ! -x "$MERX" ]; then
  merx_build "$ROOT/build" -DCMAKE_BUILD_TYPE=Release
fi
if ! command -v glpsol >/dev/null; then
  apt-get install -y -qq glpk-utils >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq glpk-utils; }
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/merx-bench-alloc-XXXXXX")"
trap 'rm -rf "$work"' EXIT
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (wall times are inflated by other work on the machine; cpu_s is this process's user+sys time)"
echo "== scale: $USERS users x 10 offers x 3 constraints, --threads $THREADS, $RUNS runs"
printf "%-4s %10s %10s %10s %10s %12s %10s %8s %8s\n" run wall_s cpu_s solve_s gen_s gap passes cycles rss_MB
for r in $(seq 1 "$RUNS"); do
  t0=$(date +%s.%N)
  "$MERX" allocate --synthetic "$USERS:10:3" --threads "$THREADS" --out "$work/plan.csv" --json \
    > "$work/run$r.json"
  t1=$(date +%s.%N)
  python3 - "$work/run$r.json" "$r" "$t0" "$t1" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1])); r = sys.argv[2]; wall = float(sys.argv[4]) - float(sys.argv[3])
print(f"{r:<4} {wall:10.2f} {j['cpu_seconds']:10.2f} {j['solve_seconds']:10.2f} {j['read_seconds']:10.2f} {j['gap']:12.3e} "
      f"{j['passes']:>10} {j['cycles']:>8} {j['peak_rss_mb']:8.0f}")
open(sys.argv[1] + ".wall", "w").write(str(wall))
EOF
done
python3 - "$work" "$RUNS" <<'EOF'
import json, sys, statistics
w, n = sys.argv[1], int(sys.argv[2])
walls = [float(open(f"{w}/run{r}.json.wall").read()) for r in range(1, n + 1)]
js = [json.load(open(f"{w}/run{r}.json")) for r in range(1, n + 1)]
print(f"median wall {statistics.median(walls):.2f} s, median CPU {statistics.median(j['cpu_seconds'] for j in js):.2f} s, median solve {statistics.median(j['solve_seconds'] for j in js):.2f} s, "
      f"max gap {max(j['gap'] for j in js):.3e}, objective {js[0]['objective']:.1f}, bound {js[0]['bound']:.1f}, "
      f"assigned {js[0]['assigned']}")
for c in js[0]["constraints"]:
    print(f"  {c['name']:<7} spend {c['spend']:.1f} of {c['limit']:.1f}  price {c['price']:.6g}")
EOF

echo
echo "== anchor: GLPK LP relaxation (glpsol --lp, time limit ${GLPK_LIMIT} s) vs merx, same instances"
printf "%9s %10s %10s %14s %14s %14s %10s %10s %8s\n" users merx_s glpk_s merx_value lp_optimum merx_bound value/lp bound/lp gap
for n in $GLPK_SIZES; do
  "$MERX" allocate --synthetic "$n:10:3" --threads "$THREADS" --out "$work/p.csv" --json \
    --write-lp "$work/i.lp" > "$work/m.json"
  t0=$(date +%s.%N)
  set +e
  timeout "$((GLPK_LIMIT + 30))" glpsol --lp "$work/i.lp" --tmlim "$GLPK_LIMIT" -o "$work/i.sol" > "$work/glpk.log" 2>&1
  set -e
  t1=$(date +%s.%N)
  status=$(grep -m1 '^Status:' "$work/i.sol" 2>/dev/null | awk '{print $2}' || true)
  if [ "$status" != "OPTIMAL" ]; then
    printf "%9s %10.2f %10s   GLPK did not finish within %s s (status: %s)\n" "$n" \
      "$(field "$work/m.json" solve_seconds)" ">$GLPK_LIMIT" "$GLPK_LIMIT" "${status:-none}"
    break
  fi
  python3 - "$work/m.json" "$work/i.sol" "$n" "$t0" "$t1" <<'EOF'
import json, re, sys
j = json.load(open(sys.argv[1]))
lp = float(re.search(r"Objective:\s+obj = ([-0-9.eE+]+)", open(sys.argv[2]).read()).group(1))
g = float(sys.argv[5]) - float(sys.argv[4])
print(f"{sys.argv[3]:>9} {j['solve_seconds']:10.2f} {g:10.2f} {j['objective']:14.3f} {lp:14.3f} "
      f"{j['bound']:14.3f} {j['objective'] / lp:10.6f} {j['bound'] / lp:10.6f} {j['gap']:8.1e}")
EOF
  rm -f "$work/i.lp" "$work/i.sol"
done
