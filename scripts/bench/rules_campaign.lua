-- Benchmark body for scripts/bench/rules.sh: a campaign over N synthetic
-- users x 20 offers (eligibility rules, value, caps, budget), run through
-- the campaign DSL, then bulk recommend versus one call per user.
-- Works under `merx run` and, through merx.so, under a stock lua5.4.
local merx = merx or require "merx"
local p = merx.params or {}
local N = tonumber(p.users or (arg and arg[1]) or "1000000")
-- CPU time of this thread: per-core figures that hold on a busy machine
local function clock() return merx.clock("cpu") end
local fmt = string.format

local t0 = clock()
-- synthetic audience: deterministic, xorshift-style pseudo random numbers
local seed = 88172645463325252
local function rnd()
  seed = seed ~ (seed << 13)
  seed = seed ~ (seed >> 7)
  seed = seed ~ (seed << 17)
  return ((seed >> 11) & 0xfffff) / 0x100000
end
local segs = { "champions", "loyal", "new", "at_risk", "hibernating", "needs_attention" }
local a = { user = {}, segment = {}, score = {}, recency = {}, monetary = {}, country = {} }
for i = 1, N do
  a.user[i] = "u" .. i
  a.segment[i] = segs[1 + (i % 6)]
  a.score[i] = rnd()
  a.recency[i] = math.floor(rnd() * 365)
  a.monetary[i] = rnd() * 2000
  a.country[i] = (i % 5 == 0) and "FR" or "UK"
end
local t_gen = clock() - t0

local c = merx.campaign.new{ name = "bench", budget = N * 0.5, per_user = 1 }
c:audience(a)
for j = 1, 20 do
  local cost = 0.5 + (j % 5)
  c:offer{ id = "O" .. j, cost = cost, margin = 5 + 2 * (j % 7),
           stock = math.floor(N / 25), min_score = (j % 4) * 0.1,
           segments = (j % 3 == 0) and { "champions", "loyal", "new" } or nil,
           where = (j % 2 == 0) and { country = "UK" } or nil,
           min = { monetary = 20 * cost } }
end
c:eligible_user(function(u) return u.recency <= 180 end, "active in 180 days")
c:cap{ per_segment = { hibernating = 0, at_risk = math.floor(N / 50) } }
local t1 = clock()
local s = c:run()
local t_run = clock() - t1

-- the same rules, hand-written without the DSL (what c:run's loop costs)
local offers = c.offers
local t2 = clock()
local hits = 0
local ev = 0
for i = 1, N do
  local rec, ctry, mon, sc, seg = a.recency[i], a.country[i], a.monetary[i], a.score[i], a.segment[i]
  for j = 1, 20 do
    local o = offers[j]
    ev = ev + 1
    if (not o.segment_set or o.segment_set[seg]) and sc >= (o.min_score or 0) and rec <= 180
       and (o.where == nil or o.where.country == ctry) and mon >= 20 * o.cost then
      hits = hits + 1
    end
  end
end
local t_hand = clock() - t2

print(fmt("users %d offers 20 evaluations %d eligible %d decisions %d spend %.0f",
  N, s.evaluated, s.eligible, s.decisions, s.spend))
print(fmt("generate_s %.3f", t_gen))
print(fmt("campaign_s %.3f evals_per_s %.0f users_per_s %.0f offers_per_s %.0f", t_run,
  s.evaluated / t_run, N / t_run, s.decisions / t_run))
print(fmt("handwritten_s %.3f evals_per_s %.0f (eligible %d)", t_hand, ev / t_hand, hits))

-- bulk recommend vs one call per user on a synthetic implicit model
local MU, MI = tonumber(p.model_users or "50000"), 5000
local tr = { user = {}, item = {} }
local k = 0
for u = 1, MU do
  for _ = 1, 10 do
    k = k + 1
    tr.user[k] = "u" .. u
    tr.item[k] = "i" .. (1 + math.floor(rnd() ^ 2 * MI))
  end
end
local m = merx.model.train(tr, { algo = "ials", factors = 64, epochs = 2, seed = 1, threads = 1 })
local users = {}
for u = 1, MU do users[u] = "u" .. u end
local t3 = clock()
local bulk = m:recommend(users, 10, { threads = 1 })
local t_bulk = clock() - t3
local S = math.min(MU, tonumber(p.single or "5000"))
local t4 = clock()
for u = 1, S do
  local r = m:recommend({ users[u] }, 10, { threads = 1 })
  assert(r[1][1] == bulk[u][1])
end
local t_single = (clock() - t4) / S * MU
print(fmt("recommend_users %d bulk_s %.3f per_user_calls_s %.3f (measured on %d users, scaled) ratio %.1f",
  MU, t_bulk, t_single, S, t_single / t_bulk))
m:close()
