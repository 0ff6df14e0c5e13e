# Declared read-only data folders (issue #15.11): `merx run --data DIR`
# (repeatable) and `data = {...}` in a schedule job let a script read files
# under DIR (merx.data.read, merx.model.load) but never write there; every
# other path outside the script's folder and --out is still refused.
mkdir -p exports jobs secret
printf 'user,sku\nu1,A\nu2,B\n' > exports/sales.csv
echo 'user,pin' > secret/pins.csv
E="$PWD/exports"
expect_exit 0 "$MERX" train --data "$MERX_SRC/examples/data/purchases.csv.gz" \
  --columns user=CustomerID,item=StockCode --algo ials --factors 4 --epochs 1 --out exports/m.mxm
cat > jobs/read.lua <<LUA
local f, n = merx.data.read("$E/sales.csv")
for i = 1, n do merx.emit("offer", { user = f.user[i], sku = f.sku[i], reason = "from exports" }) end
local _, again = merx.data.read("../exports/sales.csv")       -- relative to the script, into --data
assert(again == n)
assert(merx.model.load("$E/m.mxm"))
LUA
# without --data: refused as before
expect_exit 1 "$MERX" run jobs/read.lua --out out1
expect_contains err.txt "read.lua:1:"
expect_contains err.txt "outside the directories this script may read"
[ ! -e out1/offer.csv ]
# with --data: read
expect_exit 0 "$MERX" run jobs/read.lua --out out1 --data exports
[ "$(wc -l < out1/offer.csv)" -eq 3 ]
expect_contains out1/offer.csv "u2,B"
# repeatable, and a relative --data is relative to the working directory
mkdir -p more
printf 'x\n1\n' > more/x.csv
cat > jobs/two.lua <<LUA
assert(select(2, merx.data.read("$E/sales.csv")) == 2)
assert(select(2, merx.data.read("$PWD/more/x.csv")) == 1)
LUA
expect_exit 0 "$MERX" run jobs/two.lua --out out2 --data exports --data=more

# never written: merx.data.write into a data folder is a script:line error,
# even where the folder lies inside --out
mkdir -p out3/ref
cat > jobs/write.lua <<'LUA'
merx.data.write("ref/new.csv", { { a = 1 } })
LUA
expect_exit 1 "$MERX" run jobs/write.lua --out out3 --data out3/ref
expect_contains err.txt "write.lua:1:"
expect_contains err.txt "read-only data folder"
[ ! -e out3/ref/new.csv ]
cat > jobs/write_abs.lua <<LUA
merx.data.write("$E/new.csv", { { a = 1 } })
LUA
expect_exit 1 "$MERX" run jobs/write_abs.lua --out out4 --data exports
expect_contains err.txt "write_abs.lua:1:"
[ ! -e exports/new.csv ]
# every other path is still refused, also through a symlink inside the data folder
cat > jobs/other.lua <<LUA
merx.data.read("$PWD/secret/pins.csv")
LUA
expect_exit 1 "$MERX" run jobs/other.lua --out out5 --data exports
expect_contains err.txt "other.lua:1:"
ln -s ../secret exports/escape
cat > jobs/escape.lua <<LUA
merx.data.read("$E/escape/pins.csv")
LUA
expect_exit 1 "$MERX" run jobs/escape.lua --out out5 --data exports
expect_contains err.txt "escape.lua:1:"
# a missing data folder: one clear error naming it
expect_exit 1 "$MERX" run jobs/two.lua --out out6 --data nowhere
expect_contains err.txt "nowhere"
expect_exit 2 "$MERX" run jobs/two.lua --out out6 --data ''

# ---- schedule: data = {...} at job level, relative to the schedule file
mkdir -p sched
cp jobs/read.lua sched/read.lua
cat > sched/s.lua <<'LUA'
return { store = "s.db", jobs = {
  { name = "nightly", cron = "0 2 * * *", script = "read.lua", data = { "../exports" } } } }
LUA
expect_exit 0 "$MERX" schedule sched/s.lua --once --now 2026-01-01T02:00:10Z
expect_contains err.txt "status=success"
expect_contains sched/outputs/nightly/2026-01-01T02-00-00Z/offer.csv "u1,A"
# without the declaration the same job fails
sed 's/, data = { "..\/exports" }//' sched/s.lua > sched/s2.lua
sed -i 's/s.db/s2.db/' sched/s2.lua
expect_exit 1 "$MERX" schedule sched/s2.lua --once --now 2026-01-01T02:00:10Z
# bad declarations are refused naming the file, the job and the field
printf 'return { jobs = { { name = "j", cron = "0 2 * * *", script = "read.lua", data = "../exports" } } }\n' > sched/bad1.lua
expect_exit 1 "$MERX" schedule sched/bad1.lua --next 1
expect_contains err.txt "bad1.lua:1"
expect_contains err.txt "data"
printf 'return { jobs = { { name = "j", cron = "0 2 * * *", script = "read.lua", data = { "../nope" } } } }\n' > sched/bad2.lua
expect_exit 1 "$MERX" schedule sched/bad2.lua --next 1
expect_contains err.txt "nope"
