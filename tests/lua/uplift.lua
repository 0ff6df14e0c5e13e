-- merx.uplift in a script: train on a randomised campaign with planted
-- segments, score, and use the uplift as the campaign DSL's value, so the
-- budget goes to persuadables and not to sure things (who convert anyway and
-- have the highest response). Strict options and bad input are errors.
local seed = 12345
local function rand() -- a small LCG: the same data on every machine
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
end

local segs = { "persuadable", "sure_thing", "lost_cause", "sleeping_dog" }
local base = { persuadable = 0.05, sure_thing = 0.7, lost_cause = 0.02, sleeping_dog = 0.4 }
local lift = { persuadable = 0.35, sure_thing = 0.0, lost_cause = 0.0, sleeping_dog = -0.2 }
local n = 4000
local t = { user = {}, arm = {}, segment = {}, tenure = {}, bought = {} }
for i = 1, n do
  local s = segs[1 + math.floor(rand() * 4)]
  local treated = rand() < 0.5
  t.user[i] = "c" .. i
  t.segment[i] = s
  t.arm[i] = treated and "coupon" or "none"
  t.tenure[i] = math.floor(rand() * 36)
  t.bought[i] = (rand() < base[s] + (treated and lift[s] or 0)) and 1 or 0
end

local m <close> = merx.uplift.train{ data = t, treatment = "arm", outcome = "bought",
                                     control = "none", features = { "segment", "tenure" },
                                     seed = 3, bootstrap = 100 }
local info = m:info()
assert(info.learner == "t" and info.treated == "coupon" and info.control == "none", info.treated)
assert(info.outcome_kind == "binary" and #info.features == 2)
assert(info.qini_lo95 > 0, "held-out qini interval above 0: " .. info.qini_lo95)
assert(info.test_rows == 1200, info.test_rows)

local s = m:score(t)
assert(#s.uplift == n and #s.p_treated == n and #s.p_control == n)
local mean, cnt = {}, {}
for i = 1, n do
  local g = t.segment[i]
  mean[g] = (mean[g] or 0) + s.uplift[i]
  cnt[g] = (cnt[g] or 0) + 1
  assert(math.abs(s.uplift[i] - (s.p_treated[i] - s.p_control[i])) < 1e-12)
end
for g, v in pairs(mean) do mean[g] = v / cnt[g] end
assert(mean.persuadable > 0.25 and math.abs(mean.sure_thing) < 0.1 and mean.sleeping_dog < -0.1,
       string.format("%.3f %.3f %.3f", mean.persuadable, mean.sure_thing, mean.sleeping_dog))

-- the DSL with uplift as value: 300 coupons go to persuadables; a response
-- score (p_treated) would have sent them to sure things
local function campaign(score)
  local a = { user = t.user, segment = t.segment, score = score }
  local c = merx.campaign.new{ name = "coupon", budget = 300, per_user = 1 }
  c:audience(a)
  c:offer{ id = "COUPON", cost = 1, margin = 10 }
  return c
end
local c = campaign(s.uplift)
c:value(function(u, o) return u.score * o.margin - o.cost end)
local sum = c:run()
assert(sum.decisions == 300, sum.decisions)
assert((sum.by_segment.persuadable or 0) >= 290, sum.by_segment.persuadable)
-- expected incremental conversions of the 300 targeted under each ranking
local function top(score, k)
  local idx = {}
  for i = 1, n do idx[i] = i end
  table.sort(idx, function(a, b) return score[a] > score[b] end)
  local inc = 0
  for r = 1, k do inc = inc + lift[t.segment[idx[r]]] end
  return inc
end
local by_uplift, by_response = top(s.uplift, 300), top(s.p_treated, 300)
assert(by_uplift > 2 * by_response, by_uplift .. " vs " .. by_response)

-- the transformed-outcome learner ranks persuadables first too
local m2 <close> = merx.uplift.train{ data = t, treatment = "arm", outcome = "bought",
                                      control = "none", features = { "segment" },
                                      learner = "transformed", test_share = 0 }
local s2 = m2:score(t)
assert(s2.p_treated == nil and top(s2.uplift, 300) > 2 * by_response)

-- strict options and clear errors
local ok, err = pcall(merx.uplift.train, { data = t, treatment = "arm", outcome = "bought",
                                           control = "none", lerner = "t" })
assert(not ok and err:find("unknown option 'lerner'") and err:find("learner"), err)
ok, err = pcall(merx.uplift.train, { data = t, treatment = "arm", outcome = "bought" })
assert(not ok and err:find("name the treatment and control arms"), err)
ok, err = pcall(merx.uplift.train, { data = t, treatment = "arm", outcome = "nope", control = "none" })
assert(not ok and err:find("no column 'nope'"), err)
ok, err = pcall(m.score, m, { tenure = t.tenure })
assert(not ok and err:find("no column 'segment'"), err)
ok, err = pcall(merx.uplift.load, "no-such-model.mxu")
assert(not ok and err:find("no%-such%-model.mxu"), err)
print(string.format("uplift ok: qini %.4f [%.4f, %.4f], top-300 incremental %.1f (uplift) vs %.1f (response)",
                    info.qini, info.qini_lo95, info.qini_hi95, by_uplift, by_response))
