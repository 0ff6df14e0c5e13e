-- Uplift campaign: spend an e-mail budget on the customers the e-mail
-- persuades, not on those who would visit anyway.
--
--   merx run examples/uplift_campaign.lua --dry-run
--   merx run examples/uplift_campaign.lua --set budget=100 --out out/uplift
--
-- Data: 4,000 customers of the Hillstrom e-mail campaign
-- (examples/data/hillstrom_sample.csv.gz, randomised to a men's e-mail, a women's
-- e-mail or none; outcome: a visit in the next two weeks). A T-learner
-- learns each customer's uplift of the women's e-mail on visits; the
-- campaign DSL then chooses whom to e-mail with value = uplift x value of a
-- visit - cost. On 4,000 customers the held-out Qini interval is wide (on
-- all 64,000 it excludes zero: docs/benchmarks.md, "Uplift models"). Parameters (--set KEY=VALUE): budget (number of e-mails,
-- default 300), visit_value (default 1), cost (per e-mail, default 0.02).
local p = merx.params
local budget = tonumber(p.budget or "300")
local visit_value = tonumber(p.visit_value or "1")
local cost = tonumber(p.cost or "0.02")

local t, n = merx.data.read("data/hillstrom_sample.csv.gz", {
  types = { recency = "number", history = "number", mens = "number", womens = "number",
            newbie = "number", visit = "number" } })
t.user = {}
for i = 1, n do t.user[i] = "h" .. i end -- the sample has no customer id: its row

local m <close> = merx.uplift.train{
  data = t, treatment = "segment", outcome = "visit",
  treated = "Womens E-Mail", control = "No E-Mail",
  features = { "recency", "history", "mens", "womens", "newbie", "zip_code", "channel" },
  seed = 1 }
local info = m:info()
print(string.format("uplift model: held-out qini %.4f [%.4f, %.4f], average uplift %.4f on %d test rows",
                    info.qini, info.qini_lo95, info.qini_hi95, info.ate, info.test_rows))

local s = m:score(t)
local function campaign(score, name)
  local c = merx.campaign.new{ name = name, budget = budget * cost, per_user = 1 }
  c:audience{ user = t.user, score = score, uplift = s.uplift }
  c:offer{ id = "WOMENS_EMAIL", cost = cost, margin = visit_value }
  return c
end
-- by uplift: e-mail whoever the e-mail is worth more than its cost
local c = campaign(s.uplift, "uplift")
c:eligible(function(u, o) return u.uplift * o.margin > o.cost end, "the e-mail adds more than it costs")
local sum = c:run()
-- for comparison (not emitted): the model's incremental visits of the same
-- number of e-mails sent to the most likely visitors (the response score)
local idx = {}
for i = 1, n do idx[i] = i end
table.sort(idx, function(a, b) return s.p_treated[a] > s.p_treated[b] end)
local by_response = 0
for r = 1, sum.decisions do by_response = by_response + s.uplift[idx[r]] end
print(string.format("%d e-mails by uplift: %.1f expected incremental visits (value %.2f); "
  .. "the same number by response score: %.1f", sum.decisions,
  (sum.value + sum.spend) / visit_value, sum.value, by_response))
