# Crash safety of the scheduler: `merx schedule --once` runs a job whose
# script writes two outputs (a large result.csv and summary.csv); the
# scheduler is killed with SIGKILL at a pseudo-random moment (deterministic
# per iteration, spread over 0-1.5x the measured run time). Its child run
# must die with it. Afterwards:
# - the slot's output directory is absent or holds exactly the complete
#   outputs (byte-identical to a reference run), and nothing else is visible
#   under outputs/JOB (staging is hidden and removed on restart);
# - the store passes PRAGMA integrity_check;
# - a restart catches the slot up (or finds it done) and ends with the
#   complete outputs and exactly one successful run of the slot in the log.
# Outcomes: none yet (slot absent after the kill), complete; anything else is lost.
KILLS=${MERX_KILLS:-10}
ROWS=60000
case "$(ldd "$MERX" 2>/dev/null || true)" in *libasan*) KILLS=${MERX_KILLS:-5} ROWS=30000 ;; esac
cat > big.lua <<'LUA'
local n = tonumber(merx.params.rows)
local users, scores = {}, {}
for u = 1, n do users[u] = "u" .. u; scores[u] = (u * 7919) % 1000 / 1000 end
merx.data.write("result.csv", { user = users, score = scores }, { columns = { "user", "score" } })
merx.data.write("summary.csv", { rows = { n } })
LUA
# Each iteration starts from a store that already ran the 09:00 slot, so a
# restart knows the schedule was running and catches up 10:00.
mkdir base
cp big.lua base/
cat > base/s.lua <<LUA
return { store = "k.db", jobs = {
  { name = "k", cron = "0 * * * *", script = "big.lua", params = { rows = $ROWS } } } }
LUA
(cd base && "$MERX" schedule s.lua --once --now 2026-01-01T09:00:05Z 2>/dev/null)
rm -rf base/outputs
config() { cp -r base "$1"; } # config DIR
slot=outputs/k/2026-01-01T10-00-00Z
config ref
t0=$(date +%s.%N)
(cd ref && "$MERX" schedule s.lua --once --now 2026-01-01T10:00:05Z 2>/dev/null)
t1=$(date +%s.%N)
dur=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
[ "$(wc -l < "ref/$slot/result.csv")" -eq $((ROWS + 1)) ]
[ -f "ref/$slot/summary.csv" ]

same_as_ref() { # same_as_ref DIR: the slot holds exactly the reference outputs
  [ "$(ls -A "$1/$slot")" = "$(ls -A "ref/$slot")" ] &&
    cmp -s "$1/$slot/result.csv" "ref/$slot/result.csv" &&
    cmp -s "$1/$slot/summary.csv" "ref/$slot/summary.csv"
}
fail() { echo "FAIL (kill $i, delay $delay s): $*" >&2; ls -laR "it$i/outputs" >&2 || true; exit 1; }

# Deterministic crash window: the scheduler dies after it has worked out
# which slots are due and before the first run's row exists. The slot must not
# be forgotten: the restart runs it.
config early
(cd early && MERX_TEST_SCHED_KILL_AFTER_CATCH_UP=1 "$MERX" schedule s.lua --once \
  --now 2026-01-01T10:00:05Z 2>/dev/null) && { echo "FAIL: the crash hook did not fire" >&2; exit 1; }
(cd early && "$MERX" schedule s.lua --once --now 2026-01-01T10:30:00Z 2>/dev/null) ||
  { echo "FAIL: restart after an early crash failed" >&2; exit 1; }
[ -d "early/$slot" ] || { echo "FAIL: a crash before the first run lost the 10:00 slot" >&2; exit 1; }
same_as_ref early || { echo "FAIL: early crash: outputs differ from the reference" >&2; exit 1; }
rm -rf early

none=0 complete=0 lost=0
for i in $(seq "$KILLS"); do
  delay=$(awk -v i="$i" -v d="$dur" 'BEGIN { srand(1000 + i); printf "%.3f", rand() * 1.5 * d }')
  config "it$i"
  (cd "it$i" && exec "$MERX" schedule s.lua --once --now 2026-01-01T10:00:05Z 2>/dev/null) &
  pid=$!
  sleep "$delay"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # the child run (its staging directory names the scheduler's pid) dies with it
  child="tmp-2026-01-01T10-00-00Z-$pid-"
  for _ in $(seq 100); do pgrep -f -- "$child" >/dev/null || break; sleep 0.1; done
  if pgrep -f -- "$child" >/dev/null; then fail "the run outlived its killed scheduler"; fi
  visible=$(ls "it$i/outputs/k" 2>/dev/null || true)
  if [ -z "$visible" ]; then
    none=$((none + 1))
  elif [ "$visible" = "2026-01-01T10-00-00Z" ] && same_as_ref "it$i"; then
    complete=$((complete + 1))
  else
    lost=$((lost + 1)); fail "partial outputs visible: $visible"
  fi
  if [ -f "it$i/k.db" ]; then
    [ "$(sqlite3 "it$i/k.db" 'PRAGMA integrity_check')" = ok ] || fail "store integrity"
  fi
  # restart: the slot is caught up (or already done) and complete
  (cd "it$i" && "$MERX" schedule s.lua --once --now 2026-01-01T10:30:00Z 2>/dev/null) || fail "restart failed"
  same_as_ref "it$i" || { lost=$((lost + 1)); fail "outputs after restart differ from the reference"; }
  [ "$(ls -A "it$i/outputs/k")" = "2026-01-01T10-00-00Z" ] || fail "staging left after restart"
  n=$(sqlite3 "it$i/k.db" "SELECT count(*) FROM runs WHERE job = 'k' AND status = 'success' AND scheduled = $(date -u -d 2026-01-01T10:00:00Z +%s)")
  [ "$n" -eq 1 ] || fail "$n successful runs of the slot in the log"
  rm -rf "it$i"
done
echo "kill_schedule: $KILLS kills (run ${dur}s), slot not yet committed $none, complete $complete, lost $lost"
[ "$lost" -eq 0 ]
