#!/usr/bin/env bash
# Cost of the step budget in the sandbox's pattern matcher (src/lua/lpattern.c):
# the same workload (scripts/bench/patterns.lua) in a stock lua5.4 (Lua's own
# matcher) and in `merx run` (bounded matcher), CPU seconds of the matching
# only, best of 5, pinned to one core.
#
#   scripts/bench/patterns.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$root/build"
[ -x "$build/merx" ] || { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j2 >/dev/null; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
body="$root/scripts/bench/patterns.lua"
best() { sort -n | head -1; }
for i in 1 2 3 4 5; do taskset -c 0 lua5.4 "$body"; done > "$work/stock.txt"
for i in 1 2 3 4 5; do taskset -c 0 "$build/merx" run "$body" --out "$work/out" --timeout 0; done \
  > "$work/merx.txt"
[ "$(cut -d' ' -f2 "$work/stock.txt" | sort -u)" = "$(cut -d' ' -f2 "$work/merx.txt" | sort -u)" ] ||
  { echo "checksums differ" >&2; exit 1; }
stock=$(cut -d' ' -f1 "$work/stock.txt" | best)
bounded=$(cut -d' ' -f1 "$work/merx.txt" | best)
awk -v a="$stock" -v b="$bounded" 'BEGIN { printf "stock lua5.4 %.3f s, merx run %.3f s: %+.1f%%\n", a, b, (b / a - 1) * 100 }'
