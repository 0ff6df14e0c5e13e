-- The nightly loop of merx.bandit against a simulated population whose
-- conversion rates per segment x offer are known (planted below), so the
-- bandit's regret can be measured. One `merx run` is one night:
--   1. read the outcomes of the previous night's decisions (prev=FILE) and
--      update the posteriors from the bandit's own logged decisions;
--   2. choose an offer for every customer (one Thompson draw each);
--   3. play the population: draw who converts and write outcomes.csv for
--      tomorrow (a real deployment gets this file from its order system).
-- It prints this night's expected regret and that of a fixed 50/50 split.
--   merx run bandit_sim.lua --store st --now 2026-01-01 --out n1 --set night=1
--   merx run bandit_sim.lua --store st --now 2026-01-02 --out n2 --set night=2 --set prev=n1/outcomes.csv
-- Params: users (200), seed (1), discount (1), name ("sim").
local p = merx.params
local night = tonumber(p.night or "1")
local n_users = tonumber(p.users or "200")
local seed = tonumber(p.seed or "1")

-- planted conversion rates: the best offer differs by segment
local rates = {
  new   = { A = 0.04, B = 0.10 },
  loyal = { A = 0.12, B = 0.05 },
}
local offers, segments = { "A", "B" }, { "new", "loyal" }

local b = merx.bandit{ name = p.name or "sim", offers = offers, segments = segments,
                       discount = tonumber(p.discount or "1"), seed = seed * 100000 + night }
if p.prev then
  -- every user's outcome, also under --shard (the update spans all shards' decisions)
  local t, n = merx.data.read(p.prev, { types = { converted = "integer" }, shard = false })
  local outcomes = {}
  for i = 1, n do outcomes[t.user[i]] = t.converted[i] end
  local r = b:update{ outcomes = outcomes }
  merx.log.info(string.format("night %d: applied %d decisions of %d runs, %d conversions",
                              night, r.decisions, r.batches, r.conversions))
end

local users, segs = {}, {}
for i = 1, n_users do
  users[i] = "c" .. i
  segs[i] = segments[i % 2 + 1]
end
local chosen = b:choose_all(users, segs)

math.randomseed(seed * 100000 + night)
local out = { user = {}, converted = {} }
local regret, split = 0, 0
for i = 1, n_users do
  local r = rates[segs[i]]
  local best, mean = math.max(r.A, r.B), (r.A + r.B) / 2
  regret = regret + best - r[chosen[i]]
  split = split + best - mean
  out.user[i] = users[i]
  out.converted[i] = math.random() < r[chosen[i]] and 1 or 0
end
merx.data.write("outcomes.csv", out, { columns = { "user", "converted" } })
print(string.format("night %d regret %.6f split %.6f", night, regret, split))
