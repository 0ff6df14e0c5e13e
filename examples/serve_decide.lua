-- merx serve with the spring campaign's rule on POST /v1/decide
-- (examples/spring_decide.lua): `merx serve --config examples/serve_decide.lua`.
return {
  listen = "127.0.0.1:8080",
  store = "store",                -- decisions go to store/ledger.db
  decide = {
    script = "spring_decide.lua",
    default_function = "decide",  -- when the request names none
    timeout_ms = 50,              -- per call, as merx run --timeout
    memory_mb = 64,               -- per Lua state, as merx run --memory
    caps = {
      -- one coupon per shopper per 14 days (campaign:cap{contacts = ...})
      contacts = { kind = "offer", max = 1, days = 14 },
      -- each coupon's stock (the campaign's offer stock)
      per_offer = { kind = "offer", field = "offer", max = { SPRING10 = 70, FREESHIP = 250 } },
    },
  },
}
