-- A nightly coupon campaign that never contacts a customer twice in 14 days,
-- however many nights, reruns or catch-ups run it:
--
--   merx schedule examples/campaign_schedule.lua --once     # from a timer, or
--   merx schedule examples/campaign_schedule.lua            # as a daemon
--   merx runs examples/store                                # the run history
--   merx explain --store examples/store --user 12347.0      # why, and from which files
--
-- `store` names a folder: the deployment's store. Every slot runs as
-- `merx run spring_campaign.lua --store store ...`, so all slots commit to one
-- ledger, and the campaign's `contacts = { max = 1, days = 14 }` cap (and
-- merx.history) sees every decision committed by earlier nights. A name
-- ending in .db (examples/schedule.lua) keeps the run history only.
return {
  store = "store",
  outputs = "outputs",
  jobs = {
    { name = "spring-coupons", cron = "0 3 * * *", tz = "Europe/London",
      script = "spring_campaign.lua", params = { budget = 400 },
      timeout = 900, retries = 1, retry_delay = 60 },
  },
}
