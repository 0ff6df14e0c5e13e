#!/usr/bin/env bash
# merx serve benchmark (issue 17): POST /v1/recommend on a synthetic
# USERS x ITEMS x FACTORS iALS model (default 100k x 50k x 128, 20 training
# items per user excluded), loaded with wrk at CONNS connections (default 50)
# for DURATION seconds per configuration:
#   1. the anchor it replaces: one `merx recommend --user` process per request
#      (sequential; start-up dominated);
#   2. the server scoring each request alone (recommend.batch = 1: one scan of
#      the item matrix per request);
#   3. the server with dynamic micro-batching and the float scan alone
#      (recommend.exact = true), then the same with the default scan (the bf16
#      first pass where the CPU has AVX-512 BF16), so the two compare in one
#      run; the default with micro-batching (requests that
#      arrive together are scored with one matrix product), closed loop (each
#      connection sends its next request when the last is answered: maximum
#      throughput; by Little's law mean latency = CONNS / throughput);
#   4. the same at a fixed offered rate of RATE requests/s (default 5000) over
#      the same CONNS connections (wrk paced by serve_wrk.lua's delay()): the
#      latency percentiles the p99 target is about.
# For each: requests/s, p50/p90/p99/p99.9 latency, server CPU per request
# (from /proc, so a busy machine shows what the server itself needs), wrk's
# own CPU per request (it shares the cores), and the requests/s the server's
# CPU time allows on the machine's cores. A compact summary ends the output.
# Then: memory over a soak (SOAK seconds, default 600; RSS at start and end)
# and RELOADS SIGHUPs (default 100) under load, counting non-2xx answers and
# socket errors (must be 0).
# Prints the CPU model and the OpenBLAS core. Environment overrides: USERS
# ITEMS FACTORS CONNS DURATION SOAK RELOADS RATE THREADS (wrk threads, default 2).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/scripts/lib.sh"
merx_install_packages wrk curl
BUILD="${BUILD:-$ROOT/build}"
if [ ! -x "$BUILD/merx_bench_topk" ] || [ ! -x "$BUILD/merx" ]; then
  merx_build "$BUILD" -DCMAKE_BUILD_TYPE=Release
fi
MERX="$BUILD/merx"
USERS=${USERS:-100000} ITEMS=${ITEMS:-50000} FACTORS=${FACTORS:-128}
CONNS=${CONNS:-50} DURATION=${DURATION:-20} SOAK=${SOAK:-600} RELOADS=${RELOADS:-100}
THREADS=${THREADS:-2} RATE=${RATE:-5000}
TMP="$(mktemp -d)"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT
WRK_LUA="$ROOT/scripts/bench/serve_wrk.lua"
export SERVE_USERS=$USERS SERVE_WRK_THREADS=$THREADS

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
blas_core=$(OPENBLAS_VERBOSE=2 "$MERX" version 2>&1 | sed -n 's/^Core: //p' | head -1)
[ -n "$blas_core" ] || blas_core=$(OPENBLAS_VERBOSE=2 "$MERX" run -e 'merx.model' 2>&1 | sed -n 's/^Core: //p' | head -1)
echo "CPU: $cpu_model ($(nproc) cores)   OpenBLAS core: ${blas_core:-unknown}   load: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== synthetic model ${USERS} x ${ITEMS} x ${FACTORS}" >&2
"$BUILD/merx_bench_topk" save "$USERS" "$ITEMS" "$FACTORS" "$TMP/model.mxm"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
val() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
hz=$(getconf CLK_TCK)

# start CONFIG_LUA: a server on a free port; sets PID and URL
start() {
  "$MERX" serve --config "$1" --listen 127.0.0.1:0 2>"$TMP/serve.log" &
  PID=$!
  for _ in $(seq 1 600); do
    grep -q '^listening on ' "$TMP/serve.log" && break
    kill -0 "$PID" 2>/dev/null || { cat "$TMP/serve.log"; exit 1; }
    sleep 0.1
  done
  URL=$(sed -n 's/^listening on \(http:.*\)$/\1/p' "$TMP/serve.log")
}
stop() {
  kill -TERM "$PID"
  wait "$PID" || true
  PID=""
}

row() { printf '%-38s %9s %8s %8s %8s %8s %10s %10s %10s %7s\n' "$@" | tee -a "$TMP/summary.txt"; }
: > "$TMP/summary.txt"
echo
row "configuration" "req/s" "p50 ms" "p90 ms" "p99 ms" "p99.9" "CPU ms/req" "wrk ms/req" "CPU-bound" "non2xx"
row "--------------------------------------" "---------" "--------" "--------" "--------" "--------" \
  "----------" "----------" "----------" "-------"

# ---- 1. the anchor: a process per request
n=40
: > "$TMP/cli.txt"
t0=$(date +%s.%N)
for i in $(seq 1 $n); do
  s=$(date +%s.%N)
  "$MERX" recommend --model "$TMP/model.mxm" --user "u$((RANDOM * 3 % USERS))" --k 10 \
    --out "$TMP/one.csv" 2>/dev/null
  e=$(date +%s.%N)
  echo "$s $e" | awk '{printf "%.3f\n", ($2 - $1) * 1000}' >> "$TMP/cli.txt"
done
t1=$(date +%s.%N)
sort -n "$TMP/cli.txt" > "$TMP/cli.sorted"
pct() { awk -v p="$1" '{a[NR] = $1} END {i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print a[i]}' "$2"; }
rps=$(echo "$t0 $t1 $n" | awk '{printf "%.1f", $3 / ($2 - $1)}')
row "merx recommend --user (1 process)" "$rps" "$(pct 50 "$TMP/cli.sorted")" \
  "$(pct 90 "$TMP/cli.sorted")" "$(pct 99 "$TMP/cli.sorted")" "-" "-" "-" "-" "0"

# run_wrk LABEL CONFIG [RATE]: one configuration under wrk (RATE: paced)
run_wrk() {
  cat > "$TMP/serve.lua" <<EOF
return { model = "model.mxm", access_log = false, $2 }
EOF
  start "$TMP/serve.lua"
  wrk -t"$THREADS" -c"$CONNS" -d2s -s "$WRK_LUA" "$URL/" >/dev/null 2>&1 # warm-up
  local c0 c1
  c0=$(ticks "$PID")
  # wrk's CPU: `times` in a subshell reports its children (wrk alone)
  (SERVE_RATE="${3:-}" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -s "$WRK_LUA" "$URL/" \
    > "$TMP/wrk.txt" 2>&1; times) | tail -1 > "$TMP/times.txt"
  c1=$(ticks "$PID")
  local f="$TMP/wrk.txt" req cpu_ms bound wrk_ms
  req=$(val requests "$f")
  cpu_ms=$(echo "$c0 $c1 $req $hz" | awk '{printf "%.3f", ($2 - $1) / $4 * 1000 / $3}')
  bound=$(echo "$cpu_ms $(nproc)" | awk '{printf "%.0f", $2 * 1000 / $1}')
  wrk_ms=$(awk -v n="$req" '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] }
    printf "%.3f", s * 1000 / n }' "$TMP/times.txt")
  row "$1" "$(val rps "$f")" "$(val p50_ms "$f")" "$(val p90_ms "$f")" "$(val p99_ms "$f")" \
    "$(val p99.9_ms "$f")" "$cpu_ms" "$wrk_ms" "$bound" "$(( $(val non2xx "$f") + $(val socket_errors "$f") ))"
  curl -s "$URL/metrics" | grep -E '^merx_recommend_(batches|batched_users|rows)_total' > "$TMP/m.txt" || true
  stop
}
cp "$TMP/model.mxm" "$TMP/model.mxm.orig"
cd "$TMP"
run_wrk "serve, one scan per request" "recommend = { batch = 1 }"
mean_batch() { awk '$1 == "merx_recommend_batches_total" {b = $2} $1 == "merx_recommend_batched_users_total" {u = $2} END {if (b) printf "%.1f", u / b}' "$TMP/m.txt"; }
run_wrk "serve, micro-batched, float scan" "recommend = { exact = true }"
bx=$(mean_batch)
run_wrk "serve, micro-batched (default)" ""
b=$(mean_batch)
scans=$(awk -F'[{}" ]+' '$1 == "merx_recommend_rows_total" {printf "%s%s %s", (n++ ? ", " : ""), $3, $4}' "$TMP/m.txt")
run_wrk "serve, micro-batched, offered ${RATE}/s" "" "$RATE"
bp=$(mean_batch)
echo "(CPU-bound = requests/s the server's own CPU time per request allows on $(nproc) cores;"
echo " wrk ms/req = the load generator's CPU on the same cores; mean micro-batch: $bx users"
echo " float scan, $b users default (rows by scan: ${scans:-none}), $bp users at the offered rate;"
echo " the default uses the bf16 first pass where the CPU has AVX-512 BF16: cpu_simd $("$MERX" version --json | sed -n 's/.*"cpu_simd":"\([^"]*\)".*/\1/p'))"

# ---- 4. memory over a soak
if [ "$SOAK" -gt 0 ]; then
  echo "== soak: ${SOAK} s at ${CONNS} connections" >&2
  printf 'return { model = "model.mxm", access_log = false }\n' > "$TMP/serve.lua"
  start "$TMP/serve.lua"
  wrk -t"$THREADS" -c"$CONNS" -d5s -s "$WRK_LUA" "$URL/" >/dev/null 2>&1
  r0=$(rss_mib "$PID")
  wrk -t"$THREADS" -c"$CONNS" -d"${SOAK}s" -s "$WRK_LUA" "$URL/" > "$TMP/wrk.txt" 2>&1
  r1=$(rss_mib "$PID")
  echo "soak ${SOAK} s: $(val requests "$TMP/wrk.txt") requests, RSS ${r0} MiB after warm-up, ${r1} MiB at the end, non-2xx + errors $(( $(val non2xx "$TMP/wrk.txt") + $(val socket_errors "$TMP/wrk.txt") ))" | tee -a "$TMP/summary.txt"
  stop
fi

# ---- 5. reloads under load
if [ "$RELOADS" -gt 0 ]; then
  echo "== ${RELOADS} reloads under load" >&2
  printf 'return { model = "model.mxm", access_log = false }\n' > "$TMP/serve.lua"
  start "$TMP/serve.lua"
  r0=$(rss_mib "$PID")
  wrk -t"$THREADS" -c"$CONNS" -d600s -s "$WRK_LUA" "$URL/" > "$TMP/wrk.txt" 2>&1 &
  WRK=$!
  sleep 1
  t0=$(date +%s.%N)
  for g in $(seq 2 $((RELOADS + 1))); do
    kill -HUP "$PID"
    for _ in $(seq 1 600); do grep -q "reloaded: generation $g in " "$TMP/serve.log" && break; sleep 0.05; done
  done
  t1=$(date +%s.%N)
  sleep 1
  kill -INT "$WRK"
  wait "$WRK" || true
  r1=$(rss_mib "$PID")
  done_n=$(grep -c 'reloaded: generation' "$TMP/serve.log" || true)
  failed=$(grep -c 'reload failed' "$TMP/serve.log" || true)
  echo "reloads: ${done_n} of ${RELOADS} in $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s, ${failed} failed; $(val requests "$TMP/wrk.txt") requests, non-2xx + errors $(( $(val non2xx "$TMP/wrk.txt") + $(val socket_errors "$TMP/wrk.txt") )); RSS ${r0} -> ${r1} MiB" | tee -a "$TMP/summary.txt"
  stop
fi

echo
echo "== summary: $(date -u +%Y-%m-%d) ${USERS} x ${ITEMS} x ${FACTORS}, ${CONNS} connections, ${DURATION} s each;" \
  "CPU: $cpu_model ($(nproc) cores), OpenBLAS ${blas_core:-unknown}, load $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$TMP/summary.txt"
