-- The spring campaign's rule (examples/spring_campaign.lua), one shopper at a
-- time, for `merx serve`'s POST /v1/decide:
--
--   merx serve --config examples/serve_decide.lua
--   curl -s localhost:8080/v1/decide -d '{"function": "decide", "args": {"user": "17850",
--        "segment": "champions", "recency": 3, "frequency": 12, "monetary": 820, "item": "85123A"}}'
--
-- The batch campaign picks coupons for everyone under one budget; here each
-- request gets the coupon of highest expected value it is eligible for. Its
-- stock (SPRING10 70, FREESHIP 250) and "one coupon per 14 days" are the
-- caps of serve_decide.lua, enforced against the store's ledger when the
-- decision is recorded (a capped decision comes back under "capped").
local offers = {
  { id = "SPRING10", cost = 4.0, margin = 30, segments = { champions = true, loyal = true } },
  { id = "FREESHIP", cost = 2.5, margin = 18 },
  { id = "WELCOME5", cost = 1.5, margin = 12, segments = { new = true, needs_attention = true } },
}
local active_days = 90

local M = {}

-- Response propensity, as in the batch campaign: more recent and more
-- frequent customers respond more.
local function propensity(a)
  local r = math.max(0, 1 - (a.recency or active_days) / active_days)
  local f = math.min(1, (a.frequency or 0) / 10)
  local fit = math.max(0, math.min(1, a.score or 0))
  return 0.05 + 0.25 * r + 0.2 * f + 0.1 * fit
end

function M.decide(a)
  if type(a) ~= "table" or not a.user then error("args.user is required") end
  local user = tostring(a.user)
  if (a.item or "") == "" then return { offer = nil, why = "no recommended product" } end
  if (a.monetary or 0) < 50 then return { offer = nil, why = "spent less than 50" } end
  if (a.recency or math.huge) > active_days then return { offer = nil, why = "not active" } end
  local p = propensity(a)
  local best, best_value
  for _, o in ipairs(offers) do
    if not o.segments or o.segments[a.segment] then
      local v = p * o.margin - o.cost
      if v > 0 and (not best_value or v > best_value) then best, best_value = o, v end
    end
  end
  if not best then return { offer = nil, why = "no offer with a positive expected value" } end
  merx.emit("offer", { user = user, offer = best.id, item = a.item, value = best_value,
                       reason = string.format("%s: propensity %.2f x margin %g - cost %g = %.2f",
                                              a.segment or "?", p, best.margin, best.cost, best_value) })
  return { offer = best.id, item = a.item, value = best_value }
end

return M
