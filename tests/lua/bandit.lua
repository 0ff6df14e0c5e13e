-- merx.bandit without a store (the ledger loop is tests/cli/bandit.sh):
-- choices are reproducible per user and seed, choose_all equals choose,
-- decisions are staged with their posterior, bad input names the script line.
-- `merx run` commits to out/decisions.db by default: a name of this run's
-- own keeps earlier runs' state out
local NAME = "spring-" .. merx.run_id
local b = merx.bandit{ name = NAME, offers = { "A", "B", "C" }, segments = { "new", "loyal" },
                       prior = { 2, 3 }, seed = 11 }
local arms = b:arms()
assert(#arms == 6, #arms)
for _, a in ipairs(arms) do
  assert(a.alpha == 2 and a.beta == 3 and math.abs(a.mean - 0.4) < 1e-15, a.offer)
end
assert(arms[1].segment == "new" and arms[1].offer == "A" and arms[6].segment == "loyal" and arms[6].offer == "C")

-- the same user, segment and seed give the same offer and draw
local o1, d1 = b:choose("u1", "new")
local o2, d2 = b:choose("u1", "new")
assert(o1 == o2 and d1 == d2 and d1 > 0 and d1 < 1)
local users, segs = {}, {}
for i = 1, 300 do users[i] = "c" .. i; segs[i] = i % 2 == 0 and "new" or "loyal" end
local all = b:choose_all(users, segs)
assert(#all == 300)
local counts = {}
for i = 1, 300 do
  local o = b:choose(users[i], segs[i])
  assert(o == all[i], i)
  counts[o] = (counts[o] or 0) + 1
end
-- flat posteriors: every offer is chosen, roughly a third each
for _, o in ipairs({ "A", "B", "C" }) do assert(counts[o] > 60, o .. " " .. tostring(counts[o])) end
assert(merx.plan().offer == 2 + 300 + 300, merx.plan().offer)

-- another seed gives other draws
local b2 = merx.bandit{ name = NAME, offers = { "A", "B", "C" }, segments = { "new", "loyal" }, seed = 12 }
local same = 0
for i = 1, 300 do if b2:choose(users[i], segs[i], { reason = "x" }) == all[i] then same = same + 1 end end
assert(same < 200, same)

-- value weighting: with flat posteriors a 100x margin wins almost always
local v = merx.bandit{ name = "v", offers = { "A", "B" }, values = { A = 1, B = 100 }, kind = "pick" }
local wins = 0
for i = 1, 200 do if v:choose("u" .. i) == "B" then wins = wins + 1 end end
assert(wins > 190, wins)
assert(merx.plan().pick == 200)

-- bad input: one clear error at this script's line
local function fails(f, text)
  local ok, err = pcall(f)
  assert(not ok, "accepted: " .. text)
  assert(err:find(text, 1, true), err)
  assert(err:match("^[^:]*bandit%.lua:%d+: "), "no script position: " .. err)
end
fails(function() merx.bandit{ offers = { "A" } } end, "'name' is required")
fails(function() merx.bandit{ name = "x", offers = {} } end, "'offers' is empty")
fails(function() merx.bandit{ name = "x", offers = { "A", "A" } } end, "lists 'A' twice")
fails(function() merx.bandit{ name = "x", offers = { "A" }, discount = 0 } end, "discount 0 must be in (0, 1]")
fails(function() merx.bandit{ name = "x", offers = { "A" }, prior = { 0, 1 } } end, "prior")
fails(function() merx.bandit{ name = "x", offers = { "A" }, prior = 1 } end, "'prior' must be {alpha, beta}")
fails(function() merx.bandit{ name = "x", offers = { "A" }, values = { B = 1 } } end, "values['A'] must be a number")
fails(function() merx.bandit{ name = "x", offers = { "A" }, values = { A = 1, B = 2 } } end, "not an offer ('B')")
fails(function() b:choose("u1") end, "needs the user's segment")
fails(function() b:choose("u1", "vip") end, "unknown segment 'vip'")
fails(function() v:choose("u1", "new") end, "has no segments")
fails(function() b:choose("u1", "new", { offer = "Z" }) end, "may not set 'offer'")
fails(function() b:choose_all(users, { "new" }) end, "300 users but 1 segments")

-- rows update the posteriors at once (choices of the same run use them);
-- the same source twice is refused
local r = b:update{ source = "w1", rows = {
  { segment = "new", offer = "A", converted = 1 }, { segment = "new", offer = "A", converted = true },
  { segment = "new", offer = "A", converted = 0 }, { segment = "loyal", offer = "C", converted = false } } }
assert(r.batches == 1 and r.decisions == 4 and r.conversions == 2, r.decisions)
arms = b:arms()
assert(arms[1].alpha == 4 and arms[1].beta == 4, arms[1].alpha)
assert(arms[6].alpha == 2 and arms[6].beta == 4)
assert(arms[2].alpha == 2 and arms[2].beta == 3)
fails(function() b:update{ rows = {}, source = "w1" } end, "outcomes of 'w1' were already applied")
fails(function() b:update{ rows = {} } end, "rows need a 'source'")
fails(function() b:update{ rows = { { segment = "new", offer = "Z", converted = 1 } }, source = "w2" } end, "rows[1]: unknown offer 'Z'")
fails(function() b:update{ rows = { { segment = "new", offer = "A", converted = 2 } }, source = "w2" } end, "rows[1].converted must be 0/1")
fails(function() b:update{ rows = { { segment = "new", offer = "A" } }, source = "w2" } end, "rows[1].converted is missing")
fails(function() b:update{ rows = {}, outcomes = {} } end, "either outcomes")
fails(function() b:update{ outcomes = { u1 = "yes" } } end, "outcomes['u1'] must be 0/1")
fails(function() b:update{ outcomes = {}, source = "x" } end, "source applies to rows")
fails(function() b:update{ outcomes = {}, min_age = -1 } end, "min_age must be >= 0")
-- no earlier run in this decision log: nothing to score
r = b:update{ outcomes = { u1 = 1 } }
assert(r.batches == 0 and r.decisions == 0)
print("ok: merx.bandit")
