-- merx.util.select and the campaign DSL choose under a budget by value per
-- unit of cost (the allocation solver), not by value alone: on a fixed small
-- instance where the valuable offers are expensive, both must reach >= 99% of
-- merx.allocate's value on the same candidates. A correctness check, not a
-- timing one.
local n = 400
local users, frame = {}, { user = {}, score = {}, price = {}, segment = {} }
for i = 1, n do
  users[i] = "u" .. i
  frame.user[i] = users[i]
  frame.score[i] = 0.2 + 0.6 * ((i * 37) % 101) / 100
  frame.price[i] = 20 + (i * 53) % 180 -- product price 20..199
  frame.segment[i] = (i % 3 == 0) and "loyal" or "new"
end

-- 1. merx.util.select against merx.allocate: PREMIUM is worth more per user
-- but costs 8 times as much per unit of value as SAVER.
local cu, co, cv, cc = {}, {}, {}, {}
local rows = {}
for i = 1, n do
  local s = frame.score[i]
  local vp, vs = s * 40 - 12, s * 14 - 1
  rows[i] = { vp, vs }
  local k = #cu
  cu[k + 1], co[k + 1], cv[k + 1], cc[k + 1] = users[i], "PREMIUM", vp, 12
  cu[k + 2], co[k + 2], cv[k + 2], cc[k + 2] = users[i], "SAVER", vs, 1
end
local budget = 300
local ref = merx.allocate{ users = users, offers = { "PREMIUM", "SAVER" }, value = rows,
                           cost = { 12, 1 }, budget = budget }
local chosen, spend, left, cert = merx.util.select({ user = cu, offer = co, value = cv, cost = cc },
                                                   { budget = budget })
local got, seen = 0, {}
for k, i in ipairs(chosen) do
  got = got + cv[i]
  assert(not seen[cu[i]], "two offers for " .. cu[i])
  seen[cu[i]] = true
  assert(left[k] >= -1e-9, "budget left < 0")
end
assert(spend <= budget + 1e-9, "select spent " .. spend)
assert(got >= 0.99 * ref.objective,
       string.format("select value %.3f < 99%% of merx.allocate %.3f", got, ref.objective))
assert(type(cert) == "table" and cert.bound >= cert.objective - 1e-6 and cert.prices.budget > 0,
       "select returns the solver's certificate")
print(string.format("select: value %.3f, merx.allocate %.3f, ratio %.4f", got, ref.objective,
                    got / ref.objective))

-- 2. The campaign DSL with a coupon whose cost is a share of the product
-- price: cost = function(c) return 0.15 * c.price end.
local c = merx.campaign.new{ name = "pct", budget = 400, per_user = 1 }
c:audience(frame)
c:offer{ id = "PCT15", margin = 60, cost = function(u) return 0.15 * u.price end }
c:offer{ id = "FLAT2", margin = 9, cost = 2 }
c:cap{ per_segment = { loyal = 60 } }
local s = c:run()
assert(s.spend <= 400 + 1e-9, "campaign spent " .. s.spend)
-- the same candidates for merx.allocate (a segment cap is a constraint)
local vrows, crows, lrows = {}, {}, {}
for i = 1, n do
  local cp = 0.15 * frame.price[i]
  local vp, vf = frame.score[i] * 60 - cp, frame.score[i] * 9 - 2
  vrows[i] = { vp > 0 and vp or nil, vf > 0 and vf or nil }
  crows[i] = { cp, 2 }
  local l = frame.segment[i] == "loyal" and 1 or 0
  lrows[i] = { l, l }
end
local ref2 = merx.allocate{ users = users, offers = { "PCT15", "FLAT2" }, value = vrows,
                            cost = crows, budget = 400,
                            constraints = { { name = "loyal", cost = lrows, limit = 60 } } }
assert(s.value >= 0.99 * ref2.objective,
       string.format("campaign value %.3f < 99%% of merx.allocate %.3f", s.value, ref2.objective))
assert((s.by_segment.loyal or 0) <= 60)
print(string.format("campaign: value %.3f, merx.allocate %.3f, ratio %.4f, spend %.2f",
                    s.value, ref2.objective, s.value / ref2.objective, s.spend))

-- bad input: a cost function returning a negative or non-number is an error
local bad = merx.campaign.new{ name = "bad", budget = 10 }
bad:audience(frame)
bad:offer{ id = "NEG", margin = 5, cost = function() return -1 end }
local ok, err = pcall(bad.run, bad)
assert(not ok and err:find("NEG") and err:find("cost"), err)
