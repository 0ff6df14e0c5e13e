-- merx.inventory and merx.dist inside `merx run`: Snyder & Shen examples, a
-- replenishment plan for a few items, and a policy replay.
local function check(cond, what) if not cond then error("check failed: " .. what, 2) end end
local function near(a, b, tol) return math.abs(a - b) <= tol end
local inv, dist = merx.inventory, merx.dist

-- S&S Example 3.1, 4.3, 4.7, 5.8
check(near(inv.eoq{K = 8, h = 0.225, lambda = 1300}.Q, 304.0467800264368, 1e-9), "EOQ")
local nv = inv.newsvendor{h = 0.18, p = 0.70, dist = dist.normal(50, 8)}
check(near(nv.S, 56.60395592743389, 1e-8) and near(nv.cost, 1.9976051931766445, 1e-8), "newsvendor")
local ss = inv.ss{K = 5, h = 1, p = 4, dist = dist.poisson(6)}
check(ss.s == 4 and ss.S == 10 and near(ss.cost, 8.034111561471642, 1e-9), "(s,S)")
local rq = inv.rq{K = 100, h = 20, p = 150, lambda = 1.5, L = 2}
check(rq.r == 3 and rq.Q == 5 and near(rq.cost, 107.92358063314975, 1e-9), "(r,Q) Poisson")

-- a plan: weekly demand history -> mean and sd -> order-up-to orders
local history = {
  ["SKU-1"] = {12, 15, 9, 14, 11, 13, 16, 10},
  ["SKU-2"] = {0, 3, 0, 0, 5, 0, 2, 0},
}
local stock = {
  {id = "SKU-1", on_hand = 20, on_order = 10, lead_time = 2, pack_size = 6},
  {id = "SKU-2", on_hand = 1, lead_time = 1, moq = 10},
}
for _, it in ipairs(stock) do
  local h = history[it.id]
  local m, v = 0, 0
  for _, x in ipairs(h) do m = m + x end
  m = m / #h
  for _, x in ipairs(h) do v = v + (x - m) ^ 2 end
  local sd = math.sqrt(v / (#h - 1))
  it.forecast = {m, m, m, m}
  it.sigma = {sd, sd, sd, sd}
end
local rows = inv.plan{items = stock, service = 0.95, dist = "negbin"}
check(#rows == 2 and rows[1].id == "SKU-1", "plan rows")
check(rows[1].order % 6 == 0 and rows[1].order >= rows[1].raw_order, "pack rounding")
check(rows[2].order == 0 or rows[2].order >= 10, "MOQ")
check(rows[1].order_up_to > rows[1].ltd_mean, "safety stock is positive at 95%")

-- replay the first item's policy on simulated demand: cycle service near target
local S = rows[1].order_up_to
local demand = dist.normal(12.5, 2.3):sample(20000, 5)
for i, x in ipairs(demand) do if x < 0 then demand[i] = 0 end end
local sim = inv.simulate{policy = "base_stock", S = S, L = 2, demand = demand, h = 1, p = 9}
check(sim.cycle_service > 0.9 and sim.fill_rate > 0.95, "replayed service " .. sim.cycle_service)
-- turnover counts backorders once shipped (the hand case of test_inventory.c)
local t = inv.simulate{policy = "base_stock", S = 4, L = 0, initial = 0, demand = {6, 2, 3}}
check(t.filled == 9 and t.shipped == 11 and near(t.turnover, 11, 1e-12), "turnover " .. t.turnover)

local rp = inv.reorder_point{mu = 12, sigma = 4, L = 7, service = 0.95}
check(near(rp.r, 101.40749456006, 1e-9) and rp.reorder_point == rp.r, "reorder point")

-- errors carry this script's line
local ok, err = pcall(inv.safety_stock, {service = 1.2, mu = 10, sigma = 2, L = 1})
check(not ok and err:find("service must be strictly between 0 and 1", 1, true), tostring(err))
print("inventory.lua ok")
