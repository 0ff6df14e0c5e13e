-- merx.data on a small fixture (tests/lua/data/orders.csv).
local function check(cond, what) if not cond then error("check failed: " .. what, 2) end end
local function near(a, b) return math.abs(a - b) < 1e-9 end

local t, n = merx.data.read("data/orders.csv", {
  columns = { user = "customer", item = "sku", value = "qty", time = "day", order = "order" },
})
check(n == 6 and #t.user == 6, "six rows")
check(t.user[1] == "c1" and t.item[2] == "B", "string columns")
check(math.type(t.time[1]) == "integer" and t.time[1] == merx.time("2024-03-01"), "time column")
check(t.value[4] == 4, "value column is a number")

-- all columns by header name, with explicit types
local raw, rn = merx.data.read("data/orders.csv", { types = { price = "number", qty = "integer" } })
check(rn == 6 and raw.price[3] == 10.0 and math.type(raw.qty[1]) == "integer", "typed columns")
check(raw.customer[6] == "c2", "header names")

-- a bad typed column names file, line, column and field
local ok, err = pcall(merx.data.read, "data/orders.csv", { types = { sku = "number" } })
check(not ok and err:find("orders.csv:2:3: field 'sku': not a finite number: 'A'", 1, true), tostring(err))

-- group-by
t.spend = {}
for i = 1, n do t.spend[i] = t.value[i] * raw.price[i] end
local g, ng = merx.data.group(t, "user", {
  spend = { "sum", "spend" }, lines = "count", orders = { "count_distinct", "order" },
  last = { "max", "time" }, first_item = { "first", "item" }, avg = { "mean", "value" } })
check(ng == 3, "three customers")
check(g.user[1] == "c1" and g.user[2] == "c2" and g.user[3] == "c3", "groups in order of appearance")
check(near(g.spend[1], 2 * 10 + 5.5 + 4 * 2.25), "sum")
check(g.lines[1] == 3 and g.orders[1] == 2, "count and count_distinct")
check(g.last[1] == merx.time("2024-03-20"), "max")
check(g.first_item[2] == "A", "first")
check(near(g.avg[2], 1), "mean")

-- RFM
local r, nr = merx.data.rfm(t, { value = "spend", order = "order", now = merx.time("2024-04-01") })
check(nr == 3, "rfm rows")
local by = {}
for i = 1, nr do by[r.user[i]] = i end
check(r.recency[by.c1] == 12, "c1 bought 12 days before")
check(r.frequency[by.c1] == 2 and r.frequency[by.c3] == 1, "frequency = distinct orders")
check(near(r.monetary[by.c3], 16.5), "monetary")
check(r.r[by.c1] > r.r[by.c3], "more recent scores higher")
check(type(r.segment[1]) == "string", "segment")

-- util
local o = merx.util.order({ 3, 1, 2 }, "desc")
check(o[1] == 1 and o[2] == 3 and o[3] == 2, "order desc")
-- without the optional direction (it used to read the scratch buffer as argument 2)
o = merx.util.order({ 3, 1, 2 })
check(o[1] == 2 and o[2] == 3 and o[3] == 1, "order asc by default")
local chosen, spend = merx.util.select(
  { user = { "a", "a", "b", "c" }, offer = { "X", "Y", "X", "X" }, value = { 5, 4, 3, 2 },
    cost = { 1, 1, 1, 1 } },
  { budget = 10, per_user = 1, caps = { X = 2 } })
-- the optimum (9: a takes Y so that b and c share X's cap), not greedy by value (8)
check(#chosen == 3 and chosen[1] == 2 and chosen[2] == 3 and chosen[3] == 4 and spend == 3,
      "select with caps")
print("data ok")
