#!/usr/bin/env bash
# Store benchmark (issue 15): WRITERS `merx run --store` processes start at
# once, each committing DECISIONS decisions (and an offer.csv) to one ledger;
# the commits serialise on the ledger's write lock (WAL, busy timeout). Prints
# the rows committed (must be WRITERS x DECISIONS) and the wall seconds.
#
#   scripts/bench/store.sh [WRITERS] [DECISIONS]     (default 4 x 100000)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
writers="${1:-4}"
per="${2:-100000}"
merx="$root/build/merx"
if [ ! -x "$merx" ]; then
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build" -j2 >/dev/null
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/writer.lua" <<'LUA'
local w, n = merx.params.w, tonumber(merx.params.n)
for i = 1, n do
  merx.emit("offer", { user = w .. "-" .. i, offer = "A", reason = "writer " .. w })
end
LUA
start=$(date +%s.%N)
pids=()
for w in $(seq "$writers"); do
  "$merx" run "$work/writer.lua" --store "$work/store" --out "$work/out$w" --set w="$w" \
    --set n="$per" --busy-timeout 600 2>"$work/w$w.err" &
  pids+=($!)
done
fail=0
for p in "${pids[@]}"; do wait "$p" || fail=1; done
end=$(date +%s.%N)
[ "$fail" = 0 ] || { cat "$work"/w*.err >&2; exit 1; }
rows=$(sqlite3 "$work/store/ledger.db" 'select count(*) from decisions')
commits=$(sqlite3 "$work/store/ledger.db" 'select count(*) from commits')
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
echo "| writers | decisions each | rows committed | commits | wall s | rows/s |"
echo "| --- | --- | --- | --- | --- | --- |"
awk -v w="$writers" -v n="$per" -v r="$rows" -v c="$commits" -v s="$secs" \
  'BEGIN { printf "| %d | %d | %d | %d | %.2f | %.0f |\n", w, n, r, c, s, r / s }'
[ "$rows" -eq $((writers * per)) ] || { echo "rows lost: $rows of $((writers * per))" >&2; exit 1; }
