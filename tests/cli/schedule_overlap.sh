# Overlap policies and a flaky run that succeeds on retry, with `--exec` pointing
# at a small stand-in runner (it receives `run SCRIPT --out DIR --timeout T
# --set k=v ...` exactly as `merx run` does) so runs can sleep for real.
cat > runner.sh <<'SH'
#!/usr/bin/env bash
# usage: runner.sh run SCRIPT --out DIR --timeout T [--set k=v ...]
script="$2"; out="$4"; here="$(dirname "$script")"
touch "$here/active.$$"
n=$(ls "$here" | grep -c '^active\.')
echo "$n" >> "$here/concurrency.txt"
trap 'rm -f "$here/active.$$"' EXIT
case "$(head -1 "$script")" in
  sleep) sleep 1 ;;
  long) sleep 30 ;;
  flaky) if [ ! -e "$here/flaky.marker" ]; then touch "$here/flaky.marker"; echo "first try fails" >&2; exit 4; fi ;;
esac
echo "slot output" > "$out/out.txt"
SH
chmod +x runner.sh
echo sleep > sleep.lua
echo long > long.lua
echo flaky > flaky.lua
max_conc() { sort -n concurrency.txt | tail -1; }

mk() { # mk OVERLAP
  printf 'return { store = "%s.db", jobs = {\n { name = "%s", cron = "*/10 * * * *", script = "sleep.lua", missed = "all", overlap = "%s" } } }\n' "$1" "$1" "$1" > "$1.lua"
  "$MERX" schedule "$1.lua" --once --now 2026-01-01T10:00:20Z --exec ./runner.sh 2>/dev/null
  rm -f concurrency.txt
}
# three slots missed (10:10, 10:20, 10:30) come due at once under missed = "all"

# forbid: caught-up slots queue, one after another (none skipped)
mk forbid
expect_exit 0 "$MERX" schedule forbid.lua --once --now 2026-01-01T10:35:00Z --exec ./runner.sh
expect_exit 0 "$MERX" runs forbid.lua
[ "$(grep -c '	skipped	' out.txt)" -eq 0 ]
[ "$(grep -c '	success	' out.txt)" -eq 4 ]
expect_contains out.txt "forbid	2026-01-01T10:10:00+00:00	1	success"
expect_contains out.txt "forbid	2026-01-01T10:30:00+00:00	1	success"
[ "$(max_conc)" -eq 1 ]

# allow: all three run, at the same time
mk allow
expect_exit 0 "$MERX" schedule allow.lua --once --now 2026-01-01T10:35:00Z --exec ./runner.sh
expect_exit 0 "$MERX" runs allow.lua
[ "$(grep -c '	success	' out.txt)" -eq 4 ]
[ "$(max_conc)" -ge 2 ]   # side by side (3 unless the machine is very busy)
[ "$(ls outputs/allow | grep -c Z$)" -eq 4 ]

# replace, slots due together: only the newest runs
mk replace
expect_exit 0 "$MERX" schedule replace.lua --once --now 2026-01-01T10:35:00Z --exec ./runner.sh
expect_exit 0 "$MERX" runs replace.lua
[ "$(grep -c '	replaced	' out.txt)" -eq 2 ]
expect_contains out.txt "replace	2026-01-01T10:30:00+00:00	1	success"

# replace, in the daemon: the 10:00 run is still going when 10:01 fires; it
# is stopped (nothing committed) and the new slot runs
printf 'return { store = "rd.db", jobs = {\n { name = "rd", cron = "* * * * *", script = "long.lua", overlap = "replace" } } }\n' > rd.lua
"$MERX" schedule rd.lua --now 2026-01-01T10:00:58Z --exec ./runner.sh --grace 1 2> rd.log &
daemon=$!
for _ in $(seq 300); do grep -q "slot=2026-01-01T10:01:00+00:00 attempt=1 status=running" rd.log && break; sleep 0.1; done
kill -TERM "$daemon"
wait "$daemon"
expect_contains rd.log "job=rd slot=2026-01-01T10:00:00+00:00 attempt=1 status=replaced"
expect_contains rd.log "job=rd slot=2026-01-01T10:01:00+00:00 attempt=1 status=stopped"
[ ! -e outputs/rd/2026-01-01T10-00-00Z ] && [ ! -e outputs/rd/2026-01-01T10-01-00Z ]
[ "$(max_conc)" -eq 1 ]

# forbid, in the daemon: the 10:01 slot is skipped while 10:00 still runs
rm -f concurrency.txt
printf 'return { store = "fd.db", jobs = {\n { name = "fd", cron = "* * * * *", script = "long.lua" } } }\n' > fd.lua
"$MERX" schedule fd.lua --now 2026-01-01T10:00:58Z --exec ./runner.sh --grace 1 2> fd.log &
daemon=$!
for _ in $(seq 300); do grep -q "status=skipped" fd.log && break; sleep 0.1; done
kill -TERM "$daemon"
wait "$daemon"
expect_contains fd.log "job=fd slot=2026-01-01T10:01:00+00:00 attempt=1 status=skipped"
expect_contains fd.log "job=fd slot=2026-01-01T10:00:00+00:00 attempt=1 status=stopped"

# a flaky run: attempt 1 fails, attempt 2 (after the backoff) succeeds and
# commits; rerunning the same slot later replaces its outputs in one step
printf 'return { store = "fl.db", jobs = {\n { name = "fl", cron = "0 * * * *", script = "flaky.lua", retries = 3, retry_delay = 0.3 } } }\n' > fl.lua
expect_exit 0 "$MERX" schedule fl.lua --once --now 2026-01-01T10:00:10Z --exec ./runner.sh
expect_contains err.txt "retry 1 of 3 in 0.3 s"
expect_exit 0 "$MERX" runs fl.lua
expect_contains out.txt "fl	2026-01-01T10:00:00+00:00	1	failed	4"
expect_contains out.txt "first try fails"
expect_contains out.txt "fl	2026-01-01T10:00:00+00:00	2	success	0"
[ "$(cat outputs/fl/2026-01-01T10-00-00Z/out.txt)" = "slot output" ]
[ "$(grep -c fl out.txt)" -eq 2 ]
