#!/usr/bin/env bash
# Where a `merx serve` request's CPU goes, in numbers that survive a loaded
# machine (issue 17). For ENDPOINT recommend (the 100k x 50k x 128 model of
# serve.sh) or decide (the spring rule of serve_decide.sh), for each merx
# binary given (default: this build's; name two to compare an old and a new
# build in one run):
#   1. instructions per request: the server under callgrind, WARM requests
#      sent and the counters zeroed, then a fixed sequence of N requests
#      (the same users / shoppers for every binary) over one keep-alive
#      connection; the server's instructions (all threads) / N, and the
#      functions with the most inclusive instructions (callgrind_annotate);
#   2. CPU ms per request natively: wrk (CONNS connections, DURATION s), the
#      server's own CPU time from /proc / requests; with two binaries the
#      runs alternate ROUNDS times so both see the same load.
# Under valgrind the CPU reports no AVX-512, so /v1/recommend scans the float
# matrix there (not the bf16 first pass) and requests come one at a time
# (batches of 1): step 1 measures the path around the scan, step 2 the whole.
#
#   scripts/bench/serve_profile.sh recommend|decide [MERX...]
# Environment: N (default 400) WARM (50) CONNS (50 recommend, 16 decide)
# DURATION (5) ROUNDS (3) USERS ITEMS FACTORS CALLGRIND (1; 0 skips step 1)
# WRK (1; 0 skips step 2) TOP (25 functions).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/scripts/lib.sh"
ENDPOINT=${1:?usage: serve_profile.sh recommend\|decide [MERX...]}
shift
BUILD="${BUILD:-$ROOT/build}"
BINS=("$@")
[ ${#BINS[@]} -gt 0 ] || BINS=("$BUILD/merx")
N=${N:-400} WARM=${WARM:-50} DURATION=${DURATION:-5} ROUNDS=${ROUNDS:-3} TOP=${TOP:-25}
CALLGRIND=${CALLGRIND:-1} WRK=${WRK:-1}
USERS=${USERS:-100000} ITEMS=${ITEMS:-50000} FACTORS=${FACTORS:-128}
case "$ENDPOINT" in
recommend) CONNS=${CONNS:-50} ;;
decide) CONNS=${CONNS:-16} ;;
*) echo "serve_profile.sh: endpoint must be recommend or decide" >&2; exit 2 ;;
esac
pkgs=(curl)
[ "$CALLGRIND" = 1 ] && pkgs+=(valgrind)
[ "$WRK" = 1 ] && pkgs+=(wrk)
merx_install_packages "${pkgs[@]}"
TMP="$(mktemp -d)"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT
hz=$(getconf CLK_TCK)

echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) ($(nproc) cores)" \
  " BLAS: $("${BINS[0]}" version --json | sed -n 's/.*"blas_core": *"\([^"]*\)".*/\1/p')" \
  " load: $(cut -d' ' -f1-3 /proc/loadavg)  $(date -u +%Y-%m-%dT%H:%MZ)"

# ---- the server's configuration and the request sequence
cd "$TMP"
if [ "$ENDPOINT" = recommend ]; then
  [ -x "$BUILD/merx_bench_topk" ] || merx_build "$BUILD" -DCMAKE_BUILD_TYPE=Release
  "$BUILD/merx_bench_topk" save "$USERS" "$ITEMS" "$FACTORS" model.mxm >/dev/null
  echo 'return { model = "model.mxm", access_log = false }' > serve.lua
  path=/v1/recommend
  body() { printf '{"user": "u%d", "k": 10}' $(( ($1 * 7919) % USERS )); }
  export SERVE_USERS=$USERS SERVE_WRK_THREADS=2
  WRK_LUA="$ROOT/scripts/bench/serve_wrk.lua"
else
  cp "$ROOT/examples/spring_decide.lua" .
  sed -e 's|127.0.0.1:8080|127.0.0.1:0|' \
    -e 's|SPRING10 = 70, FREESHIP = 250|SPRING10 = 70000000, FREESHIP = 250000000|' \
    "$ROOT/examples/serve_decide.lua" > serve.lua
  path=/v1/decide
  segs=(champions loyal new needs_attention)
  body() {
    printf '{"args": {"user": "s%s-%d", "segment": "%s", "recency": %d, "frequency": %d, "monetary": %d, "item": "85123A"}}' \
      "$RUN" "$1" "${segs[$(($1 % 4))]}" $(($1 % 60)) $(($1 % 15)) $((40 + $1 % 500))
  }
  cat > decide_wrk.lua <<'LUA'
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
  WRK_LUA=decide_wrk.lua
fi
# curl config: requests FROM..TO-1 over one keep-alive connection
requests() {
  for ((i = $1; i < $2; i++)); do
    [ "$i" -gt "$1" ] && echo next
    printf 'url = "%s%s"\nheader = "Content-Type: application/json"\nsilent\noutput = "/dev/null"\n' \
      "$URL" "$path"
    printf 'write-out = "%%{http_code}\\n"\n'
    printf 'data = %s\n' "$(body "$i" | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$/"/')"
  done
}
send() { # FROM TO: fails unless every answer is 2xx
  requests "$1" "$2" > req.cfg
  curl -K req.cfg > codes.txt
  local bad
  bad=$(grep -vc '^2' codes.txt || true)
  [ "$bad" = 0 ] || { echo "non-2xx answers: $(sort codes.txt | uniq -c | tr '\n' ' ')" >&2; exit 1; }
}
start() { # PREFIX...: the server under PREFIX (valgrind or nothing)
  rm -rf store && mkdir -p store
  local cfg=serve.lua
  # under valgrind a Lua call runs ~50x slower: the 50 ms call limit would time it out
  [ "$1" = valgrind ] && { sed 's/timeout_ms = 50,/timeout_ms = 5000,/' serve.lua > serve_cg.lua; cfg=serve_cg.lua; }
  "$@" serve --config "$cfg" --listen 127.0.0.1:0 --threads 4 2> serve.log &
  PID=$!
  for _ in $(seq 1 3000); do
    grep -q '^listening on ' serve.log && break
    kill -0 "$PID" 2>/dev/null || { cat serve.log >&2; exit 1; }
    sleep 0.1
  done
  URL=$(sed -n 's/^listening on \(http:.*\)$/\1/p' serve.log)
}
stop() {
  kill -TERM "$PID"
  wait "$PID" || true
  PID=""
}

# ---- 1. instructions per request
if [ "$CALLGRIND" = 1 ]; then
  for b in "${BINS[@]}"; do
    RUN=$RANDOM
    echo "== $b: callgrind, $N requests to $path after $WARM warm-up" >&2
    start valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" "$b"
    send 0 "$WARM"
    callgrind_control -z "$PID" >/dev/null
    send "$WARM" $((WARM + N))
    callgrind_control -d "$PID" >/dev/null
    stop
    # the dump callgrind_control -d made (counters zeroed after the warm-up): the sequence alone
    f=$(grep -l '^desc: Trigger: dump' "$TMP"/cg.out* | head -1)
    total=$(awk '/^totals:/ {print $2}' "$f")
    echo
    echo "### $b"
    awk -v t="$total" -v n="$N" 'BEGIN {printf "instructions per request: %.0f (%s over %d requests, all threads)\n", t / n, t, n}'
    callgrind_annotate --inclusive=yes "$f" 2>/dev/null | awk -v top="$TOP" -v n="$N" '
      /^-+$/ {dash++; next}
      dash >= 3 && NF >= 2 && $1 ~ /^[0-9,]+$/ && c < top {
        ir = $1; gsub(",", "", ir); c++
        $1 = ""; $2 = ($2 ~ /^\(/) ? "" : $2
        printf "%12.0f instr/req  %s\n", ir / n, substr($0, 2)
      }'
    [ -n "${CG_KEEP:-}" ] && cp "$f" "$CG_KEEP.$(basename "$(dirname "$b")")"
    rm -f "$TMP"/cg.out*
  done
fi

# ---- 2. CPU ms per request under wrk
if [ "$WRK" = 1 ]; then
  echo
  echo "### server CPU per request under wrk ($CONNS connections, ${DURATION} s per run, $ROUNDS rounds)"
  printf '%-50s %6s %10s %10s %10s %8s\n' binary round "requests" "req/s" "CPU ms/req" "non-2xx"
  for r in $(seq 1 "$ROUNDS"); do
    for b in "${BINS[@]}"; do
      start "$b"
      wrk -t2 -c"$CONNS" -d1s -s "$WRK_LUA" "$URL$path" >/dev/null 2>&1 # warm-up
      c0=$(awk '{print $14 + $15}' "/proc/$PID/stat")
      wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$WRK_LUA" "$URL$path" > wrk.txt 2>&1
      c1=$(awk '{print $14 + $15}' "/proc/$PID/stat")
      stop
      req=$(awk '/requests in/ {print $1}' wrk.txt)
      rps=$(awk '/Requests\/sec/ {print $2}' wrk.txt)
      # on a loaded machine a decision can hit its 50 ms call limit (504): counted, not fatal
      non2xx=$(awk '/Non-2xx/ {print $NF}' wrk.txt)
      printf '%-50s %6s %10s %10s %10.3f %8s\n' "$b" "$r" "$req" "$rps" \
        "$(awk -v c=$((c1 - c0)) -v h="$hz" -v n="$req" 'BEGIN {print 1000 * c / h / n}')" "${non2xx:-0}"
    done
  done
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
