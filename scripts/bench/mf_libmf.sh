#!/usr/bin/env bash
# merx mf against LIBMF on synthetic ratings, side by side (issue 21).
#   scripts/bench/mf_libmf.sh            # 1M and 10M ratings, 1 and 2 threads
#   SIZES="1" scripts/bench/mf_libmf.sh  # only the 1M case (millions of ratings)
# LIBMF is built from source in a temporary directory from LIBMF_SRC (default
# ../shared/anchors/libmf next to the repo). Both tools read the same
# space-separated text files (user item rating, 0-based ids) and are timed as
# whole processes: CPU = user + sys of the training run (parse included) and
# of the prediction run that gives the test RMSE; peak RSS of training.
# The ratings: mean 3.5 + user and item biases (sd 0.3, 0.4) + a rank-8
# dot product (sd about 0.6) + noise (sd 0.5), not rounded; item popularity
# and user activity skewed; 10% of the rows (at random) are the test set.
set -euo pipefail
ROOT="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
MERX="${MERX:-$ROOT/build/merx}"
LIBMF_SRC="${LIBMF_SRC:-$ROOT/../shared/anchors/libmf}"
SIZES="${SIZES:-1 10}"
THREADS="${THREADS:-1 2}"
# merx train --algo mf settings to run, separated by '|' (an empty one: mf's
# defaults, chosen on MovieLens); the second matches LIBMF's 20 iterations
# and its 0.05 step and regularisation, at K 32
MERX_CONFIGS="${MERX_CONFIGS:-|--epochs 20 --reg 0.05 --lr 0.05}"
LIBMF_ARGS="${LIBMF_ARGS:--k 64 -t 20 -l2 0.05 -r 0.05}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/merx-bench-libmf-XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
[ -x "$MERX" ] || { echo "build merx first (cmake --build build), or set MERX=" >&2; exit 1; }
[ -f "$LIBMF_SRC/mf.cpp" ] || { echo "LIBMF source not found at $LIBMF_SRC (set LIBMF_SRC=)" >&2; exit 1; }

cp -r "$LIBMF_SRC" "$TMP/libmf"
make -s -C "$TMP/libmf" mf-train mf-predict > "$TMP/libmf-build.log" 2>&1 \
  || { cat "$TMP/libmf-build.log" >&2; exit 1; }
LTRAIN="$TMP/libmf/mf-train"
LPRED="$TMP/libmf/mf-predict"

echo "merx mf vs LIBMF — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "$("$MERX" version 2>/dev/null | head -1); BLAS core $("$MERX" version --json | sed 's/.*"blas_core":"\([^"]*\)".*/\1/')" \
     "(unused by mf); LIBMF mf-train $LIBMF_ARGS"
echo

# gen M: M million ratings in $TMP/trM.txt and $TMP/teM.txt
gen() {
  local m=$1 nu ni
  case $m in
    1) nu=6040; ni=3706 ;;       # MovieLens 1M's shape
    10) nu=69878; ni=10677 ;;    # MovieLens 10M's shape
    *) nu=$((m * 7000)); ni=$((m * 1000)) ;;
  esac
  awk -v seed="$m" -v nu="$nu" -v ni="$ni" -v n="$((m * 1000000))" -v tr="$TMP/tr$m.txt" -v te="$TMP/te$m.txt" '
    function gauss() { return sqrt(-2 * log(1 - rand())) * cos(6.283185307 * rand()) }
    BEGIN { srand(seed); K = 8; s = 0.6 / sqrt(sqrt(K));
      for (i = 0; i < ni; i++) { bi[i] = 0.4 * gauss(); for (f = 0; f < K; f++) Q[i, f] = s * gauss() }
      # user activity: n/nu on average, skewed (weights u^-0.5 normalised)
      for (u = 0; u < nu; u++) { w[u] = 1 / sqrt(u + 1); tot += w[u] }
      for (u = 0; u < nu; u++) {
        c = int(n * w[u] / tot + rand()); if (c < 2) c = 2; if (c > ni / 2) c = int(ni / 2)
        bu = 0.3 * gauss(); for (f = 0; f < K; f++) P[f] = s * gauss()
        split("", seen)
        for (q = 0; q < c; q++) {
          do { i = int(ni * rand() ^ 1.7) } while (i in seen)
          seen[i] = 1
          r = 3.5 + bu + bi[i] + 0.5 * gauss()
          for (f = 0; f < K; f++) r += P[f] * Q[i, f]
          printf "%d %d %.3f\n", u, i, r > (rand() < 0.1 ? te : tr)
        }
      } }'
}

# timed NAME CMD...: runs CMD once; sets CPU (user+sys s), WALL, RSS (MB)
timed() {
  /usr/bin/time -f "%e %U %S %M" -o "$TMP/time" "$@" > "$TMP/out" 2> "$TMP/err" \
    || { cat "$TMP/err" >&2; return 1; }
  local us sy kb
  read -r WALL us sy kb < "$TMP/time"
  CPU=$(awk -v a="$us" -v b="$sy" 'BEGIN { printf "%.2f", a + b }')
  RSS=$((kb / 1024))
}

printf '| %-9s | %-7s | %-38s | %-9s | %-12s | %-11s | %-8s | %-9s |\n' ratings threads tool test_rmse "train cpu s" "train wall s" "RSS MB" "cpu ratio"
printf '|%s|\n' "-----------|---------|----------------------------------------|-----------|--------------|-------------|----------|-----------"
for m in $SIZES; do
  gen "$m"
  for t in $THREADS; do
    timed "$LTRAIN" $LIBMF_ARGS -s "$t" --quiet "$TMP/tr$m.txt" "$TMP/l.model"
    lcpu=$CPU lwall=$WALL lrss=$RSS
    "$LPRED" "$TMP/te$m.txt" "$TMP/l.model" "$TMP/l.pred" > "$TMP/lp.out"
    lrmse=$(awk '/RMSE/ { print $3 }' "$TMP/lp.out")
    printf '| %-9s | %-7s | %-38s | %-9s | %-12s | %-11s | %-8s | %-9s |\n' "${m}M" "$t" "LIBMF" "$lrmse" "$lcpu" "$lwall" "$lrss" "1.00"
    IFS='|' read -r -a configs <<< "$MERX_CONFIGS"
    for cfg in "${configs[@]}"; do
      # shellcheck disable=SC2086
      timed "$MERX" train --data "$TMP/tr$m.txt" --sep ' ' --no-header --columns user=1,item=2,value=3 \
        --algo mf --threads "$t" $cfg --out "$TMP/m.mxm"
      mcpu=$CPU mwall=$WALL mrss=$RSS
      "$MERX" eval --model "$TMP/m.mxm" --test "$TMP/te$m.txt" --sep ' ' --no-header \
        --columns user=1,item=2,value=3 --json > "$TMP/me.json"
      mrmse=$(sed 's/.*"rmse":\([0-9.]*\).*/\1/' "$TMP/me.json")
      printf '| %-9s | %-7s | %-38s | %-9.4f | %-12s | %-11s | %-8s | %-9s |\n' "${m}M" "$t" "merx mf ${cfg:-(defaults)}" \
        "$mrmse" "$mcpu" "$mwall" "$mrss" "$(awk -v a="$mcpu" -v b="$lcpu" 'BEGIN { printf "%.2f", a / b }')"
    done
  done
  rm -f "$TMP/tr$m.txt" "$TMP/te$m.txt"
done
