-- merx schedule examples/schedule.lua --next 3     # when will each job fire?
-- merx schedule examples/schedule.lua --once       # run what is due now, then exit
-- merx schedule examples/schedule.lua              # daemon (see examples/systemd/)
--
-- Paths are relative to this file. A schedule file is plain Lua evaluated in a
-- restricted state (no io/os/require): it may compute its job list, e.g. one
-- job per region, but it cannot touch files.
local common = { timeout = 600, retries = 2, retry_delay = 60 }

local function job(t)
  for k, v in pairs(common) do
    if t[k] == nil then t[k] = v end
  end
  return t
end

return {
  store = "runs.db",      -- SQLite run history (`merx runs examples/schedule.lua`)
  outputs = "outputs",    -- outputs/JOB/SLOT/ per successful run, committed atomically
  jobs = {
    -- Every night at 02:30 London time. (London's clocks jump 01:00 -> 02:00
    -- in March and repeat 01:00-01:59 in October: a job at 01:30 would fire at
    -- 02:00 BST on the spring night, and only once, at the first 01:30, in autumn.)
    job { name = "sales-summary-uk", cron = "30 2 * * *", tz = "Europe/London",
          script = "sales_summary.lua", params = { min_units = 100 },
          overlap = "forbid", missed = "latest" },
    -- Mondays and Thursdays at 06:00 New York time; after downtime every
    -- missed slot is run (at most 100), oldest first.
    job { name = "sales-summary-us", cron = "0 6 * * mon,thu", tz = "America/New_York",
          script = "sales_summary.lua", params = { min_units = 500 },
          missed = "all" },
  },
}
