-- Every kind of object a script can get from merx hides its metatable:
-- getmetatable() must not return the real one (a script could otherwise add
-- a looping __gc or replace methods shared by every object; #14.8).
local function check(cond, what) if not cond then error("check failed: " .. what, 2) end end
local seen, kinds = {}, 0
local function hidden(v, what)
  local mt = getmetatable(v)
  check(type(mt) ~= "table", what .. ": getmetatable returned the real metatable")
  kinds = kinds + 1
end
-- the module, its submodules and their functions' tables (merx.forecast and
-- merx.allocate are callable tables)
local function walk(t, path, depth)
  if seen[t] or depth > 2 then return end
  seen[t] = true
  hidden(t, path)
  for k, v in pairs(t) do
    if type(v) == "table" or type(v) == "userdata" then
      if type(v) == "table" then walk(v, path .. "." .. tostring(k), depth + 1)
      else hidden(v, path .. "." .. tostring(k)) end
    end
  end
end
walk(merx, "merx", 0)
-- lazily loaded helpers, then the objects scripts make
walk(merx.campaign, "merx.campaign", 1)
hidden(merx.campaign.new{ name = "c" }, "campaign object")
local d = merx.dist
for _, o in ipairs{ d.normal(10, 2), d.poisson(3), d.lognormal(1, 0.5), d.negbin(4, 3),
                    d.discrete{ [1] = 0.2, [2] = 0.3, [3] = 0.5 }, d.empirical{ 1, 2, 2, 3 } } do
  hidden(o, "dist " .. o:kind())
end
local m = merx.model.train({ user = { "a", "a", "b", "c" }, item = { "x", "y", "x", "z" } },
                           { algo = "ials", factors = 2, epochs = 2, seed = 1 })
hidden(m, "model")
hidden(m:score({ "a" }, { "x", "y" }), "matrix")
local fc = merx.forecast({ 1, 2, 3, 4, 5, 6, 7, 8 }, { horizon = 2, method = "naive" })
hidden(fc, "forecast result")
-- a metatable that could be changed would let this hang the run
for _, o in ipairs{ d.normal(1, 1), m } do
  local ok = pcall(function() getmetatable(o).__gc = function() while true do end end end)
  check(not ok, "changing an object's metatable must fail")
end
print("metatables ok: " .. kinds .. " objects")
