-- merx.measure inside a sandboxed script: the same request as `merx measure`,
-- the result as a table, strict options, bad input as errors naming the file.
local r = merx.measure{ outcomes = "data/measure_table.csv", columns = { arm = "grp" },
                        metrics = { "visit", "spend" }, control = "ctl", covariate = "past" }
assert(#r.arms == 2 and r.arms[1].arm == "ctl" and r.arms[2].arm == "mail")
assert(r.arms[1].users == 5 and r.arms[2].users == 6)
assert(r.arms[1].means.visit == 0.4 and r.arms[2].means.visit == 4 / 6)
assert(r.arms[2].means.spend == 31 / 6)
local by = {}
for _, u in ipairs(r.uplift) do by[u.metric] = u end
assert(by.visit.method == "newcombe" and by.spend.method == "welch")
assert(math.abs(by.visit.diff - (4 / 6 - 0.4)) < 1e-15)
assert(by.visit.lo95 < by.visit.diff and by.visit.diff < by.visit.hi95)
assert(by.spend.cuped and by.spend.cuped.variance_reduction > 0, "CUPED figures")
assert(r.srm_p_value > 0.5 and #r.warnings == 0)

-- events joined to assignments over a window, per segment
local e = merx.measure{ outcomes = "data/measure_orders.csv",
                        columns = "user=customer,time=ts,value=amount",
                        assignments = "data/measure_units.csv", segment = "tier",
                        control = "control", window = "2024-03-01..2024-03-31",
                        shares = { control = 0.5, coupon = 0.5 } }
assert(e.arms[2].means.revenue == 32 / 3 and e.arms[2].means.orders == 1)
assert(e.unknown_outcome_rows == 1 and e.outside_window_rows == 1)
local said = table.concat(e.warnings, "\n")
assert(said:find("1 outcome rows name users with no assignment", 1, true), said)
assert(said:find("segment 'gold': arm 'coupon' has 1 user: no interval there", 1, true), said)
assert(#e.segments == 2 and e.segments[1].segment == "gold")
-- a figure that cannot be computed is nil, not NaN
for _, u in ipairs(e.segments[1].uplift) do
  if u.metric == "revenue" then assert(u.lo95 == nil, "one coupon user in gold: no interval") end
end

-- strict options and bad input
local ok, err = pcall(merx.measure, { outcomes = "data/measure_table.csv", columns = { arm = "grp" },
                                      metric = "visit", control = "ctl", segmnet = "x" })
assert(not ok and err:find("unknown option 'segmnet'") and err:find("did you mean 'segment'"), err)
ok, err = pcall(merx.measure, { outcomes = "data/measure_table.csv", columns = { arm = "grp" },
                                metric = "visit", control = "none" })
assert(not ok and err:find("control arm 'none' has no users"), err)
ok, err = pcall(merx.measure, { outcomes = "data/measure_table.csv", columns = { arm = "grp" },
                                metric = "nope", control = "ctl" })
assert(not ok and err:find("measure_table.csv:1") and err:find("no column named 'nope'"), err)
ok, err = pcall(merx.measure, { outcomes = "data/measure_table.csv", columns = { arm = "grp" },
                                metric = "visit", control = "ctl", shares = { ctl = 0, mail = 1 } })
assert(not ok and err:find("control arm 'ctl' has share 0"), err)
print(string.format("measure ok: visit uplift %.3f [%.3f, %.3f]", by.visit.diff, by.visit.lo95, by.visit.hi95))
