-- Spring campaign: recommend one product to every active customer and pick
-- a coupon for them under a budget, with a cap per customer segment.
--
--   merx run examples/spring_campaign.lua --now 2011-12-10 --out out/spring
--   merx run examples/spring_campaign.lua --now 2011-12-10 --set budget=300 --dry-run
--   merx run examples/spring_campaign.lua --now 2011-12-10 --set model=shop.mxm   (a trained model)
--   merx run examples/spring_campaign.lua --now 2011-12-10 --set experiment=spring --store st
--                                     (a 10% control arm: README "Measure a campaign")
--
-- Parameters (--set KEY=VALUE): budget (default 400), active_days (90),
-- model (a .mxm file from `merx train`; without it an implicit ALS model is
-- trained on the purchases inside the script), data (purchases file),
-- experiment (a name: hold out a control arm, logged in the ledger),
-- control (its share, 0.1), stratify (a column to stratify arms by, e.g. segment).
local p = merx.params
local budget = tonumber(p.budget or "400")
local active_days = tonumber(p.active_days or "90")

-- 1. Purchases: drop cancellations (InvoiceNo starting with C) and returns.
local t, n = merx.data.read(p.data or "data/purchases.csv.gz", {
  columns = { user = "CustomerID", item = "StockCode", value = "Quantity",
              time = "InvoiceDate", price = "UnitPrice", invoice = "InvoiceNo" },
  types = { price = "number" },
  skip_empty = true,
})
local buys = { user = {}, item = {}, spend = {}, time = {}, invoice = {} }
local m = 0
for i = 1, n do
  if t.value[i] > 0 and t.price[i] > 0 and t.invoice[i]:sub(1, 1) ~= "C" then
    m = m + 1
    buys.user[m], buys.item[m], buys.time[m], buys.invoice[m] =
      t.user[i], t.item[i], t.time[i], t.invoice[i]
    buys.spend[m] = t.value[i] * t.price[i]
  end
end
merx.log.info(string.format("%d purchase lines of %d read", m, n))

-- 2. RFM segments as of merx.now(). The example data ends on 2011-12-09:
-- run with --now 2011-12-10 (or any date); far later dates would make every
-- customer inactive, so the data's last day is used then, with a warning.
local last = 0
for i = 1, m do if buys.time[i] > last then last = buys.time[i] end end
local now = merx.now()
if now > last + 365 * 86400 then
  merx.log.warn("merx.now() is more than a year after the data; using the day after the last purchase")
  now = last + 86400
end
local rfm, nu = merx.data.rfm(buys, { value = "spend", order = "invoice", now = now })

-- 3. One product per active customer: the top unseen item of an implicit
-- ALS model trained here on the purchases (or loaded with --set model=FILE),
-- one bulk recommend call for all of them.
local active = { user = {}, segment = {}, recency = {}, frequency = {}, monetary = {},
                 item = {}, score = {} }
local na = 0
for i = 1, nu do
  if rfm.recency[i] <= active_days then
    na = na + 1
    active.user[na] = rfm.user[i]
    active.segment[na] = rfm.segment[i]
    active.recency[na] = rfm.recency[i]
    active.frequency[na] = rfm.frequency[i]
    active.monetary[na] = rfm.monetary[i]
  end
end
local model <close> = p.model and merx.model.load(p.model)
  or merx.model.train(buys, { algo = "ials", factors = 32, epochs = 8, seed = 42 })
local rec_items, rec_scores = model:recommend(active.user, 1)
local rec_item, rec_score = {}, {}
for i = 1, na do
  rec_item[i] = rec_items[i][1]
  rec_score[i] = rec_scores[i][1]
end

-- Response propensity: more recent and more frequent customers respond more.
for i = 1, na do
  active.item[i] = rec_item[i] or ""
  local r = math.max(0, 1 - active.recency[i] / active_days)
  local f = math.min(1, active.frequency[i] / 10)
  local fit = math.max(0, math.min(1, rec_score[i] or 0))
  active.score[i] = 0.05 + 0.25 * r + 0.2 * f + 0.1 * fit
end

-- 4. Coupons under a budget, capped per segment.
-- With --set experiment=NAME, a share of customers (control, 10%) is held
-- out: they get no coupon, their would-have-been coupon is logged as an
-- exposure, and `merx measure --store` compares the arms.
local experiment = p.experiment and merx.experiment{
  name = p.experiment, stratify = p.stratify,
  arms = { { "control", tonumber(p.control or "0.1") }, { "coupon", 1 - tonumber(p.control or "0.1") } },
}
local c = merx.campaign.new{ name = "spring", budget = budget, per_user = 1, experiment = experiment }
c:audience(active)
c:offer{ id = "SPRING10", cost = 4.0, margin = 30, stock = 70, segments = { "champions", "loyal" } }
c:offer{ id = "FREESHIP", cost = 2.5, margin = 18, stock = 250 }
c:offer{ id = "WELCOME5", cost = 1.5, margin = 12, segments = { "new", "needs_attention" } }
c:eligible(function(u) return u.item ~= "" end, "has a recommended product")
c:eligible(function(u) return u.monetary >= 50 end, "spent at least 50")
c:cap{ per_segment = { champions = 60, loyal = 80, new = 40, at_risk = 40,
                       hibernating = 0, needs_attention = 40 },
       contacts = { max = 1, days = 14 } }
local s = c:run()

local segs = {}
for seg, k in pairs(s.by_segment) do segs[#segs + 1] = seg .. "=" .. k end
table.sort(segs)
print(string.format("spring campaign: %d customers, %d active, %d offer evaluations, %d eligible, "
  .. "%d coupons, spend %.2f of %.2f, expected value %.2f", nu, na, s.evaluated, s.eligible, s.decisions,
  s.spend, budget, s.value))
if experiment then
  print(string.format("experiment %s: %d customers held out in control (would-have-been spend %.2f)",
    experiment.name, s.control, s.held_spend))
end
print("by segment: " .. table.concat(segs, " "))
