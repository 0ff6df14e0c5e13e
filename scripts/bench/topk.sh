#!/usr/bin/env bash
# Scoring benchmark (issue 4).
#  1. All-users top-10 on a synthetic 200k users x 50k items x 64 model (20
#     training items per user excluded), as GFLOP/s (2*users*items*factors /
#     seconds) and as a fraction of plain cblas_sgemm over the same tile
#     shapes and threads, measured alternately in the same run (median of
#     REPS pairs), plus one large sgemm as the machine's peak.
#  2. Single-user latency (p50 / p99) over 10k random users on 100k items x 128.
#  3. The Online Retail model (../shared/data, iALS 64 factors trained on the
#     80/20 split) through the same driver, and `merx recommend --all` wall time.
# Peak RSS of each process shows that no users x items matrix exists.
# Environment: USERS ITEMS FACTORS THREADS REPS QUERIES override the defaults.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/scripts/lib.sh"
BUILD="$ROOT/build"
if [ ! -x "$BUILD/merx_bench_topk" ] || [ ! -x "$BUILD/merx" ]; then
  merx_build "$BUILD" -DCMAKE_BUILD_TYPE=Release
fi
USERS=${USERS:-200000} ITEMS=${ITEMS:-50000} FACTORS=${FACTORS:-64}
THREADS=${THREADS:-$(nproc)} REPS=${REPS:-3} QUERIES=${QUERIES:-10000}
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
val() { awk -v k="$1" '$1 == k {print $2}' "$2"; }

echo "== all-users top-10, synthetic ${USERS} x ${ITEMS} x ${FACTORS}, ${THREADS} threads (${REPS} alternating reps)" >&2
MX_BENCH_REPS=$REPS "$BUILD/merx_bench_topk" batch "$USERS" "$ITEMS" "$FACTORS" 10 "$THREADS" > "$TMP/batch.txt"
echo "== single-user latency, 100000 items x 128, ${QUERIES} queries" >&2
"$BUILD/merx_bench_topk" latency 100000 128 "$QUERIES" 10 > "$TMP/lat.txt"

printf '\n%-44s %12s\n' "measure" "value"
printf '%-44s %12s\n' "--------------------------------------------" "------------"
b="$TMP/batch.txt"
printf '%-44s %12s\n' "plain sgemm, same tiles (GFLOP/s)" "$(val sgemm_tiles_gflops "$b")"
printf '%-44s %12s\n' "one large sgemm, OpenBLAS threads (GFLOP/s)" "$(val peak_sgemm_gflops "$b")"
printf '%-44s %12s\n' "top-10 all users (GFLOP/s)" "$(val topk_gflops "$b")"
printf '%-44s %12s\n' "top-10 all users (seconds)" "$(val topk_seconds "$b")"
printf '%-44s %12s\n' "top-10 / plain sgemm (target >= 0.70)" "$(val topk_fraction_of_sgemm "$b")"
printf '%-44s %12s\n' "model size (MiB)" "$(val model_mib "$b")"
printf '%-44s %12s\n' "peak RSS (MiB)" "$(val peak_rss_mib "$b")"
l="$TMP/lat.txt"
printf '%-44s %12s\n' "single user p50 (ms)" "$(val latency_p50_ms "$l")"
printf '%-44s %12s\n' "single user p99 (ms, target <= 5)" "$(val latency_p99_ms "$l")"
printf '%-44s %12s\n' "single user max (ms)" "$(val latency_max_ms "$l")"
printf '%-44s %12s\n' "latency process peak RSS (MiB)" "$(val peak_rss_mib "$l")"

DATA="$ROOT/../shared/data/online-retail/split-80-20/train.csv.gz"
if [ ! -f "$DATA" ]; then
  echo
  echo "Online Retail: $DATA is missing (../shared/data not present); skipped"
  exit 0
fi
echo "== Online Retail: training iALS (64 factors) on the 80/20 split" >&2
"$BUILD/merx" train --data "$DATA" --columns user=customer_id,item=stock_code --algo ials \
  --factors 64 --out "$TMP/retail.mxm" >/dev/null 2>&1
MX_BENCH_REPS=$((REPS * 3)) "$BUILD/merx_bench_topk" model "$TMP/retail.mxm" 10 "$THREADS" > "$TMP/retail.txt"
r="$TMP/retail.txt"
t0=$(date +%s.%N)
"$BUILD/merx" recommend --model "$TMP/retail.mxm" --all --k 10 --threads "$THREADS" \
  --out "$TMP/recs.csv" 2>/dev/null
t1=$(date +%s.%N)
echo
printf '%-44s %12s\n' "Online Retail ($(head -1 "$r" | cut -d' ' -f2-8))" ""
printf '%-44s %12s\n' "plain sgemm, same tiles (GFLOP/s)" "$(val sgemm_tiles_gflops "$r")"
printf '%-44s %12s\n' "top-10 all users (GFLOP/s)" "$(val topk_gflops "$r")"
printf '%-44s %12s\n' "top-10 all users (seconds)" "$(val topk_seconds "$r")"
printf '%-44s %12s\n' "top-10 / plain sgemm" "$(val topk_fraction_of_sgemm "$r")"
printf '%-44s %12.3f\n' "merx recommend --all wall (s, load+write)" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')"
