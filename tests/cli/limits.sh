# Limits that hold (#14): --timeout, signals and --memory stop work that runs
# inside C (pattern matching, long merx calls), with a message naming the
# limit and the script line, exit 1 and nothing committed. Every run is
# bounded by `timeout` so a limit that does not hold fails the test instead
# of hanging it.
STAGE='merx.emit("offer", {user = "u1", offer = "A", reason = "staged first"})'
nothing_committed() {
  if [ -e out/offer.csv ]; then echo "FAIL: outputs committed by a stopped run" >&2; ls -la out >&2; exit 1; fi
  if [ -e out/decisions.db ]; then
    local n; n="$(sqlite3 out/decisions.db 'select count(*) from decisions')"
    [ "$n" = "0" ] || { echo "FAIL: $n decisions logged by a stopped run" >&2; exit 1; }
  fi
}
# stopped NAME MESSAGE CODE [merx options...]: the run stops within 20 s with MESSAGE
stopped() {
  local name="$1" msg="$2" code="$3"; shift 3
  printf '%s\n%s\n' "$STAGE" "$code" > "$name.lua"
  rm -rf out
  expect_exit 1 timeout -s KILL 20 "$MERX" run "$name.lua" "$@"
  expect_contains err.txt "$msg"
  nothing_committed
}

# -- pattern matching (#14.10): the documented gap, now bounded by --timeout
stopped find "find.lua:2: time limit of 1 s exceeded (--timeout)" \
  'local s = string.find(string.rep("a", 3000), ".-.-.-b")' --timeout 1
stopped match_pcall "match_pcall.lua:2: time limit of 1 s exceeded" \
  'while true do pcall(string.match, string.rep("a", 3000), ".-.-.-b") end' --timeout 1
stopped gmatch "gmatch.lua:2: time limit of 1 s exceeded" \
  'for w in ("a"):rep(3000):gmatch(".-.-.-b") do end' --timeout 1
stopped gsub "gsub.lua:2: time limit of 1 s exceeded" \
  'local s = string.gsub(string.rep("a", 3000), ".-.-.-b", "x")' --timeout 1
stopped plain_find "plain_find.lua:2: time limit of 1 s exceeded" \
  'local s = string.rep("a", 1 << 26) local p = string.rep("a", 1 << 16) .. "b" string.find(s, p, 1, true)' --timeout 1
# a signal interrupts a match too
printf '%s\n%s\n' "$STAGE" 'string.find(string.rep("a", 3000), ".-.-.-b")' > sig.lua
rm -rf out
timeout -s KILL 20 "$MERX" run sig.lua >out.txt 2>err.txt &
pid=$!
sleep 1
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" -ne 137 ] || { echo "FAIL: SIGTERM did not stop a pattern match"; exit 1; }
expect_contains err.txt "sig.lua:2: script interrupted by a signal"
nothing_committed
