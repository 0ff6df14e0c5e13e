# A run commits its files and its decision-log rows together or not at all,
# never writes a file merx owns, and logs ids and reasons byte for byte.
rows() { sqlite3 "$1" 'select count(*) from decisions'; }

# ---- #14.1: a script output may not replace the decision log (or its WAL)
cat > ok.lua <<'LUA'
merx.emit("offer", { user = "u1", offer = "A", reason = "first" })
LUA
expect_exit 0 "$MERX" run ok.lua --out o
[ "$(rows o/decisions.db)" = 1 ]
cat > clobber.lua <<'LUA'
merx.emit("offer", { user = "u2", offer = "B", reason = "second" })
merx.data.write(merx.params.target, { { a = 1 } })
LUA
for target in decisions.db decisions.db-wal decisions.db-shm decisions.db-journal; do
  expect_exit 1 "$MERX" run clobber.lua --out o --set target=$target
  expect_contains err.txt "clobber.lua:2:"
  expect_contains err.txt "$target"
  expect_contains err.txt "merx owns"
done
[ "$(rows o/decisions.db)" = 1 ]
# another SQLite file (a schedule's run history), its lock and a schedule's .logs
sqlite3 o/runs.db 'create table t(x)'
for target in runs.db runs.db.lock .logs/job/x.log; do
  expect_exit 1 "$MERX" run clobber.lua --out o --set target=$target
  expect_contains err.txt "clobber.lua:2:"
done
[ "$(sqlite3 o/runs.db 'select count(*) from t')" = 0 ]
[ ! -e o/.logs ]
# --log pointing at an output of the run
expect_exit 1 "$MERX" run ok.lua --out o2 --log o2/offer.csv
expect_contains err.txt "offer.csv"
[ "$(rows o2/offer.csv)" = 0 ]   # the log it named, empty: no CSV over it

# ---- #14.2: all or nothing
cat > two.lua <<'LUA'
merx.emit("offer", { user = "u9", offer = "NEW", reason = "second run" })
local big = {}
for i = 1, tonumber(merx.params.n or "10") do big[i] = { user = "u" .. i, v = string.rep("x", 50) } end
merx.data.write("extra.csv", big)
LUA
expect_exit 0 "$MERX" run ok.lua --out a
cp a/offer.csv offer.before
# the second target is a directory: nothing renamed, no rows
mkdir a/extra.csv
expect_exit 1 "$MERX" run two.lua --out a
expect_contains err.txt "extra.csv"
expect_contains err.txt "directory"
cmp a/offer.csv offer.before
[ "$(rows a/decisions.db)" = 1 ]
rmdir a/extra.csv
# a file-size limit (ulimit -f, 1 KB blocks) hit by the second file
expect_exit 1 bash -c "ulimit -f 64; exec \"\$0\" run two.lua --out a --set n=3000" "$MERX"
expect_contains err.txt "extra.csv"
cmp a/offer.csv offer.before
[ ! -e a/extra.csv ]
[ "$(rows a/decisions.db)" = 1 ]
ls -A a | grep -q '\.tmp\.' && { ls -A a; exit 1; }
# a reader inside a transaction does not block the commit (WAL); the lock
# holders are python3 processes (stopped by PID) that signal when they hold it
hold() {  # hold DB SQL: run SQL, keep the transaction open until killed
  python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
for q in sys.argv[2].split(";"):
    if q.strip(): c.execute(q).fetchall()
open(sys.argv[3], "w").close()
time.sleep(60)' "$1" "$2" "$3" &
  holder=$!
  for i in $(seq 100); do [ -e "$3" ] && break; sleep 0.1; done
  [ -e "$3" ] || { echo "lock holder did not start"; exit 1; }
}
sqlite3 a/decisions.db 'pragma journal_mode' | grep -qx wal
hold a/decisions.db 'BEGIN; SELECT count(*) FROM decisions' reading
expect_exit 0 "$MERX" run two.lua --out a --busy-timeout 1
[ "$(rows a/decisions.db)" = 2 ]
kill "$holder"; wait "$holder" 2>/dev/null || true
# a writer holding the lock past the busy timeout: the error says what and
# how long, and nothing is committed
cp a/offer.csv offer.before
hold a/decisions.db 'BEGIN EXCLUSIVE' locked
expect_exit 1 "$MERX" run ok.lua --out a --busy-timeout 1
expect_contains err.txt "decisions.db"
expect_contains err.txt "locked"
expect_contains err.txt "1 s"
cmp a/offer.csv offer.before
kill "$holder"; wait "$holder" 2>/dev/null || true
[ "$(rows a/decisions.db)" = 2 ]
expect_exit 2 "$MERX" run ok.lua --out a --busy-timeout -1

# ---- #14.4: ids and reasons are stored whole; NUL refused at merx.emit
cat > long.lua <<'LUA'
local base = string.rep("x", 600)
merx.emit("offer", { user = base .. "A", offer = "A", reason = "long id A" })
merx.emit("offer", { user = base .. "B", offer = "A", reason = "long id B" })
LUA
expect_exit 0 "$MERX" run long.lua --out l
[ "$(sqlite3 l/decisions.db 'select count(distinct user), min(length(user)) from decisions')" = "2|601" ]
cat > cap.lua <<'LUA'
local h = merx.history("offer", 30)
local base = string.rep("x", 600)
assert(h[base .. "A"] == 1 and h[base .. "B"] == 1, "history by full id")
local n = 0
for _ in pairs(h) do n = n + 1 end
assert(n == 2, "two users, got " .. n)
LUA
expect_exit 0 "$MERX" run cap.lua --out l
cat > nul.lua <<'LUA'
merx.emit("offer", { user = merx.params.user or "u", offer = "A", reason = merx.params.reason or "r" })
LUA
printf 'merx.emit("offer", { user = "u\\0x", offer = "A", reason = "r" })\n' > nul_user.lua
expect_exit 1 "$MERX" run nul_user.lua --out n
expect_contains err.txt "nul_user.lua:1:"
expect_contains err.txt "NUL"
printf 'merx.emit("offer", { user = "u", offer = "A", reason = "\\0abc" })\n' > nul_reason.lua
expect_exit 1 "$MERX" run nul_reason.lua --out n
expect_contains err.txt "nul_reason.lua:1:"
expect_contains err.txt "NUL"
[ ! -e n ]

# ---- a decision log written before the schema was versioned: read as is
# (write-protected), upgraded in place by the next commit (rows kept)
sqlite3 old.db "CREATE TABLE decisions(id INTEGER PRIMARY KEY, run_id TEXT NOT NULL,
  script TEXT NOT NULL, script_hash TEXT NOT NULL, params TEXT NOT NULL, time TEXT NOT NULL,
  committed_at TEXT NOT NULL, kind TEXT NOT NULL, user TEXT, record TEXT NOT NULL,
  reason TEXT NOT NULL);
  INSERT INTO decisions VALUES(1,'r0','x.lua','00','{}','2011-12-01T00:00:00Z',
  '2011-12-01T00:00:00Z','offer','u1','{}','old reason');"
chmod 444 old.db
expect_exit 0 "$MERX" explain --log old.db --user u1
expect_contains out.txt "old reason"
chmod 644 old.db
expect_exit 0 "$MERX" run ok.lua --out up --log old.db
[ "$(sqlite3 old.db 'pragma user_version; select count(*) from decisions; select count(*) from commits; select count(*) from bandit_arms')" = "$(printf '3\n2\n1\n0')" ]
expect_exit 0 "$MERX" explain --log old.db --user u1 --json
expect_contains out.txt '"lineage":null'
expect_contains out.txt '"lineage":{"merx_version"'
# a .logs folder above --out is the user's own
mkdir -p home/.logs
expect_exit 0 "$MERX" run clobber.lua --out home/.logs/o --set target=fine.csv
[ -f home/.logs/o/fine.csv ]
