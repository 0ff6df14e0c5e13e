-- Replenishment: a planner's reorder rule over products and stock.
--
--   merx run examples/replenish.lua --now 2011-12-10 --out out/replenish
--   merx run examples/replenish.lua --now 2011-12-10 --set service=0.98 --dry-run
--
-- Inputs (next to this script): data/daily_sales.csv (units sold per product
-- and day; days without a row sold nothing) and stock.csv (on hand, on order,
-- lead time, pack size and unit cost per product; illustrative planner input
-- made for this example). Parameters: service (cycle service level, default
-- 0.95), review (days between orders, 7), window (days of history, 56).
--
-- Forecast and policy: when the forecasting and inventory modules are
-- present (merx.forecast, merx.inventory.reorder_point), the script uses them;
-- otherwise -- and with --set builtin=1 -- it computes a moving average of
-- the last `window` days and a normal-approximation reorder point itself:
--   mu = mean daily demand, sigma = its standard deviation,
--   ROP = mu*L + z*sigma*sqrt(L), order-up-to S = ROP + mu*review,
-- with z the standard normal quantile of the service level.
local p = merx.params
local service = tonumber(p.service or "0.95")
local review = tonumber(p.review or "7")
local window = tonumber(p.window or "56")
local builtin = p.builtin == "1" or not (merx.forecast and merx.inventory
  and merx.inventory.reorder_point)

local sales, n = merx.data.read("data/daily_sales.csv", {
  columns = { id = "StockCode", time = "date", value = "quantity" } })
local stock, ns = merx.data.read("stock.csv", {
  types = { on_hand = "number", on_order = "number", lead_time_days = "number",
            pack_size = "integer", unit_cost = "number" } })

-- as-of day: merx.now(), but not past the day after the data ends
local last = 0
for i = 1, n do if sales.time[i] > last then last = sales.time[i] end end
local day = 86400
local asof = math.min(merx.now() // day * day, last + day)
local first = asof - window * day

-- daily series per product over [first, asof)
local series = {}
for i = 1, ns do
  local v = {}
  for d = 1, window do v[d] = 0 end
  series[stock.StockCode[i]] = v
end
for i = 1, n do
  local v = series[sales.id[i]]
  local t = sales.time[i]
  if v and t >= first and t < asof then
    local d = (t - first) // day + 1
    v[d] = v[d] + sales.value[i]
  end
end

-- Acklam's rational approximation of the standard normal quantile (|error| < 1.2e-9)
local function z_of(pr)
  local a = { -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
              1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00 }
  local b = { -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
              6.680131188771972e+01, -1.328068155288572e+01 }
  local c = { -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
              -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00 }
  local d = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
              3.754408661907416e+00 }
  local q, r
  if pr < 0.02425 then
    q = math.sqrt(-2 * math.log(pr))
    return (((((c[1]*q+c[2])*q+c[3])*q+c[4])*q+c[5])*q+c[6]) / ((((d[1]*q+d[2])*q+d[3])*q+d[4])*q+1)
  elseif pr > 1 - 0.02425 then
    q = math.sqrt(-2 * math.log(1 - pr))
    return -(((((c[1]*q+c[2])*q+c[3])*q+c[4])*q+c[5])*q+c[6]) / ((((d[1]*q+d[2])*q+d[3])*q+d[4])*q+1)
  end
  q = pr - 0.5
  r = q * q
  return (((((a[1]*r+a[2])*r+a[3])*r+a[4])*r+a[5])*r+a[6])*q /
         (((((b[1]*r+b[2])*r+b[3])*r+b[4])*r+b[5])*r+1)
end
local z = z_of(service)

local orders, alerts, spend = 0, 0, 0
for i = 1, ns do
  local sku = stock.StockCode[i]
  local v = series[sku]
  local L = stock.lead_time_days[i]
  local mu, sigma, how
  if builtin then
    local s, s2 = 0, 0
    for d = 1, window do s = s + v[d]; s2 = s2 + v[d] * v[d] end
    mu = s / window
    sigma = math.sqrt(math.max(0, s2 / window - mu * mu))
    how = string.format("%d-day moving average", window)
  else
    local fc = merx.forecast(v, { horizon = L + review, method = "auto" })
    local f = fc.forecast or fc
    local s = 0
    for h = 1, #f do s = s + f[h] end
    mu = s / #f
    local m = 0
    for d = 1, window do m = m + v[d] end
    m = m / window
    local s2 = 0
    for d = 1, window do s2 = s2 + (v[d] - m) ^ 2 end
    sigma = math.sqrt(s2 / window)
    how = "merx.forecast (" .. tostring(fc.method or "auto") .. ")"
  end
  local rop
  if builtin then
    rop = mu * L + z * sigma * math.sqrt(L)
  else
    rop = merx.inventory.reorder_point{ mu = mu, sigma = sigma, L = L, service = service }
    if type(rop) == "table" then rop = rop.rop or rop.reorder_point end
  end
  local upto = rop + mu * review
  local position = stock.on_hand[i] + stock.on_order[i]
  if position <= rop and mu > 0 then
    local pack = stock.pack_size[i]
    local qty = math.ceil((upto - position) / pack) * pack
    local cost = qty * stock.unit_cost[i]
    orders = orders + 1
    spend = spend + cost
    merx.emit("order", {
      sku = sku, quantity = qty, cost = cost, on_hand = stock.on_hand[i],
      on_order = stock.on_order[i], reorder_point = rop, order_up_to = upto,
      reason = string.format(
        "position %.0f (on hand %.0f + on order %.0f) <= reorder point %.1f = %.2f/day x %d days "
        .. "lead time + %.2f x %.2f x sqrt(%d) safety (service %.2f, %s); order up to %.1f "
        .. "in packs of %d", position, stock.on_hand[i], stock.on_order[i], rop, mu, L, z,
        sigma, L, service, how, upto, pack),
    })
    if stock.on_hand[i] < mu * L then
      alerts = alerts + 1
      merx.emit("alert", {
        sku = sku, days_of_cover = mu > 0 and stock.on_hand[i] / mu or 0,
        reason = string.format("on hand %.0f covers %.1f days, less than the %d-day lead time: "
          .. "expect a stock-out before the order arrives", stock.on_hand[i],
          stock.on_hand[i] / mu, L),
      })
    end
  end
end
print(string.format("replenish as of %s: %d products, %d orders (%.2f), %d stock-out alerts; %s",
  merx.date(asof), ns, orders, spend, alerts,
  builtin and "built-in moving average" or "merx.forecast + merx.inventory"))
