# Scheduled runs get a clean environment (#14.14): PATH, HOME, LANG/LC_*, TZ,
# TZDIR, MERX_*, OPENBLAS_*/OMP_*, the variables named as keys by the LLM
# config, and the names the schedule file allows with `env = {...}` (file and
# job level) — never the rest of the daemon's environment.
cat > runner.sh <<'SH'
#!/usr/bin/env bash
# stands in for `merx run SCRIPT --out DIR ...`: dumps what it can see
env > "$4/env.txt"
echo "Authorization: Bearer sk-live-abcdef123456 leaked by the script" >&2
[ "$(basename "$2")" != fail.lua ]
SH
chmod +x runner.sh
touch job.lua fail.lua
cat > llm.json <<'JSON'
{"allow_hosts": ["hooks.example.com"],
 "webhook_credentials": {"hooks.example.com": {"key_env": "HOOKS_TOKEN"}}}
JSON
cat > s.lua <<'LUA'
return { store = "s.db", env = { "SHARED_OK" }, jobs = {
  { name = "dump", cron = "0 * * * *", script = "job.lua", env = { "JOB_OK" } },
  { name = "plain", cron = "0 * * * *", script = "job.lua" },
  { name = "fail", cron = "0 * * * *", script = "fail.lua" } } }
LUA
export AWS_SECRET_ACCESS_KEY=do-not-pass SHARED_OK=s1 JOB_OK=j1 MY_LLM_KEY=sk-test-abcdef1234 \
  MERX_LLM_KEY_ENV=MY_LLM_KEY HOOKS_TOKEN=h1 MERX_LLM_CONFIG=llm.json OPENBLAS_NUM_THREADS=1 \
  LC_TIME=C TZ=UTC
expect_exit 1 "$MERX" schedule s.lua --once --now 2026-01-01T10:00:20Z --exec ./runner.sh   # "fail" fails
expect_contains err.txt "job=dump slot=2026-01-01T10:00:00+00:00 attempt=1 status=success"
d=outputs/dump/2026-01-01T10-00-00Z/env.txt
p=outputs/plain/2026-01-01T10-00-00Z/env.txt
for f in "$d" "$p"; do
  for want in PATH= HOME= LC_TIME=C TZ=UTC MERX_LLM_CONFIG=llm.json MERX_LLM_KEY_ENV=MY_LLM_KEY \
              MY_LLM_KEY=sk-test-abcdef1234 HOOKS_TOKEN=h1 OPENBLAS_NUM_THREADS=1 SHARED_OK=s1; do
    grep -q "^$want" "$f" || { echo "FAIL: $f lacks $want"; cat "$f"; exit 1; }
  done
  ! grep -q AWS_SECRET_ACCESS_KEY "$f" || { echo "FAIL: $f has AWS_SECRET_ACCESS_KEY"; exit 1; }
done
grep -q "^JOB_OK=j1" "$d"
! grep -q "^JOB_OK" "$p"
# a failed run's log tail in the runs table is redacted (#14.12)
expect_exit 0 "$MERX" runs s.lua --json
expect_contains out.txt "Bearer [redacted]"
! grep -q "sk-live-abcdef123456" out.txt

# bad allow-lists are refused naming the file, job and field
printf 'return { store = "b.db", jobs = {\n { name = "j", cron = "0 * * * *", script = "job.lua", env = { "BAD-NAME" } } } }\n' > bad.lua
expect_exit 1 "$MERX" schedule bad.lua --next 1
expect_contains err.txt "bad.lua:2"
expect_contains err.txt "env"
expect_contains err.txt "BAD-NAME"
printf 'return { store = "b.db", env = "PATH", jobs = {} }\n' > bad2.lua
expect_exit 1 "$MERX" schedule bad2.lua --next 1
expect_contains err.txt "env"
