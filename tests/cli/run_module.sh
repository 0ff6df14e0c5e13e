# merx.so: the same module from a stock lua5.4 (require "merx").
so="$(dirname "$MERX")/merx.so"
[ -f "$so" ] || { echo "FAIL: $so not built"; exit 1; }
command -v lua5.4 >/dev/null || { echo "SKIP: no lua5.4 interpreter"; exit 77; }  # ctest: skipped
printf 'customer,sku,qty\nc1,A,2\nc1,B,1\nc2,A,1\n' > orders.csv
cat > mod.lua <<'EOF2'
local merx = require "merx"
assert(merx.sandboxed == false)
local t, n = merx.data.read("orders.csv", { columns = { user = "customer", item = "sku", value = "qty" } })
assert(n == 3 and t.user[3] == "c2" and t.value[1] == 2)
local g = merx.data.group(t, "user", { total = { "sum", "value" } })
assert(g.total[1] == 3)
merx.emit("offer", { user = "c1", offer = "A", reason = "from stock lua" })
assert(merx.plan().offer == 1)
local ok, err = pcall(merx.commit, { out = "modout", fromat = "csv" })   -- strict options
assert(not ok and err:find("merx.commit: unknown option 'fromat' (did you mean 'format'?)", 1, true), err)
assert(merx.commit{ out = "modout", log = "modout/log.db", format = "both" } == 1)
merx.data.write("modout/totals.csv", g)
local m = merx.model.train(t, { algo = "ials", factors = 2, epochs = 3 })
assert(#m:recommend({ "c2" }, 1)[1] == 1)
local c = merx.campaign.new{ budget = 10 }
assert(type(c.run) == "function")
print("module ok")
EOF2
# a sanitizer build's module needs its runtime loaded first
asan="$(ldd "$so" | awk '/libasan/ {print $3}')"
preload=()
[ -n "$asan" ] && preload=(LD_PRELOAD="$asan" ASAN_OPTIONS=detect_leaks=0)
expect_exit 0 env "${preload[@]}" LUA_CPATH="$(dirname "$MERX")/?.so" lua5.4 mod.lua
expect_contains out.txt "module ok"
expect_contains modout/offer.csv "c1,A,from stock lua"
expect_contains modout/offer.jsonl '"offer":"A"'
expect_contains modout/totals.csv "c1,3"
[ "$(sqlite3 modout/log.db "select reason from decisions")" = "from stock lua" ]
# MERX_STORE: merx.commit and merx.history default to the store's ledger
cat > mod2.lua <<'EOF2'
local merx = require "merx"
print("seen " .. (merx.history("offer", 30).c1 or 0))
merx.emit("offer", { user = "c1", offer = "A", reason = "from stock lua" })
merx.commit{ out = "mod2out" }
EOF2
for want in 0 1; do
  expect_exit 0 env "${preload[@]}" MERX_STORE=modstore LUA_CPATH="$(dirname "$MERX")/?.so" lua5.4 mod2.lua
  expect_contains out.txt "seen $want"
done
[ "$(sqlite3 modstore/ledger.db 'select count(*) from decisions')" = 2 ]
# the pure-Lua modules load with require from where they are installed
# (share/lua/5.4/merx/*.lua, the layout of lua/ in the source tree)
cat > mod3.lua <<'EOF2'
local campaign = require "merx.campaign"
local c = campaign.new{ budget = 10 }
assert(type(c.run) == "function")
assert(require("merx").campaign ~= nil)
print("require ok")
EOF2
expect_exit 0 env "${preload[@]}" LUA_CPATH="$(dirname "$MERX")/?.so" LUA_PATH="$MERX_SRC/lua/?.lua" lua5.4 mod3.lua
expect_contains out.txt "require ok"
