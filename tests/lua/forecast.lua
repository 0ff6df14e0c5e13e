-- merx.forecast inside `merx run`: bulk forecasts keyed by product, the
-- fields merx.inventory.plan consumes, backtests, and errors with this
-- script's line.
local function check(cond, what) if not cond then error("check failed: " .. what, 2) end end

local history = {
  ["SKU-1"] = {12, 15, 9, 14, 11, 13, 16, 10, 12, 14, 13, 11, 15, 12},
  ["SKU-2"] = {0, 3, 0, 0, 5, 0, 2, 0, 0, 0, 4, 0, 0, 3},
}
local fc = merx.forecast(history, {horizon = 4, levels = {80, 95}, nonneg = true})
check(#fc["SKU-1"].mean == 4 and fc["SKU-1"].forecast == fc["SKU-1"].mean, "mean and its alias")
local im = {croston = true, sba = true, tsb = true}
check(im[fc["SKU-2"].method], "intermittent method, got " .. fc["SKU-2"].method)
for _, r in pairs(fc) do
  for h = 1, 4 do
    check(r.lo[95][h] <= r.lo[80][h] and r.lo[80][h] <= r.mean[h], "nested lower bounds")
    check(r.mean[h] <= r.hi[80][h] and r.hi[80][h] <= r.hi[95][h], "nested upper bounds")
    check(r.lo[95][h] >= 0, "nonneg")
  end
  check(r.cum_sigma[4] >= r.cum_sigma[1], "lead-time sd grows with the horizon")
end

-- the forecast drives a replenishment plan
if merx.inventory and merx.inventory.plan then
  local items = {
    {id = "SKU-1", on_hand = 20, lead_time = 2, pack_size = 6, forecast = fc["SKU-1"]},
    {id = "SKU-2", on_hand = 1, lead_time = 1, forecast = fc["SKU-2"]},
  }
  local rows = merx.inventory.plan{items = items, service = 0.95}
  check(#rows == 2 and rows[1].order % 6 == 0, "plan from merx.forecast")
end

-- float horizons with integral values are accepted (L + review from data)
local r = merx.forecast({5, 6, 7, 8, 9, 10}, {horizon = 2.0, method = "naive"})
check(r.mean[2] == 10 and r.method == "naive", "naive")

local bt = merx.forecast.backtest(history, {horizon = 2, origins = 2, methods = {"naive", "tsb", "auto"}})
check(#bt == 3 and bt[1].evaluated == 4 and bt[3].mase > 0, "backtest")
local bt1 = merx.forecast.backtest(history, {horizon = 2, origins = 2, methods = {"naive", "auto"}, refit = "first"})
check(bt1[1].mase == bt[1].mase and bt1[2].evaluated == 4, "backtest, selection at the first origin")

local ok, err = pcall(merx.forecast, {1, 2, 3}, {horizon = 2, method = "prophet"})
check(not ok and err:find("forecast.lua:%d+:") and err:find("unknown method 'prophet'", 1, true), tostring(err))
ok, err = pcall(merx.forecast, {1, 2, 3}, {horizon = 2.5})
check(not ok and err:find("horizon", 1, true), tostring(err))
print("forecast.lua ok")
