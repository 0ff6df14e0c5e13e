# Helpers for the merx serve shell tests (sourced by tests/cli/serve*.sh).
# start_server ARGS...  run `merx serve --listen 127.0.0.1:0 ARGS` in the
#                       background, wait at most 10 s for "listening on
#                       http://HOST:PORT"; sets PID and URL; log in serve.log
# stop_server           SIGTERM, wait at most 10 s, require exit 0
# call METHOD PATH [BODY] [--token T]   curl; status on the first line of out.txt, body
#                       after (body alone in body.txt, headers in hdr.txt)
# status                the status of the last call
command -v curl >/dev/null || { echo "curl is not installed (scripts/lib.sh installs it)"; exit 77; }
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$work"' EXIT

start_server() {
  "$MERX" serve --listen 127.0.0.1:0 "$@" 2>serve.log &
  PID=$!
  for _ in $(seq 1 100); do
    grep -q "^listening on " serve.log && break
    kill -0 "$PID" 2>/dev/null || { echo "server exited:"; cat serve.log; exit 1; }
    sleep 0.1
  done
  URL=$(sed -n 's/^listening on \(http:.*\)$/\1/p' serve.log)
  [ -n "$URL" ] || { echo "server did not start in 10 s"; cat serve.log; exit 1; }
}

stop_server() {
  kill -TERM "$PID"
  for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$PID" 2>/dev/null; then echo "server ignored SIGTERM"; kill -KILL "$PID"; exit 1; fi
  set +e; wait "$PID"; local rc=$?; set -e
  PID=""
  [ "$rc" -eq 0 ] || { echo "server exited $rc after SIGTERM"; cat serve.log; exit 1; }
}

call() {
  local method="$1" path="$2" body="" token=""
  shift 2
  if [ $# -gt 0 ] && [ "$1" != --token ]; then body="$1"; shift; fi
  if [ $# -gt 1 ] && [ "$1" = --token ]; then token="$2"; fi
  local args=(-s -S -o body.txt -D hdr.txt -w '%{http_code}' -X "$method" --max-time 30)
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  curl "${args[@]}" "$URL$path" >code.txt || true
  { cat code.txt; echo; cat body.txt; } >out.txt
}
status() { head -1 out.txt; }
# expect_status CODE: the last call's status
expect_status() {
  [ "$(status)" = "$1" ] || { echo "FAIL: expected HTTP $1"; cat out.txt hdr.txt; echo "--- log"; tail -5 serve.log; exit 1; }
}
# wait_for FILE TEXT: at most 10 s
wait_for() {
  for _ in $(seq 1 100); do grep -qF -- "$2" "$1" && return 0; sleep 0.1; done
  echo "FAIL: $1 never contained: $2"; tail -20 "$1"; exit 1
}
