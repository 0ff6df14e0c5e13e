-- merx.allocate inside a sandboxed script (merx run): plan, certificate, errors.
local users, v = {}, {}
for i = 1, 2000 do
  users[i] = "c" .. i
  v[i] = { (i % 7) + 1, (i % 5) * 2 + 1, (i % 3) + 2 }
end
local caps = { B = 300 }
local plan = merx.allocate{ users = users, offers = { "A", "B", "C" }, value = v,
                            cost = { 1, 3, 2 }, budget = 2500, caps = caps }
local spend, used = 0, {}
for _, a in ipairs(plan.assignments) do
  spend = spend + a.cost
  used[a.offer] = (used[a.offer] or 0) + 1
end
assert(spend <= 2500 and math.abs(spend - plan.spend) < 1e-6, "spend " .. spend)
assert((used.B or 0) <= 300 and plan.used.B == (used.B or 0))
assert(plan.bound >= plan.objective and plan.gap < 0.01, "gap " .. plan.gap)
-- the same prices applied without solving give the same plan
local again = merx.allocate{ users = users, offers = { "A", "B", "C" }, value = v,
                             cost = { 1, 3, 2 }, budget = 2500, caps = caps,
                             prices = plan.prices, offer_prices = plan.offer_prices }
assert(again.objective >= 0.999 * plan.objective)
-- bad input is a Lua error naming the problem
local ok, err = pcall(merx.allocate, { value = { { 1 } }, cost = -1, budget = 1 })
assert(not ok and err:find("costs must be finite and >= 0"), err)
ok, err = pcall(merx.allocate, { offers = { "A" }, value = { { 1 } }, cost = 1, budget = 1, caps = { Z = 1 } })
assert(not ok and err:find("unknown offer 'Z'"), err)
assert(merx.allocate.shard_of("17850", 16) >= 0)
print(string.format("allocate ok: objective %.1f bound %.1f gap %.2e", plan.objective, plan.bound, plan.gap))
