-- The nightly run's last job: read every shard's decisions, check that each
-- user was decided by one shard only and that the shards together kept the
-- global budget and caps, and report the totals (examples/slurm/README.md).
--
--   merx run report.lua --data WORK/shard-0 .. --data WORK/shard-3 --set dir=WORK --set shards=4
--            [--set budget=1500]
--            [--set caps=B=150,C=300] --out DIR   (DIR/report.csv: a row per shard and the total)
local p = merx.params
local shards = tonumber(p.shards or "4")
local budget = tonumber(p.budget or "1500")
local caps = {}
for o, k in (p.caps or "B=150,C=300"):gmatch("([^=,]+)=(%d+)") do caps[o] = tonumber(k) end

local shard_of, count = {}, {}
local rows = { shard = {}, users = {}, offers = {}, spend = {}, value = {} }
local total = { users = 0, offers = 0, spend = 0, value = 0 }
for s = 0, shards - 1 do
  local t, n = merx.data.read(string.format("%s/shard-%d/offer.csv", p.dir, s),
    { columns = { user = "user", offer = "offer", value = "value", cost = "cost" },
      types = { cost = "number" }, shard = false })
  local r = { users = n, offers = 0, spend = 0, value = 0 }
  for i = 1, n do
    local u = t.user[i]
    if shard_of[u] then
      error(string.format("user %s decided by shards %d and %d", u, shard_of[u], s))
    end
    shard_of[u] = s
    if t.offer[i] ~= "none" then
      r.offers, r.spend, r.value = r.offers + 1, r.spend + t.cost[i], r.value + t.value[i]
      count[t.offer[i]] = (count[t.offer[i]] or 0) + 1
    end
  end
  local k = #rows.shard + 1
  rows.shard[k], rows.users[k], rows.offers[k] = tostring(s), r.users, r.offers
  rows.spend[k], rows.value[k] = r.spend, r.value
  for key in pairs(total) do total[key] = total[key] + r[key] end
end
if total.spend > budget + 1e-6 then
  error(string.format("spend %.2f is over the budget %.2f", total.spend, budget))
end
for o, k in pairs(caps) do
  if (count[o] or 0) > k then error(string.format("offer %s given %d times, cap %d", o, count[o], k)) end
end
local k = #rows.shard + 1
rows.shard[k], rows.users[k], rows.offers[k] = "total", total.users, total.offers
rows.spend[k], rows.value[k] = total.spend, total.value
merx.data.write("report.csv", rows, { columns = { "shard", "users", "offers", "spend", "value" } })
print(string.format("%d shards: %d users decided once each, %d offers, spend %.2f of %.2f, value %.2f",
  shards, total.users, total.offers, total.spend, budget, total.value))
