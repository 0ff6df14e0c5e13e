-- A nightly offer campaign under one global budget and offer caps, run as
-- shards by a Slurm job array (examples/slurm/README.md).
--
--   merx run campaign.lua --data CAND --set candidates=CAND --solve duals.txt --shards 4
--   merx run campaign.lua --data CAND --set candidates=CAND --shard I/4 --duals duals.txt \
--            --store STORE --out shard-I
--
-- candidates: a CSV (or a `merx shard-split` folder of one, split by user) with
-- columns user, offer, value, cost: one row per eligible (user, offer). Under
-- --shard, merx.data.read keeps this shard's users (reading only part I of a
-- split folder); merx.allocate takes this shard's quota of the budget and caps
-- and applies the prices solved once by --solve. Every user gets one decision
-- row: the offer, or "none".
local p = merx.params
local budget = tonumber(p.budget or "1500")
local caps = {}
for o, k in (p.caps or "B=150,C=300"):gmatch("([^=,]+)=(%d+)") do caps[o] = tonumber(k) end

local t, n = merx.data.read(assert(p.candidates, "give --set candidates=FILE"), {
  columns = { user = "user", offer = "offer", value = "value", cost = "cost" },
  types = { cost = "number" },
})
local users, row_of, offers, seen = {}, {}, {}, {}
local value, cost = {}, {}
for i = 1, n do
  local u, o = t.user[i], t.offer[i]
  local r = row_of[u]
  if not r then
    users[#users + 1] = u
    r = #users
    row_of[u], value[r], cost[r] = r, {}, {}
  end
  if not seen[o] then seen[o] = true; offers[#offers + 1] = o end
  value[r][o], cost[r][o] = t.value[i], t.cost[i]
end
table.sort(offers)

local plan = merx.allocate{ users = users, offers = offers, value = value, cost = cost,
                            budget = budget, caps = caps, per_user = 1 }
local chosen = {}
for _, a in ipairs(plan.assignments) do chosen[a.user] = a end
for _, u in ipairs(users) do
  local a = chosen[u]
  merx.emit("offer", { user = u, offer = a and a.offer or "none", value = a and a.value or 0,
                       cost = a and a.cost or 0,
                       reason = a and "allocated" or "not chosen under the budget and caps" })
end
local shard, shards = merx.shard()
print(string.format("shard %d/%d: %d users, %d offers, spend %.2f, value %.2f", shard, shards,
  #users, plan.assigned, plan.spend, plan.objective))
