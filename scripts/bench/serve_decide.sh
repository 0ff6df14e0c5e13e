#!/usr/bin/env bash
# /v1/decide benchmark (issue 17: target p99 <= 10 ms): `merx serve` with the
# spring campaign's rule (examples/spring_decide.lua), its caps (one coupon
# per shopper per 14 days, each coupon's stock) and the decisions written to
# a store's ledger in batches, loaded by wrk at fixed concurrency with a new
# shopper id per request (so every request emits and records a decision until
# the coupons run out, then is capped). Prints the CPU model, requests/s,
# wrk's latency percentiles, the CPU seconds of the server per request and
# the ledger rows written; then the same number of decisions through one
# `merx run` process per request (the anchor the service replaces), timed.
#
#   scripts/bench/serve_decide.sh [SECONDS] [CONNECTIONS]   (default 20 s, 16)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
secs="${1:-20}"
conns="${2:-16}"
merx="$root/build/merx"
command -v wrk >/dev/null || { echo "wrk is not installed (Debian: apt-get install wrk)"; exit 1; }
if [ ! -x "$merx" ]; then
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build" -j2 >/dev/null
fi
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores;" \
  "BLAS core: ${OPENBLAS_CORETYPE:-auto} (not used)"
cd "$work"
cp "$root/examples/spring_decide.lua" .
mkdir store
sed -e 's|127.0.0.1:8080|127.0.0.1:0|' -e 's|SPRING10 = 70, FREESHIP = 250|SPRING10 = 70000, FREESHIP = 250000|' \
  "$root/examples/serve_decide.lua" > serve.lua
cat > body.lua <<'LUA'
-- a new shopper per request, cycling through the segments
local n = 0
local segs = { "champions", "loyal", "new", "needs_attention" }
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = string.format('{"args": {"user": "w%d-%d", "segment": "%s", "recency": %d, ' ..
    '"frequency": %d, "monetary": %d, "item": "85123A"}}', math.random(1e9), n, segs[n % 4 + 1],
    n % 60, n % 15, 40 + n % 500)
  return wrk.format(nil, nil, nil, body)
end
LUA
"$merx" serve --config serve.lua --threads 4 2>serve.log &
pid=$!
for _ in $(seq 1 100); do grep -q "^listening on " serve.log && break; sleep 0.1; done
url=$(sed -n 's/^listening on \(http:.*\)$/\1/p' serve.log)
[ -n "$url" ] || { cat serve.log; exit 1; }
cpu0=$(awk '{print $14 + $15}' /proc/$pid/stat)
wrk -t2 -c"$conns" -d"${secs}s" --latency -s body.lua "$url/v1/decide" > wrk.txt
cpu1=$(awk '{print $14 + $15}' /proc/$pid/stat)
kill -TERM "$pid"
wait "$pid" || true
pid=""
reqs=$(awk '/requests in/ {print $1}' wrk.txt)
echo "== /v1/decide: wrk -t2 -c$conns -d${secs}s (a new shopper per request)"
grep -E 'Requests/sec|Non-2xx|Socket errors' wrk.txt || true
sed -n '/Latency Distribution/,/requests in/p' wrk.txt | grep -E '50%|75%|90%|99%'
cpu_ms=$(awk -v c="$((cpu1 - cpu0))" -v r="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.3f", 1000 * c / hz / r}')
echo "server CPU per request: $cpu_ms ms"
pct() { sed -n '/Latency Distribution/,/requests in/p' wrk.txt | awk -v p="$1%" '$1 == p {print $2}'; }
rps=$(awk '/Requests\/sec/ {print $2}' wrk.txt)
echo "ledger rows written: $(sqlite3 store/ledger.db 'SELECT count(*) FROM decisions'), in" \
  "$(sqlite3 store/ledger.db 'SELECT count(*) FROM commits') batches"

# the anchor: one merx run per decision (process start, script load, commit)
n=20
sed '$d' spring_decide.lua > once.lua
cat >> once.lua <<'LUA'
M.decide({ user = merx.params.user, segment = "champions", recency = 3, frequency = 12,
           monetary = 820, item = "85123A" })
LUA
mkdir -p store2
t0=$(date +%s.%N)
for i in $(seq 1 $n); do "$merx" run once.lua --store store2 --set user="p$i" --out out >/dev/null 2>&1; done
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN {printf "== merx run per decision: %.1f ms each (%d runs, wall)\n", 1000 * (b - a) / n, n}'
anchor=$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN {printf "%.1f", 1000 * (b - a) / n}')
echo
echo "== summary: $(date -u +%Y-%m-%d), $conns connections, $secs s, load $(cut -d' ' -f1-3 /proc/loadavg) (target p99 <= 10 ms)"
printf '%-10s %8s %8s %8s %11s %12s %14s\n' "req/s" "p50" "p90" "p99" "CPU ms/req" "ledger rows" "merx run ms"
printf '%-10s %8s %8s %8s %11s %12s %14s\n' "$rps" "$(pct 50)" "$(pct 90)" "$(pct 99)" "$cpu_ms" \
  "$(sqlite3 store/ledger.db 'SELECT count(*) FROM decisions')" "$anchor"
