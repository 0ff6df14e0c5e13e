-- Strict options (#15.4): every merx function that takes an options table
-- (or a table of named fields) refuses a key it does not read, with the
-- script line, the function and the name that was probably meant. One row
-- per function: a call with a misspelt key, the function's name, the typo and
-- the suggestion (nil: no name is close, the message lists the options).
local dist, inv = merx.dist, merx.inventory
local frame = { user = { "u1", "u1", "u2", "u2", "u3" }, item = { "a", "b", "a", "c", "b" } }
local model <close> = merx.model.train(frame, { algo = "ials", factors = 2, epochs = 1, threads = 1 })
local series = { 10, 12, 9, 11, 13, 12, 10, 11, 12, 14, 13, 12 }
local cands = { user = { "u1", "u2" }, offer = { "A", "B" }, value = { 2, 1 }, cost = { 1, 1 } }
local c = merx.campaign.new{ name = "t" }

local cases = {
  { "merx.model.train", function() merx.model.train(frame, { factorz = 8 }) end, "factorz", "factors" },
  { "merx.model.train", function() merx.model.train(frame, { event_wieghts = "view=1" }) end, "event_wieghts", "event_weights" },
  { "model:recommend", function() model:recommend({ "u1" }, 2, { exclude_sen = false }) end, "exclude_sen", "exclude_seen" },
  { "model:similar", function() model:similar({ "a" }, 2, { metirc = "dot" }) end, "metirc", "metric" },
  { "model:fold_in", function() model:fold_in({ "a" }, { vals = { 1 } }) end, "vals", "values" },
  { "merx.data.read", function() merx.data.read("data/orders.csv", { skip_emtpy = true }) end, "skip_emtpy", "skip_empty" },
  { "merx.data.rfm", function() merx.data.rfm(frame, { valeu = "x" }) end, "valeu", "value" },
  { "merx.data.write", function() merx.data.write("x.csv", frame, { column = { "user" } }) end, "column", "columns" },
  { "merx.util.select", function() merx.util.select(cands, { budgte = 1 }) end, "budgte", "budget" },
  { "merx.util.select", function()
      merx.util.select({ user = { "u" }, offer = { "A" }, value = { 1 }, grup = { "g" } }) end, "grup", "group" },
  { "merx.forecast", function() merx.forecast(series, { horizon = 3, levles = { 80 } }) end, "levles", "levels" },
  { "merx.forecast.backtest", function() merx.forecast.backtest(series, { horizon = 2, origin = 2 }) end, "origin", "origins" },
  { "merx.inventory.eoq", function() inv.eoq{ K = 8, h = 1, lamda = 100 } end, "lamda", "lambda" },
  { "merx.inventory.eoq_backorders", function() inv.eoq_backorders{ K = 8, h = 1, p = 2, lambda = 1, pp = 1 } end, "pp", "p" },
  { "merx.inventory.epq", function() inv.epq{ K = 8, h = 1, lambda = 1, muu = 2 } end, "muu", "mu" },
  { "merx.inventory.eoq_discount", function() inv.eoq_discount{ K = 8, i = 0.2, lambda = 1, brakes = { 0 } } end, "brakes", "breaks" },
  { "merx.inventory.newsvendor", function() inv.newsvendor{ h = 1, p = 2, dsit = dist.normal(5, 1) } end, "dsit", "dist" },
  { "merx.inventory.base_stock", function() inv.base_stock{ h = 1, p = 2, dist = dist.poisson(3), LL = 1 } end, "LL", "L" },
  { "merx.inventory.rq", function() inv.rq{ K = 1, h = 1, p = 2, lambda = 1, L = 1, methd = "exact" } end, "methd", "method" },
  { "merx.inventory.ss", function() inv.ss{ K = 1, h = 1, p = 2, dist = dist.poisson(3), mehtod = "exact" } end, "mehtod", "method" },
  { "merx.inventory.safety_stock", function() inv.safety_stock{ servce = 0.97, mu = 1, sigma = 1, L = 1 } end, "servce", "service" },
  { "merx.inventory.reorder_point", function() inv.reorder_point{ servce = 0.97, mu = 1, sigma = 1, L = 1 } end, "servce", "service" },
  { "merx.inventory.fill_rate", function() inv.fill_rate{ dist = dist.poisson(3), r = 2, Q = 3, polcy = "rq" } end, "polcy", "policy" },
  { "merx.inventory.order_up_to", function() inv.order_up_to{ dist = dist.poisson(3), L = 1, service = 0.9, tpye = "fill" } end, "tpye", "type" },
  { "merx.inventory.simulate", function() inv.simulate{ S = 3, demand = { 1, 2 }, lost_sale = true } end, "lost_sale", "lost_sales" },
  { "merx.inventory.plan", function() inv.plan{ items = {}, servce = 0.97 } end, "servce", "service" },
  { "merx.inventory.plan items[1]", function()
      inv.plan{ items = { { id = "A", on_hand = 1, lead_time = 1, pack = 12, forecast = { 1, 1 } } } } end, "pack", "pack_size" },
  { "merx.allocate", function() merx.allocate{ value = { { 1 } }, budgte = 1 } end, "budgte", "budget" },
  { "merx.allocate constraints[1]", function()
      merx.allocate{ value = { { 1 } }, constraints = { { name = "sms", cost = 1, limt = 1 } } } end, "limt", "limit" },
  { "merx.llm.embed", function() merx.llm.embed({ "x" }, { dimm = 8 }) end, "dimm", "dim" },
  { "merx.llm.chat", function() merx.llm.chat{ messages = "hi", max_token = 5 } end, "max_token", "max_tokens" },
  { "merx.llm.chat messages[1]", function() merx.llm.chat{ messages = { { role = "user", contnet = "hi" } } } end, "contnet", "content" },
  { "merx.llm.chat context_items[1]", function()
      merx.llm.chat{ messages = "hi", context_items = { { id = "1", txt = "lamp" } } } end, "txt", "text" },
  { "merx.campaign.new", function() merx.campaign.new{ budgte = 5 } end, "budgte", "budget" },
  { "campaign:offer", function() c:offer{ id = "X", segmnets = { "loyal" } } end, "segmnets", "segments" },
  { "campaign:cap", function() c:cap{ per_segmnet = { loyal = 1 } } end, "per_segmnet", "per_segment" },
  { "campaign:cap contacts", function() c:cap{ contacts = { max = 1, dasy = 3 } } end, "dasy", "days" },
  { "my.fn (merx.util.check_options)", function() merx.util.check_options({ colour = 1 }, "my.fn", "color size") end, "colour", "color" },
  { "merx.bandit", function() merx.bandit{ name = "b", offers = { "A" }, discont = 0.9 } end, "discont", "discount" },
  { "bandit:update", function() merx.bandit{ name = "b", offers = { "A" } }:update{ outcome = {} } end, "outcome", "outcomes" },
  -- no name is close: the options are listed instead
  { "merx.model.train", function() merx.model.train(frame, { zzzzzz = 1 }) end, "zzzzzz", nil },
}

local checked = 0
for i, case in ipairs(cases) do
  local fn, call, typo, want = case[1], case[2], case[3], case[4]
  local ok, err = pcall(call)
  if ok then error(string.format("case %d (%s): '%s' was accepted", i, fn, typo)) end
  err = tostring(err)
  local name = fn:match("^(%S+)")
  local expect = want and string.format("unknown option '%s' (did you mean '%s'?)", typo, want)
                      or string.format("unknown option '%s' (options: ", typo)
  if not err:find(expect, 1, true) then
    error(string.format("case %d (%s): expected \"%s\", got: %s", i, fn, expect, err))
  end
  if not err:find(name, 1, true) then
    error(string.format("case %d: the message does not name %s: %s", i, name, err))
  end
  -- the position is this script's line, not a helper's
  if not err:match("^[^:]*strict_options%.lua:%d+: ") then
    error(string.format("case %d (%s): no script position: %s", i, fn, err))
  end
  checked = checked + 1
end

-- keys that are not names are refused too
local ok, err = pcall(merx.model.train, frame, { "ials" })
assert(not ok and err:find("option names are strings", 1, true), err)
-- correct options still work
assert(inv.eoq{ K = 8, h = 0.225, lambda = 1300 }.Q > 0)
assert(#merx.forecast(series, { horizon = 3, levels = { 80 } }).mean == 3)
c:offer{ id = "OK", cost = 1, margin = 2, segments = { "loyal" }, data = { channel = "sms" } }
print(string.format("ok: %d functions refuse a misspelt option", checked))
