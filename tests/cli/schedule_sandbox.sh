# Schedule files run in the script sandbox with its sticky stop (#14.9,
# #15.7): a file that loops, even inside pcall, fails to load after a short
# time limit with file and line named; `--next` returns, and a daemon told to
# reload such a file keeps its old schedule and still answers SIGTERM. Every
# command is bounded by `timeout` so a hang fails the test.
echo 'print("hi")' > job.lua
cat > loop.lua <<'LUA'
local jobs = {}
while true do pcall(function() while true do end end) end
return { jobs = jobs }
LUA
expect_exit 1 timeout -s KILL 30 "$MERX" schedule loop.lua --next 1
expect_contains err.txt "loop.lua:2: time limit of 3 s exceeded while loading the schedule file"
# a looping __index on the returned table is stopped too
cat > meta.lua <<'LUA'
return setmetatable({}, { __index = function() while true do end end })
LUA
expect_exit 1 timeout -s KILL 30 "$MERX" schedule meta.lua --next 1
expect_contains err.txt "meta.lua:1: time limit of 3 s exceeded while loading the schedule file"
# the schedule file sees the sandbox, not the OS
echo 'return { jobs = { { name = "j", cron = "@daily", script = os.getenv("HOME") } } }' > os.lua
expect_exit 1 timeout -s KILL 30 "$MERX" schedule os.lua --next 1
expect_contains err.txt "os.lua:1: attempt to index a nil value (global 'os')"
# a good file still computes
cat > ok.lua <<'LUA'
local jobs = {}
for _, r in ipairs{ "eu", "us" } do
  jobs[#jobs + 1] = { name = "job-" .. r, cron = string.format("%d 2 * * *", #jobs * 15), script = "job.lua" }
end
return { store = "runs.db", jobs = jobs }
LUA
expect_exit 0 timeout -s KILL 30 "$MERX" schedule ok.lua --next 1 --from 2026-01-01T00:00:00Z
expect_contains out.txt "job-us	2026-01-01T02:15:00+00:00"

# the daemon: SIGHUP with a looping file keeps the old schedule; SIGTERM still stops it
wait_for() { for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "FAIL: '$2' not in $1"; cat "$1"; exit 1; }
cp ok.lua d.lua
"$MERX" schedule d.lua --now 2026-01-01T00:00:30Z 2> d.log &
daemon=$!
trap 'kill -KILL "$daemon" 2>/dev/null || true; rm -rf "$work"' EXIT # never outlives the test
wait_for d.log "scheduling d.lua: 2 job(s)"
cp loop.lua d.lua
kill -HUP "$daemon"
wait_for d.log "reload refused, keeping the previous schedule"
expect_contains d.log "d.lua:2: time limit of 3 s exceeded while loading the schedule file"
kill -0 "$daemon"
kill -TERM "$daemon"
for _ in $(seq 200); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
kill -0 "$daemon" 2>/dev/null && { echo "FAIL: the daemon ignored SIGTERM for 20 s"; exit 1; }
set +e; wait "$daemon"; rc=$?; set -e
[ "$rc" -eq 0 ] || { echo "FAIL: daemon exit $rc after SIGTERM"; cat d.log; exit 1; }
