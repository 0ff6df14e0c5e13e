-- Scheduled job (examples/schedule.lua): total units sold per product over the
-- example daily sales, written to sales_by_product.csv in the run's output
-- directory. merx.params.min_units (from the schedule) drops slow movers.
local min_units = tonumber(merx.params.min_units or "0")
local sales = merx.data.read("data/daily_sales.csv",
                             { types = { quantity = "number" } })
local by = merx.data.group(sales, "StockCode", { units = { "sum", "quantity" }, days = "count" })
local rows = {}
for i = 1, #by.StockCode do
  if by.units[i] >= min_units then
    rows[#rows + 1] = { StockCode = by.StockCode[i], units = by.units[i], days = by.days[i] }
  end
end
table.sort(rows, function(a, b) return a.units > b.units end)
merx.data.write("sales_by_product.csv", rows, { columns = { "StockCode", "units", "days" } })
print(("%d products with at least %d units"):format(#rows, min_units))
