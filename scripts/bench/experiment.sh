#!/usr/bin/env bash
# Experiment benchmark (issue 16): how fast merx.experiment assigns users.
#   1. e:arm over USERS ids (the hash rule alone: XXH64 of salt:user, the
#      arm by cumulative shares), plain and stratified, in CPU seconds of the
#      Lua thread pinned to one core (merx.clock("cpu")), so rates are per core
#      on a shared machine;
#   2. e:emit for USERS/10 users (a 10% control arm: decisions for the rest,
#      an assignment and an exposure for everyone) and the commit of those
#      rows to a store, wall seconds of the whole `merx run`.
# Prints the CPU model and the BLAS core (no BLAS is used here).
#
#   scripts/bench/experiment.sh [USERS]      (default 1000000)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
users="${1:-1000000}"
merx="$root/build/merx"
if [ ! -x "$merx" ]; then
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build" -j2 >/dev/null
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores;" \
  "BLAS core: ${OPENBLAS_CORETYPE:-auto} (not used)"
cat >"$work/arms.lua" <<'LUA'
local n = tonumber(merx.params.n)
local ids = {}
for i = 1, n do ids[i] = "customer-" .. i end
local segs = { "champions", "loyal", "new", "at_risk" }
local e = merx.experiment{ name = "bench", arms = { control = 0.1, coupon = 0.9 } }
local s = merx.experiment{ name = "bench_strat", arms = { control = 0.1, coupon = 0.9 }, stratify = "segment" }
local function time(f)
  local t0 = merx.clock("cpu")
  local c = f()
  return merx.clock("cpu") - t0, c
end
local tp, cp = time(function()
  local c = 0
  for i = 1, n do if e:arm(ids[i]) == "control" then c = c + 1 end end
  return c
end)
local ts, cs = time(function()
  local c = 0
  for i = 1, n do if s:arm(ids[i], segs[i % 4 + 1]) == "control" then c = c + 1 end end
  return c
end)
local tl = time(function() local c = 0 for i = 1, n do if ids[i] == "x" then c = c + 1 end end return c end)
print(string.format("arm %d users %.3f s %.0f users/s control %.4f", n, tp, n / tp, cp / n))
print(string.format("stratified %d users %.3f s %.0f users/s control %.4f", n, ts, n / ts, cs / n))
print(string.format("loop %.3f s", tl))
LUA
cat >"$work/emit.lua" <<'LUA'
local n = tonumber(merx.params.n)
local e = merx.experiment{ name = "bench", arms = { control = 0.1, coupon = 0.9 } }
local t0 = merx.clock("cpu")
for i = 1, n do
  e:emit("offer", { user = "customer-" .. i, offer = "SPRING10", cost = 4, reason = "bench" })
end
print(string.format("emit %d users %.3f s", n, merx.clock("cpu") - t0))
LUA
taskset -c 0 "$merx" run "$work/arms.lua" --set n="$users" --memory 8192 --timeout 0 >"$work/arms.txt"
emitn=$((users / 10))
start=$(date +%s.%N)
taskset -c 0 "$merx" run "$work/emit.lua" --set n="$emitn" --store "$work/st" --out "$work/out" \
  --memory 8192 --timeout 0 >"$work/emit.txt" 2>"$work/emit.err"
end=$(date +%s.%N)
wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
exposures=$(sqlite3 "$work/st/ledger.db" 'select count(*) from exposures')
assigned=$(sqlite3 "$work/st/ledger.db" 'select count(*) from assignments')
offers=$(($(wc -l <"$work/out/offer.csv") - 1))
get() { grep "^$1" "$work/arms.txt" | awk '{print $5}'; }
echo
echo "| what | users | CPU s (one core) | users/s | control share |"
echo "| --- | --- | --- | --- | --- |"
awk '/^arm /{printf "| e:arm(user) | %s | %s | %.0f | %s |\n", $2, $4, $6, $9}' "$work/arms.txt"
awk '/^stratified /{printf "| e:arm(user, stratum) | %s | %s | %.0f | %s |\n", $2, $4, $6, $9}' "$work/arms.txt"
awk '/^emit /{printf "| e:emit (staging: arm, record, decision) | %s | %s | %.0f | |\n", $2, $4, $2 / $4}' "$work/emit.txt"
echo
echo "whole \`merx run\` of e:emit for $emitn users, committed to a store: $wall s wall;" \
  "$offers offers, $assigned assignments, $exposures exposures" \
  "($(awk -v n="$emitn" -v w="$wall" 'BEGIN { printf "%.0f", n / w }') users/s end to end)"
