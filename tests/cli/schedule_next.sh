# merx schedule FILE --next N [--from T]: the contract's line format, jobs in
# file order, DST rules, and refused schedule files (file, job, field named).
echo 'print("hi")' > job.lua
cat > s.lua <<'LUA'
return { store = "runs.db", jobs = {
  { name = "london", cron = "30 1 * * *", tz = "Europe/London", script = "job.lua" },
  { name = "ny", cron = "30 2 * * *", tz = "America/New_York", script = "job.lua" },
  { name = "sydney", cron = "30 2 * * *", tz = "Australia/Sydney", script = "job.lua" },
  { name = "eom", cron = "0 0 31 * *", script = "job.lua" },
} }
LUA
expect_exit 0 "$MERX" schedule s.lua --next 2 --from 2026-03-28T12:00:00Z
cat > want.txt <<'TXT'
london	2026-03-29T02:00:00+01:00
london	2026-03-30T01:30:00+01:00
ny	2026-03-29T02:30:00-04:00
ny	2026-03-30T02:30:00-04:00
sydney	2026-03-29T02:30:00+11:00
sydney	2026-03-30T02:30:00+11:00
eom	2026-03-31T00:00:00+00:00
eom	2026-05-31T00:00:00+00:00
TXT
diff -u want.txt out.txt

# autumn: a repeated time fires once, at its first occurrence
expect_exit 0 "$MERX" schedule s.lua --next 2 --from 2026-10-24T12:00:00Z
grep -q "^london	2026-10-25T01:30:00+01:00$" out.txt
grep -q "^london	2026-10-26T01:30:00+00:00$" out.txt
# --from is exclusive and takes an offset
expect_exit 0 "$MERX" schedule s.lua --next 1 --from 2026-03-30T01:30:00+01:00
grep -q "^london	2026-03-31T01:30:00+01:00$" out.txt
# default --from is now: every line is in the future
expect_exit 0 "$MERX" schedule s.lua --next 1
[ "$(wc -l < out.txt)" -eq 4 ]
# --json
expect_exit 0 "$MERX" schedule s.lua --next 1 --from 2026-01-01T00:00:00Z --json
expect_contains out.txt '{"jobs":[{"name":"london","cron":"30 1 * * *","tz":"Europe/London","times":["2026-01-01T01:30:00+00:00"]}'

# usage errors exit 2
expect_exit 2 "$MERX" schedule s.lua --next 0
expect_exit 2 "$MERX" schedule s.lua --next 3 --from yesterday
expect_exit 2 "$MERX" schedule s.lua --next 3 --once
expect_exit 2 "$MERX" schedule
expect_exit 0 "$MERX" schedule --help
expect_contains out.txt "--next N"

# refused files: exit 1, one line naming file, line, job and field
bad() { # bad FIELDS EXPECTED-TEXT...
  printf 'return { jobs = {\n  { %s },\n} }\n' "$1" > bad.lua
  shift
  expect_exit 1 "$MERX" schedule bad.lua --next 1
  [ "$(wc -l < err.txt)" -eq 1 ] || { cat err.txt; exit 1; }
  for t in "$@"; do expect_contains err.txt "$t"; done
}
bad "name='n', cron='61 * * * *', script='job.lua'" "bad.lua:2:" "field 'cron'" "job 'n'" "minute field '61'"
bad "name='n', cron='0 0 * 13 *', script='job.lua'" "field 'cron'" "month field '13'"
bad "name='n', cron='@daily', tz='Europe/Londn', script='job.lua'" "field 'tz'" "unknown time zone 'Europe/Londn'"
bad "name='n', cron='@daily', script='missing.lua'" "field 'script'" "script not found" "missing.lua"
bad "name='n', cron='@daily', script='job.lua', timeout=-1" "field 'timeout'" "job 'n'"
bad "name='n', cron='@daily', script='job.lua', overlap='sometimes'" "field 'overlap'" "forbid, allow, replace"
printf 'return { jobs = {\n { name="a", cron="@daily", script="job.lua" },\n { name="a", cron="@hourly", script="job.lua" } } }\n' > dup.lua
expect_exit 1 "$MERX" schedule dup.lua --next 1
expect_contains err.txt "duplicate job name"
expect_contains err.txt "dup.lua:2:"
printf 'return { jobs = { \n' > syntax.lua
expect_exit 1 "$MERX" schedule syntax.lua --next 1
expect_contains err.txt "syntax.lua:2:"
expect_exit 1 "$MERX" schedule nonexistent.lua --next 1
expect_contains err.txt "nonexistent.lua"

# the shipped example loads and prints 3 lines per job
expect_exit 0 "$MERX" schedule "$MERX_SRC/examples/schedule.lua" --next 3
[ "$(wc -l < out.txt)" -eq 6 ]
