#!/usr/bin/env bash
# Ingest benchmark (issue 2): parse the UCI Online Retail CSV (45.8 MB
# decompressed) into a dataset with `merx data stats`, plain and .gz, pinned
# to one core; pandas read_csv on the same files in the same run as the anchor.
# Reports the median of 7 runs, MB/s of decompressed input, and peak RSS.
#   scripts/bench/ingest.sh              # Online Retail, 1 core, against pandas
#   scripts/bench/ingest.sh --synthetic  # also the 20M-row synthetic file (issue 21):
#     222 MB of "user,item" rows with string ids as train.sh --synthetic makes it,
#     all cores; wall and CPU (user+sys) of each of RUNS runs (default 3), peak RSS;
#     then the same file packed once (merx data pack) and read as a .mxd the same way
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# MERX_SHARED_DATA overrides ../shared/data (a worktree has no ../shared beside it)
DATA="${MERX_SHARED_DATA:-$ROOT/../shared/data}/online-retail/online-retail.csv.gz"
if [ ! -f "$DATA" ]; then
  echo "ingest bench: $DATA is missing (../shared/data not present); nothing to measure" >&2
  exit 0
fi
source "$ROOT/scripts/lib.sh"
merx_install_packages python3-pandas
[ -x "$ROOT/build/merx" ] || merx_build "$ROOT/build" -DCMAKE_BUILD_TYPE=Release
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
zcat "$DATA" > "$TMP/online-retail.csv"
cp "$DATA" "$TMP/online-retail.csv.gz"
/usr/bin/python3 "$ROOT/scripts/bench/ingest.py" "$ROOT/build/merx" "$TMP/online-retail.csv" "$TMP/online-retail.csv.gz"
rm -f "$TMP/online-retail.csv" "$TMP/online-retail.csv.gz"

if [ "${1:-}" = "--synthetic" ]; then
  MERX="$ROOT/build/merx"
  echo
  echo "## Synthetic 20M rows, 138,493 users x 26,744 items (the file of train.sh --synthetic)"
  "$MERX" version --json
  SYN="$TMP/syn20m.csv"
  awk 'BEGIN { srand(20); nu = 138493; ni = 26744; n = 20000000;
    for (k = 0; k < n; k++) { u = int(nu * rand() ^ 1.5); i = int(ni * rand() ^ 2); print u "," i } }' > "$SYN"
  mb=$(awk -v b="$(stat -c %s "$SYN")" 'BEGIN { printf "%.1f", b / 1e6 }')
  echo "file: $mb MB; cores: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  for _ in $(seq "${RUNS:-3}"); do
    /usr/bin/time -f "%e %U %S %M" -o "$TMP/time" "$MERX" data stats --data "$SYN" --no-header \
      --top 0 --json > /dev/null
    read -r w u s m < "$TMP/time"
    awk -v w="$w" -v u="$u" -v s="$s" -v m="$m" -v mb="$mb" 'BEGIN {
      printf "merx data stats: wall %.2f s (%.0f MB/s), cpu %.2f s, peak RSS %d MB\n", w, mb / w, u + s, m / 1024 }'
  done
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "%e %U %S %M" -o "$TMP/time" "$MERX" data pack --data "$SYN" --no-header \
    --out "$TMP/syn20m.mxd" 2> /dev/null
  read -r w u s m < "$TMP/time"
  mxd_mb=$(awk -v b="$(stat -c %s "$TMP/syn20m.mxd")" 'BEGIN { printf "%.1f", b / 1e6 }')
  echo "merx data pack (once): wall $w s, cpu $(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }') s," \
    "peak RSS $((m / 1024)) MB -> $mxd_mb MB .mxd; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  for _ in $(seq "${RUNS:-3}"); do
    /usr/bin/time -f "%e %U %S %M" -o "$TMP/time" "$MERX" data stats --data "$TMP/syn20m.mxd" \
      --top 0 --json > /dev/null
    read -r w u s m < "$TMP/time"
    awk -v w="$w" -v u="$u" -v s="$s" -v m="$m" -v mb="$mb" 'BEGIN {
      printf "merx data stats (.mxd): wall %.2f s (%.0f MB/s of CSV), cpu %.2f s, peak RSS %d MB\n", w, mb / w, u + s, m / 1024 }'
  done
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
