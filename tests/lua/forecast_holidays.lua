-- merx.forecast{..., holidays = {...}}: a calendar becomes the 'holiday'
-- regressor on dated series (start, freq); with regressors too; bad input is
-- refused with the file, line and field.
local cal = 'data/uk_bank_holidays_2011_2012.csv'
local hol = {}
for _, d in ipairs({'2011-08-29', '2011-12-26', '2011-12-27', '2012-01-02'}) do hol[d] = true end
-- a daily series from 2011-06-01 to 2011-12-20 whose sales fall by 60 on bank holidays
local months = {{2011, 6, 30}, {2011, 7, 31}, {2011, 8, 31}, {2011, 9, 30}, {2011, 10, 31},
                {2011, 11, 30}, {2011, 12, 31}, {2012, 1, 31}}
local function day(k) -- 'YYYY-MM-DD' of day k after 2011-06-01
  for _, m in ipairs(months) do
    if k < m[3] then return string.format('%04d-%02d-%02d', m[1], m[2], k + 1) end
    k = k - m[3]
  end
end
local y, state, e = {}, 11, 0
local n, h = 203, 14
for t = 1, n do
  state = (state * 1103515245 + 12345) % 2147483648
  e = 0.4 * e + (state / 2147483648 - 0.5) * 6
  y[t] = 100 + e - (hol[day(t - 1)] and 60 or 0)
end
assert(day(n - 1) == '2011-12-20', day(n - 1))
local opts = {horizon = h, method = 'arima', season = 1,
              holidays = {file = cal, country = 'GB', start = '2011-06-01', freq = 'day'}}
local r = merx.forecast(y, opts)
local p = merx.forecast(y, {horizon = h, method = 'arima', season = 1})
for j = 1, h do
  local d = day(n + j - 1)
  if hol[d] then
    assert(r.mean[j] < p.mean[j] - 40, d .. ': ' .. r.mean[j] .. ' vs ' .. p.mean[j])
  else
    assert(math.abs(r.mean[j] - p.mean[j]) < 10, d)
  end
end
-- with other regressors (a constant price: dropped) the holiday effect stays
local price = {}
for t = 1, n + h do price[t] = 2 end
opts.regressors = {price = price}
local r2 = merx.forecast(y, opts)
assert(math.abs(r2.mean[7] - r.mean[7]) < 1e-6)
-- several series, starts per key
local out = merx.forecast({a = y, b = y}, {horizon = h, method = 'arima', season = 1,
  holidays = {file = cal, start = {a = '2011-06-01', b = '2011-06-01'}}})
assert(math.abs(out.a.mean[7] - r.mean[7]) < 1e-6 and math.abs(out.b.mean[7] - r.mean[7]) < 1e-6)
-- errors
local ok, err = pcall(merx.forecast, y, {horizon = h, method = 'ets', holidays = opts.holidays})
assert(not ok and err:find('only arima'), err)
ok, err = pcall(merx.forecast, y, {horizon = h, method = 'arima',
  holidays = {file = cal, start = '2010-06-01'}})
assert(not ok and err:find('covers 2011%-01%-01 to 2012%-12%-31'), err)
ok, err = pcall(merx.forecast, y, {horizon = h, method = 'arima', holidays = {file = cal}})
assert(not ok and err:find('start'), err)
ok, err = pcall(merx.forecast, y, {horizon = h, method = 'arima',
  holidays = {file = cal, start = '2011-06-01', country = 'FR'}})
assert(not ok and err:find("no holidays of country 'FR'"), err)
