-- The sandbox as a script sees it (run by ctest through `merx run`).
-- Every failed check raises, so the run exits 1 and ctest reports it.
local function check(cond, what) if not cond then error("check failed: " .. what, 2) end end
local function fails(f, pattern, what)
  local ok, err = pcall(f)
  check(not ok, what .. " should fail")
  check(tostring(err):find(pattern, 1, true), what .. ": unexpected error: " .. tostring(err))
end

-- absent globals
for _, name in ipairs{ "io", "os", "package", "debug", "require", "dofile", "loadfile",
                       "collectgarbage", "module", "setfenv", "newproxy" } do
  check(_G[name] == nil, name .. " must be absent")
end
-- present globals
for _, name in ipairs{ "print", "pairs", "ipairs", "pcall", "xpcall", "error", "assert", "load",
                       "select", "type", "tostring", "tonumber", "setmetatable", "getmetatable",
                       "next", "rawget", "rawset", "rawequal", "rawlen", "table", "string",
                       "math", "utf8", "coroutine", "merx" } do
  check(_G[name] ~= nil, name .. " must be present")
end
check(_G._G == _G, "_G is the script environment")

-- the string metatable is protected and string.dump is gone
check(getmetatable("") == "protected", "string metatable protected")
check(string.dump == nil and ("x").dump == nil, "string.dump absent")

-- string.rep is capped, also through the metatable
fails(function() return string.rep("x", 1e9) end, "string.rep: result of", "string.rep bomb")
fails(function() return ("x"):rep(1e9) end, "string.rep: result of", "(\"x\"):rep bomb")
check(("ab"):rep(3, ",") == "ab,ab,ab", "small rep still works")
fails(function() return table.move({}, 1, 1 << 40, 2) end, "table.move: span", "table.move span")
fails(function() return table.concat({}, "", 1, 1 << 40) end, "table.concat: span", "table.concat span")

-- load: text only, in the script's environment
local f = load("return merx ~= nil and string ~= nil")
check(f and f() == true, "load sees the script environment")
local bin = "\27Lua\84\0\25\147\13\10\26\10\4\8\8"
local g, err = load(bin)
check(g == nil and tostring(err):find("binary", 1, true), "binary chunk refused")
fails(function() return load("return 1", "x", "b") end, "only text chunks", "mode b refused")
fails(function() return load("return 1", "x", "t", {}) end, "custom environment", "env refused")
-- a reader function without a chunk name, as stock Lua accepts it
do
  local parts, i = { "return ", "40 + 2" }, 0
  local r, rerr = load(function() i = i + 1; return parts[i] end)
  check(r and r() == 42, "load(reader) without a chunk name: " .. tostring(rerr))
  local r2 = load(function() return nil end, "named")
  check(r2 and r2() == nil, "load(reader, name)")
end

-- a script's own globals live in its environment only
leaked = 1
check(_G.leaked == 1, "globals go to _ENV")

-- merx basics
check(math.type(merx.now()) == "integer", "merx.now() is an integer")
check(merx.time("2024-03-01") == 1709251200, "merx.time")
check(merx.date(1709251200) == "2024-03-01", "merx.date")
check(type(merx.params) == "table" and merx.shard.count == 1, "params and shard")
check(merx.sandboxed == true and merx.dry_run == false, "sandboxed, not a dry run")
check(merx.in_shard("anyone"), "no sharding: everyone is in")
check(type(merx.campaign.new) == "function", "campaign helper loads")
fails(function() merx.emit("offer", { user = "u" }) end, "needs a non-empty 'reason'", "emit without reason")
fails(function() merx.emit("bad kind!", { reason = "x" }) end, "kind 'bad kind!'", "bad kind")
fails(function() merx.emit("offer", { reason = "x", t = {} }) end, "field 't' is a table", "nested record")
fails(function() merx.data.read("/etc/passwd") end, "outside the directories", "read outside")
fails(function() merx.data.read("../../CMakeLists.txt") end, "outside the directories", "read ../")
fails(function() merx.data.write("/tmp/x.csv", { a = { 1 } }) end, "outside the directories", "write outside")
fails(function() merx.data.write("../x.csv", { a = { 1 } }) end, "outside the directories", "write ../")
print("sandbox ok")
