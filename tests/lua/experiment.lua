-- merx.experiment (#16): definitions checked with the script line, stable
-- arms by the documented hash (docs/lua.md "Experiment arms"), shares within
-- binomial tolerance on 100k users, stratified balance in every stratum.
-- (Staging, the ledger and the campaign path: tests/cli/experiment.sh.)

local function fails(want, fn)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error containing: " .. want)
  err = tostring(err)
  assert(err:find(want, 1, true), "error '" .. err .. "' lacks '" .. want .. "'")
  assert(err:find("experiment.lua:%d+:"), "error '" .. err .. "' lacks the script line")
end

local X = merx.experiment
fails("no arms", function() X{ name = "e", arms = {} } end)
fails("arms (a table of shares) is required", function() X{ name = "e" } end)
fails("name (a string) is required", function() X{ arms = { control = 1 } } end)
fails("sum to 0.90000000000000002, not 1", function() X{ name = "e", arms = { control = 0.5, b = 0.4 } } end)
fails("arm 'b' has share -0.1", function() X{ name = "e", arms = { control = 1.1, b = -0.1 } } end)
fails("arm 'a' is listed twice", function() X{ name = "e", arms = { { "a", 0.5 }, { "a", 0.5 } }, control = "a" } end)
fails("no arm is called 'control'", function() X{ name = "e", arms = { a = 0.5, b = 0.5 } } end)
fails("the control arm 'z' is not one of the arms", function() X{ name = "e", arms = { a = 0.5, b = 0.5 }, control = "z" } end)
fails("not both", function() X{ name = "e", arms = { { "control", 0.5 }, b = 0.5 } } end)
fails("arms[2] must be {\"name\", share}", function() X{ name = "e", arms = { { "control", 0.5 }, "b" } } end)
fails("unknown option 'stratfy' (did you mean 'stratify'?)", function()
  X{ name = "e", arms = { control = 1 }, stratfy = "segment" } end)
fails("defined twice in this run", function()
  X{ name = "twice", arms = { control = 0.5, b = 0.5 } }
  X{ name = "twice", arms = { control = 0.4, b = 0.6 } }
end)

-- the map form is ordered by name: the same arms as the sorted list form
local m = X{ name = "spring", arms = { coupon = 0.9, control = 0.1 } }
local l = X{ name = "spring2", salt = "spring", arms = { { "control", 0.1 }, { "coupon", 0.9 } } }
assert(m.arms[1] == "control" and m.arms[2] == "coupon" and m.shares[1] == 0.1)
assert(m.salt == "spring" and m.control == "control" and m.stratify == nil)
-- docs/lua.md reference values (also scripts/experiment/arm.py and test_experiment_hash.c)
local ref = { u1 = "coupon", u2 = "coupon", u3 = "control", ["12346"] = "control",
              ["17850"] = "coupon", alice = "control", bob = "coupon" }
for user, arm in pairs(ref) do
  assert(m:arm(user) == arm, user .. ": " .. m:arm(user) .. " ~= " .. arm)
  assert(l:arm(user) == arm)
end
fails("is not stratified", function() m:arm("u1", "loyal") end)

-- shares on 100k users: each arm within 4.5 binomial standard deviations
local three = X{ name = "three", arms = { { "control", 0.1 }, { "a", 0.3 }, { "b", 0.6 } } }
local n, count = 100000, { control = 0, a = 0, b = 0 }
for i = 1, n do
  local a = three:arm("user" .. i)
  count[a] = count[a] + 1
  assert(three:arm("user" .. i) == a) -- the same arm again
end
for k, p in pairs({ control = 0.1, a = 0.3, b = 0.6 }) do
  local sd = math.sqrt(n * p * (1 - p))
  assert(math.abs(count[k] - n * p) < 4.5 * sd, k .. ": " .. count[k])
end

-- stratified: every stratum balanced on its own, and its arms differ from
-- the unstratified ones (the stratum is part of the key)
local s = X{ name = "strat", arms = { control = 0.2, coupon = 0.8 }, stratify = "segment" }
assert(s.stratify == "segment")
fails("is stratified by 'segment'", function() s:arm("u1") end)
local strata = { "champions", "loyal", "new", "at_risk" }
local flat = X{ name = "strat_flat", arms = { control = 0.2, coupon = 0.8 } }
local differ = 0
for _, st in ipairs(strata) do
  local c, ns = 0, 20000
  for i = 1, ns do
    local a = s:arm("user" .. i, st)
    if a == "control" then c = c + 1 end
    if a ~= flat:arm("user" .. i) then
      differ = differ + 1
    end
  end
  local sd = math.sqrt(ns * 0.2 * 0.8)
  assert(math.abs(c - ns * 0.2) < 4.5 * sd, st .. ": " .. c)
end
assert(differ > 0)

-- a control share of 0 is allowed (with a warning on stderr)
local z = X{ name = "nocontrol", arms = { control = 0, coupon = 1 } }
for i = 1, 1000 do assert(z:arm("u" .. i) == "coupon") end
print("experiment: ok")
