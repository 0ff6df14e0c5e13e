#!/usr/bin/env bash
# Privacy benchmark (issue 19):
#  1. ingest: `merx data stats` plain and with a store key (pseudonyms: one HMAC-SHA256 per
#     distinct user), CPU seconds (user+sys), runs alternating, median of RUNS (default 5), on
#     a) the UCI Online Retail file when ../shared/data holds it (541,909 rows, 4,372 users),
#     b) ROWS generated interactions over USERS users (the worst case: few rows per user),
#     c) BIG_ROWS generated rows over BIG_USERS users when BIG_ROWS > 0 (e.g. 20000000);
#  2. forget: one user out of a store with DECISIONS decisions in the ledger and
#     10 models (ials, 20k users) under it; wall and CPU seconds of `merx forget`.
#
#   scripts/bench/privacy.sh [ROWS] [USERS] [DECISIONS]   (default 3000000 500000 3000000)
#   BIG_ROWS=20000000 BIG_USERS=1000000 RUNS=3 scripts/bench/privacy.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rows="${1:-3000000}" users="${2:-500000}" decisions="${3:-3000000}"
runs="${RUNS:-5}" big_rows="${BIG_ROWS:-0}" big_users="${BIG_USERS:-1000000}"
merx="$root/build/merx"
source "$root/scripts/lib.sh"
[ -x "$merx" ] || merx_build "$root/build" -DCMAKE_BUILD_TYPE=Release
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$merx" version | grep -i blas || true
mkdir -p "$work/keyed" && (umask 077 && head -c 24 /dev/urandom | base64 > "$work/keyed/store.key")
cpu() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{ print $1 + $2 }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# ingest NAME FILE COLUMNS: plain and keyed runs alternate, so both see the same load
ingest() {
  local name="$1" file="$2" cols="$3" i
  : > "$work/p.txt"; : > "$work/k.txt"
  for i in $(seq "$runs"); do
    cpu "$merx" data stats --data "$file" --columns "$cols" >> "$work/p.txt"
    cpu "$merx" data stats --data "$file" --columns "$cols" --store "$work/keyed" >> "$work/k.txt"
  done
  awk -v n="$name" -v p="$(median < "$work/p.txt")" -v k="$(median < "$work/k.txt")" \
      -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
    printf "ingest %s: plain %.2f s CPU, pseudonymised %.2f s CPU (%+.1f%%), load %s\n", n, p, k, 100 * (k - p) / p, l }'
}
gen() { # gen ROWS USERS: user,item,value rows, uniform users
  awk -v n="$1" -v u="$2" 'BEGIN { srand(1); print "user,item,value";
    for (r = 0; r < n; r++) printf "%d.0,i%d,%d\n", int(rand() * u), int(rand() * 20000), 1 + int(rand() * 4) }'
}
for retail in "$root/../shared/data" "$root/../../shared/data"; do
  retail="$retail/online-retail/online-retail.csv.gz"
  [ -f "$retail" ] || continue
  zcat "$retail" > "$work/retail.csv"
  ingest "Online Retail (541,909 rows, 4,372 users)" "$work/retail.csv" \
    user=CustomerID,item=StockCode,value=Quantity
  rm -f "$work/retail.csv"
  break
done
gen "$rows" "$users" > "$work/data.csv"
ingest "$rows rows, $users users" "$work/data.csv" user=user,item=item,value=value
rm -f "$work/data.csv"
if [ "$big_rows" -gt 0 ]; then
  gen "$big_rows" "$big_users" > "$work/big.csv"
  ingest "$big_rows rows, $big_users users" "$work/big.csv" user=user,item=item,value=value
  rm -f "$work/big.csv"
fi

# ---- forget: DECISIONS decisions in the ledger, 10 models in the store
st="$work/store"
mkdir -p "$st/models"
"$merx" run -e 'merx.emit("offer", {user = "seed", reason = "schema"})' --store "$st" --out "$work/o" >/dev/null 2>&1
sqlite3 "$st/ledger.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $decisions)
  INSERT INTO decisions(run_id, script, script_hash, params, time, committed_at, kind, user, record, reason)
  SELECT 'r' || (i / 100000), 'bench.lua', 'h', '{}', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z', 'offer',
         'u' || (i % 600000) || '.0', '{\"user\":\"u' || (i % 600000) || '.0\",\"offer\":\"A\"}',
         'segment champions, score 0.8, budget left ' || (i % 997) FROM n;"
awk 'BEGIN { srand(2); print "user,item"; for (r = 0; r < 200000; r++)
  printf "u%d.0,i%d\n", int(rand() * 20000), int(rand() * 3000) }' > "$work/m.csv"
for m in $(seq 10); do
  "$merx" train --data "$work/m.csv" --columns user=user,item=item --algo ials --factors 32 --epochs 1 \
    --seed "$m" --threads 2 --out "$st/models/m$m.mxm" >/dev/null 2>&1
done
echo "store: $(sqlite3 "$st/ledger.db" 'select count(*) from decisions') decisions, $(ls "$st/models" | wc -l) models, $(du -sm "$st" | cut -f1) MB"
t0=$(date +%s.%N)
c=$(cpu "$merx" forget --store "$st" --user u17.0)
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$c" 'BEGIN { printf "forget one user: %.2f s wall, %.2f s CPU (target < 2 s)\n", b - a, c }'
if LC_ALL=C grep -r -a -l -w -F 'u17.0' "$st" >/dev/null; then echo "FAIL: u17.0 still in the store"; exit 1; fi
