-- merx.forecast.reconcile: coherent forecasts; OLS and MinT-shrink values from
-- tests/unit/forecast_fixtures/recon_reference.py (independent computation)
local parents = {T = "", A = "T", B = "T", AA = "A", AB = "A", BA = "B", BB = "B"}
local base = {T = {100}, A = {55}, B = {40}, AA = {30}, AB = {22}, BA = {18}, BB = {25}}
local resid = {
  T = {3.0, -2.0, 1.5, -4.0, 2.5, 0.5, -1.0, 2.0}, A = {2.0, -1.0, 0.5, -2.5, 1.0, 0.0, -0.5, 1.5},
  B = {1.2, -0.8, 1.1, -1.4, 1.3, 0.4, -0.6, 0.3}, AA = {1.0, -0.4, 0.2, -1.5, 0.7, 0.3, 0.1, 0.9},
  AB = {0.9, -0.7, 0.4, -0.9, 0.2, -0.4, -0.5, 0.7}, BA = {0.5, -0.3, 0.6, -0.8, 0.9, 0.1, -0.2, 0.4},
  BB = {0.6, -0.6, 0.4, -0.5, 0.5, 0.4, -0.3, -0.2}}
local function close(a, b) return math.abs(a - b) < 1e-9 end
local bu = merx.forecast.reconcile(base, parents, {method = "bottom-up"})
assert(close(bu.T[1], 95) and close(bu.A[1], 52) and bu.AA[1] == 30)
local ols = merx.forecast.reconcile(base, parents, {method = "ols"})
assert(close(ols.T[1], 97.8571428571428) and close(ols.BB[1], 24.7142857142857))
local m = merx.forecast.reconcile(base, parents, {residuals = resid})
assert(close(m.T[1], 95.459307623354) and close(m.AB[1], 22.8470458855407))
assert(close(m.T[1], m.A[1] + m.B[1]) and close(m.A[1], m.AA[1] + m.AB[1]))
local ok, e = pcall(merx.forecast.reconcile, base, {T = "", A = "X"}, {method = "ols"})
assert(not ok and tostring(e):find("unknown parent 'X'"), e)
ok, e = pcall(merx.forecast.reconcile, base, parents, {method = "mint"})
assert(not ok and tostring(e):find("unknown reconciliation"), e)
ok, e = pcall(merx.forecast.reconcile, base, parents, {methd = "ols"})
assert(not ok, e)
