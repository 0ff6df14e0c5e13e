-- Parity constraints in merx.allocate and merx.util.select (#19): group "b"
-- has the lower values, so without constraints it gets nothing; with parity
-- 0.8 (the four-fifths rule) or a share floor it gets its part, at a cost in
-- value that the result reports with the binding constraint's price.
local users, value, groups = {}, {}, {}
for i = 1, 40 do
  users[i] = "u" .. i
  local g = i <= 20 and "a" or "b"
  groups[i] = g
  value[i] = { g == "a" and 2 + i / 100 or 1 + i / 100, g == "a" and 1.5 or 0.5 }
end
local cost = {}
for i = 1, 40 do cost[i] = { 1, 1 } end
local base = merx.allocate{ users = users, offers = { "x", "y" }, value = value, cost = cost, budget = 10 }
assert(base.parity == nil and base.assigned == 10)
local r = merx.allocate{ users = users, offers = { "x", "y" }, value = value, cost = cost, budget = 10,
                         groups = groups, parity = 0.8 }
local ga, gb = r.parity.groups.a, r.parity.groups.b
assert(ga.users == 20 and gb.users == 20, ga.users)
assert(gb.rate >= 0.8 * ga.rate - 1e-9 and ga.rate >= 0.8 * gb.rate - 1e-9, gb.rate)
assert(math.abs(r.parity.unconstrained_objective - base.objective) < 1e-6)
assert(math.abs(r.parity.value_lost - (base.objective - r.objective)) < 1e-6 and r.parity.value_lost > 0)
assert(r.parity.prices["rate(b)>=0.8*rate(a)"] > 0, "the binding constraint has a price")
assert(r.bound >= r.objective - 1e-9)

local s = merx.allocate{ users = users, offers = { "x", "y" }, value = value, cost = cost, budget = 10,
                         groups = groups, group_shares = { b = { 0.3, 1 } } }
assert(s.parity.groups.b.offers >= 3 and s.parity.groups.b.share >= 0.3 - 1e-9, s.parity.groups.b.offers)

local ok, err = pcall(merx.allocate, { users = users, offers = { "x" }, value = value, budget = 1, parity = 0.8 })
assert(not ok and err:find("need groups"), err)
ok, err = pcall(merx.allocate, { users = users, offers = { "x", "y" }, value = value, cost = cost, budget = 1,
                                 groups = groups, group_shares = { c = { 0.1, 0.5 } } })
assert(not ok and err:find("no user is in group 'c'"), err)
ok, err = pcall(merx.allocate, { users = users, offers = { "x", "y" }, value = value, cost = cost, budget = 1,
                                 groups = groups, parity = 1.5 })
assert(not ok and err:find("parity"), err)

-- merx.util.select: one group per user
local ch, spend, left, cert = merx.util.select(
  { user = { 1, 2, 3, 4, 5, 6 }, offer = { 1, 1, 1, 1, 1, 1 }, value = { 5, 4, 3, 2, 1, 0.5 },
    cost = { 1, 1, 1, 1, 1, 1 }, parity_group = { "a", "a", "a", "b", "b", "b" } },
  { budget = 3, parity = 0.8 })
assert(#ch == 2 and cert.parity.value_lost == 5, cert.parity.value_lost) -- (1, 1): 5 + 2 of 12
ok, err = pcall(merx.util.select, { user = { 1, 1 }, offer = { 1, 2 }, value = { 1, 1 },
                                    parity_group = { "a", "b" } }, { parity = 0.8 })
assert(not ok and err:find("different parity groups"), err)
local c = merx.campaign.new{ name = "p" }
ok, err = pcall(c.parity, c, { column = "g", ration = 0.8 })
assert(not ok and err:find("ration"), err)
print("parity ok")
