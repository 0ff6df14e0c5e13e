# A merx.emit rejected inside pcall leaves no trace (issue #15.6): it used to
# register the kind (and the record's fields as columns) before validating
# the record, so the commit replaced an earlier export with a header-only file
# or added a column nobody emitted. A kind exists only once a row is staged.
cat > first.lua <<'LUA'
merx.emit("offer", { user = "u1", offer = "A", reason = "first run" })
LUA
expect_exit 0 "$MERX" run first.lua --out dir --now 2026-01-01
cp dir/offer.csv offer.before

# every way an emit can be rejected, each caught by pcall; the run succeeds
cat > rejected.lua <<'LUA'
local bad = {
  { "offer", { user = "u2" } },                                -- no reason
  { "offer", { user = "u2", reason = "" } },                   -- empty reason
  { "offer", { user = "u2", extra = {}, reason = "r" } },      -- a table field
  { "offer", { user = "u2", x = 0/0, reason = "r" } },         -- not finite
  { "offer", { [1] = "positional", reason = "r" } },           -- non-string key
  { "bad kind!", { user = "u2", reason = "r" } },              -- invalid kind name
}
for i, b in ipairs(bad) do
  local ok, err = pcall(merx.emit, b[1], b[2])
  assert(not ok, "case " .. i .. " should be rejected")
end
LUA
expect_exit 0 "$MERX" run rejected.lua --out dir --now 2026-01-02
cmp dir/offer.csv offer.before
[ "$(ls dir | grep -v '^decisions.db$' | tr '\n' ' ')" = "offer.csv " ] ||
  { echo "FAIL: dir holds $(ls dir | tr '\n' ' ')"; exit 1; }

# a rejected record adds no column to a kind that does get rows
cat > mixed.lua <<'LUA'
assert(not pcall(merx.emit, "offer", { user = "u3", bogus = 1 }))   -- rejected: no reason
merx.emit("offer", { user = "u3", offer = "B", reason = "kept" })
assert(not pcall(merx.emit, "offer", { user = "u4", other = {}, reason = "r" }))
LUA
expect_exit 0 "$MERX" run mixed.lua --out dir --now 2026-01-03
head -1 dir/offer.csv | grep -qx 'user,offer,reason' ||
  { echo "FAIL: header is $(head -1 dir/offer.csv)"; exit 1; }
[ "$(wc -l < dir/offer.csv)" -eq 2 ] || { echo "FAIL: offer.csv:"; cat dir/offer.csv; exit 1; }

# past 4096 distinct fields in a kind the record is refused and adds no column
cat > wide.lua <<'LUA'
local function record(r)
  local t = { reason = "w" }
  for j = 1, 63 do t["f" .. (r * 63 + j)] = 1 end
  return t
end
for r = 0, 64 do merx.emit("wide", record(r)) end     -- 1 + 65 * 63 = 4096 columns
local ok, err = pcall(merx.emit, "wide", record(65))
assert(not ok and err:find("more than 4096 distinct fields in 'wide'", 1, true), tostring(err))
LUA
expect_exit 0 "$MERX" run wide.lua --out dir --now 2026-01-04
[ "$(head -1 dir/wide.csv | tr ',' '\n' | wc -l)" -eq 4096 ] ||
  { echo "FAIL: wide.csv has $(head -1 dir/wide.csv | tr ',' '\n' | wc -l) columns"; exit 1; }
[ "$(wc -l < dir/wide.csv)" -eq 66 ] || { echo "FAIL: wide.csv has $(wc -l < dir/wide.csv) lines"; exit 1; }
