#!/usr/bin/env bash
# Ingest benchmark (issue 2): parse the UCI Online Retail CSV (45.8 MB
# decompressed) into a dataset with `merx data stats`, plain and .gz, pinned
# to one core; pandas read_csv on the same files in the same run as the anchor.
# Reports the median of 7 runs, MB/s of decompressed input, and peak RSS.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/../shared/data/online-retail/online-retail.csv.gz"
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
