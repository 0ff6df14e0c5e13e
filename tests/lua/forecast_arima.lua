-- merx.forecast with method arima and regressors (regression with ARIMA
-- errors): a known promotion effect is recovered; wrong input is refused.
local n, h = 100, 10
local y, promo = {}, {}
local state, e = 7, 0
for t = 1, n + h do
  promo[t] = (t % 7 == 3) and 1 or 0
end
for t = 1, n do
  state = (state * 1103515245 + 12345) % 2147483648 -- a fixed pseudo-random sequence
  e = 0.5 * e + (state / 2147483648 - 0.5) * 2
  y[t] = 40 + 8 * promo[t] + e
end
local r = merx.forecast(y, {horizon = h, method = 'arima', regressors = {promo = promo}})
assert(r.method == 'arima' and r.model:find('xreg'), r.model)
local on, off, non, noff = 0, 0, 0, 0
for j = 1, h do
  if promo[n + j] == 1 then on, non = on + r.mean[j], non + 1 else off, noff = off + r.mean[j], noff + 1 end
end
local lift = on / non - off / noff
assert(lift > 6 and lift < 10, lift)
-- several series: a regressor table per key
local out = merx.forecast({a = y, b = y}, {horizon = h, method = 'arima',
  regressors = {a = {promo = promo}, b = {promo = promo}}})
assert(math.abs(out.a.mean[1] - out.b.mean[1]) < 1e-9)
-- plain arima without regressors
local p = merx.forecast(y, {horizon = 3, method = 'arima'})
assert(p.method == 'arima' and #p.mean == 3)
-- errors: missing future values, and a method without regressor support
local short = {}
for t = 1, n do short[t] = promo[t] end
local ok, err = pcall(merx.forecast, y, {horizon = h, method = 'arima', regressors = {promo = short}})
assert(not ok and err:find('expected 110 values'), err)
ok, err = pcall(merx.forecast, y, {horizon = h, method = 'ets', regressors = {promo = promo}})
assert(not ok and err:find('does not use regressors'), err)
print('ok')
