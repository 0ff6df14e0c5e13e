-- One night of the bandit benchmark (scripts/bench/bandit.sh): update the
-- posteriors from the outcomes of last night's offers (campaign_sim.py's
-- table: user,arm,segment,conversion,...), then one Thompson draw per
-- customer. policy=split gives each customer coupon or email at random
-- (the fixed 50/50 split the bandit must beat) through the same file layout.
local p = merx.params
local t, n = merx.data.read(p.customers, { columns = { user = "user", segment = "segment" }, shard = false })
local offers = { "coupon", "email" }
local segments = { "champions", "loyal", "regular", "new", "at_risk" }
local night, seed = tonumber(p.night), tonumber(p.seed)
if p.policy == "split" then
  math.randomseed(seed * 1000 + night)
  for i = 1, n do
    merx.emit("offer", { user = t.user[i], offer = offers[math.random(2)], segment = t.segment[i],
                         reason = "50/50 split" })
  end
  return
end
local b = merx.bandit{ name = "bench", offers = offers, segments = segments,
                       discount = tonumber(p.discount or "1"), seed = seed * 1000 + night }
if p.prev then
  local o, m = merx.data.read(p.prev, { columns = { user = "user", conversion = "conversion" },
                                        types = { conversion = "integer" }, shard = false })
  local conv = {}
  for i = 1, m do conv[o.user[i]] = o.conversion[i] end
  b:update{ outcomes = conv }
end
b:choose_all(t.user, t.segment)
