# merx schedule --once / daemon with real `merx run` children: committed
# outputs with digests, retries, timeouts, missed-slot policies, a daemon
# killed with SIGKILL mid-run (no partial outputs, caught up on restart),
# SIGTERM, SIGHUP reload and the one-daemon-per-store lock.
cat > ok.lua <<'LUA'
merx.data.write("result.csv", { { user = "u1", n = tonumber(merx.params.n), now = merx.now() } },
                { columns = { "user", "n", "now" } })
LUA
echo 'error("boom")' > fail.lua
echo 'while true do end' > spin.lua

# ---- success: outputs committed under outputs/JOB/SLOT with their sha256
cat > ok_s.lua <<'LUA'
return { store = "ok.db", jobs = {
  { name = "ok", cron = "0 * * * *", script = "ok.lua", params = { n = 3 } } } }
LUA
expect_exit 0 "$MERX" schedule ok_s.lua --once --now 2026-01-01T10:00:20Z
expect_contains err.txt "job=ok slot=2026-01-01T10:00:00+00:00 attempt=1 status=success"
f=outputs/ok/2026-01-01T10-00-00Z/result.csv
[ -f "$f" ]
expect_contains "$f" "u1,3,$(date -u -d 2026-01-01T10:00:00Z +%s)"   # merx.now() = the slot
expect_exit 0 "$MERX" runs ok_s.lua --json
expect_contains out.txt "\"status\":\"success\""
expect_contains out.txt "\"path\":\"result.csv\""
expect_contains out.txt "sha256:$(sha256sum "$f" | cut -d' ' -f1)"
# nothing is due any more in the same hour
expect_exit 0 "$MERX" schedule ok_s.lua --once --now 2026-01-01T10:30:00Z
expect_exit 0 "$MERX" runs ok.db
[ "$(grep -c success out.txt)" -eq 1 ]
[ -z "$(ls -A outputs/ok | grep tmp || true)" ]

# rerunning the slot (here with a new parameter) replaces its outputs in one step
sed -i 's/n = 3/n = 7/' ok_s.lua
expect_exit 0 "$MERX" schedule ok_s.lua --rerun ok --slot 2026-01-01T10:00:00Z
expect_contains "$f" "u1,7,"
[ "$(ls -A outputs/ok)" = "2026-01-01T10-00-00Z" ]   # no staging or old copy left
expect_exit 0 "$MERX" runs ok_s.lua --json
[ "$(grep -o '"status":"success"' out.txt | wc -l)" -eq 2 ]
expect_contains out.txt "sha256:$(sha256sum "$f" | cut -d' ' -f1)"
expect_exit 1 "$MERX" schedule ok_s.lua --rerun ok --slot 2026-01-01T10:05:00Z
expect_contains err.txt "is not a fire time of job 'ok'"
expect_exit 1 "$MERX" schedule ok_s.lua --rerun nope --slot 2026-01-01T10:00:00Z
expect_contains err.txt "no job named 'nope'"
expect_exit 2 "$MERX" schedule ok_s.lua --rerun ok

# ---- retries: 3 failed attempts, exit 1, the script's error recorded
cat > fail_s.lua <<'LUA'
return { store = "fail.db", jobs = {
  { name = "fail", cron = "0 * * * *", script = "fail.lua", retries = 2, retry_delay = 0.2 } } }
LUA
expect_exit 1 "$MERX" schedule fail_s.lua --once --now 2026-01-01T10:00:05Z
expect_contains err.txt "retry 1 of 2"
expect_contains err.txt "retry 2 of 2"
expect_contains err.txt "1 run(s) failed"
expect_exit 0 "$MERX" runs fail_s.lua
[ "$(grep -c '	failed	' out.txt)" -eq 3 ]
expect_contains out.txt "fail	2026-01-01T10:00:00+00:00	3	failed	1"
expect_contains out.txt "fail.lua:1: boom"
[ ! -e outputs/fail/2026-01-01T10-00-00Z ]

# ---- timeout: the run is stopped at `timeout` and nothing is committed
cat > spin_s.lua <<'LUA'
return { store = "spin.db", jobs = {
  { name = "spin", cron = "0 * * * *", script = "spin.lua", timeout = 1 } } }
LUA
expect_exit 1 "$MERX" schedule spin_s.lua --once --now 2026-01-01T10:00:05Z --grace 2
expect_exit 0 "$MERX" runs spin_s.lua
expect_contains out.txt "	timeout	"
[ ! -e outputs/spin/2026-01-01T10-00-00Z ]

# ---- missed policies after downtime (slots every 10 minutes)
cat > m_s.lua <<'LUA'
return { store = "m.db", jobs = {
  { name = "latest", cron = "*/10 * * * *", script = "ok.lua", params = { n = 1 } },
  { name = "skip", cron = "*/10 * * * *", script = "ok.lua", params = { n = 1 }, missed = "skip" },
  { name = "all", cron = "*/10 * * * *", script = "ok.lua", params = { n = 1 }, missed = "all",
    overlap = "allow" } } }
LUA
expect_exit 0 "$MERX" schedule m_s.lua --once --now 2026-01-01T10:00:20Z
expect_exit 0 "$MERX" schedule m_s.lua --once --now 2026-01-01T10:45:10Z
expect_exit 0 "$MERX" runs m_s.lua --limit 0
n() { grep -c "^$1	.*	$2	" out.txt || true; }
[ "$(n latest success)" -eq 2 ] && [ "$(n latest missed)" -eq 3 ]
[ "$(n skip success)" -eq 1 ] && [ "$(n skip missed)" -eq 4 ]
[ "$(n all success)" -eq 5 ] && [ "$(n all missed)" -eq 0 ]
expect_contains out.txt "latest	2026-01-01T10:40:00+00:00	1	success"
[ -d outputs/latest/2026-01-01T10-40-00Z ] && [ ! -e outputs/latest/2026-01-01T10-30-00Z ]
[ "$(ls outputs/all | grep -vc tmp)" -eq 5 ]
expect_exit 0 "$MERX" runs m_s.lua --job skip --limit 2
[ "$(wc -l < out.txt)" -eq 3 ] && [ "$(grep -c '^skip	' out.txt)" -eq 2 ]
expect_contains out.txt "skip	2026-01-01T10:40:00+00:00	1	missed"

# ---- a daemon killed with SIGKILL mid-run
cat > k_s.lua <<'LUA'
return { store = "k.db", jobs = {
  { name = "k", cron = "0 * * * *", script = "spin.lua", timeout = 120 } } }
LUA
wait_for() { # wait_for FILE TEXT: up to 20 s
  for _ in $(seq 200); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "FAIL: timed out waiting for '$2' in $1" >&2; cat "$1" >&2; exit 1
}
"$MERX" schedule k_s.lua --now 2026-01-01T11:00:05Z 2> k.log &
daemon=$!
wait_for k.log "status=running pid="
child=$(sed -n 's/.*status=running pid=\([0-9]*\).*/\1/p' k.log | head -1)
kill -0 "$child"
# a second scheduler on the same store is refused
expect_exit 1 "$MERX" schedule k_s.lua --once
expect_contains err.txt "another scheduler (pid $daemon) is running"
kill -KILL "$daemon"
wait "$daemon" 2>/dev/null || true
for _ in $(seq 100); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$child" 2>/dev/null; then echo "FAIL: run outlived the killed daemon"; exit 1; fi
[ ! -e outputs/k/2026-01-01T11-00-00Z ]          # nothing partial committed
# restart (the script is fixed meanwhile): the interrupted slot is caught up
sed -i 's/spin.lua/ok.lua/' k_s.lua
expect_exit 0 "$MERX" schedule k_s.lua --once --now 2026-01-01T11:30:00Z
expect_contains err.txt "1 run(s) abandoned by a previous scheduler"
expect_contains err.txt "job=k catching up slot 2026-01-01T11:00:00+00:00"
[ -f outputs/k/2026-01-01T11-00-00Z/result.csv ]
[ -z "$(ls -A outputs/k | grep '^\.tmp' || true)" ]  # staging of the killed run removed
expect_exit 0 "$MERX" runs k_s.lua
expect_contains out.txt "k	2026-01-01T11:00:00+00:00	1	abandoned"
expect_contains out.txt "k	2026-01-01T11:00:00+00:00	1	success"

# the same crash under missed = "skip": the interrupted slot is recorded, not rerun
cat > ks_s.lua <<'LUA'
return { store = "ks.db", jobs = {
  { name = "ks", cron = "0 * * * *", script = "spin.lua", timeout = 120, missed = "skip" } } }
LUA
"$MERX" schedule ks_s.lua --now 2026-01-01T11:00:05Z 2> ks.log &
daemon=$!
wait_for ks.log "status=running pid="
kill -KILL "$daemon"
wait "$daemon" 2>/dev/null || true
sed -i 's/spin.lua/ok.lua/' ks_s.lua
expect_exit 0 "$MERX" schedule ks_s.lua --once --now 2026-01-01T11:30:00Z
expect_exit 0 "$MERX" runs ks_s.lua
expect_contains out.txt "ks	2026-01-01T11:00:00+00:00	1	missed"
[ ! -e outputs/ks/2026-01-01T11-00-00Z ]
[ -z "$(ls -A outputs/ks)" ]

# ---- SIGTERM stops the current run cleanly; SIGHUP reloads (bad file refused)
cat > t_s.lua <<'LUA'
return { store = "t.db", jobs = {
  { name = "t", cron = "0 * * * *", script = "spin.lua", timeout = 120 } } }
LUA
"$MERX" schedule t_s.lua --now 2026-01-01T12:00:05Z 2> t.log &
daemon=$!
wait_for t.log "status=running pid="
cp t_s.lua t_good.lua
echo 'return { jobs = { { name = "t", cron = "99 * * * *", script = "spin.lua" } } }' > t_s.lua
kill -HUP "$daemon"
wait_for t.log "reload refused, keeping the previous schedule"
expect_contains t.log "field 'cron': job 't': invalid minute field '99'"
kill -0 "$daemon"
sed 's/timeout = 120 }/timeout = 120 },\n  { name = "t2", cron = "@daily", script = "ok.lua" }/' t_good.lua > t_s.lua
kill -HUP "$daemon"
wait_for t.log "reloaded t_s.lua: 2 job(s)"
kill -TERM "$daemon"
set +e; wait "$daemon"; rc=$?; set -e
[ "$rc" -eq 0 ] || { echo "FAIL: daemon exit $rc after SIGTERM"; cat t.log; exit 1; }
expect_contains t.log "status=stopped"
[ ! -e outputs/t/2026-01-01T12-00-00Z ]
expect_exit 0 "$MERX" runs t_s.lua
expect_contains out.txt "t	2026-01-01T12:00:00+00:00	1	stopped"
