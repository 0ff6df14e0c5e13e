-- merx.campaign: a small DSL for marketing campaigns.
--
--   local c = merx.campaign.new{ name = "spring", budget = 500, per_user = 1 }
--   c:audience(frame)                     -- columns: user (required), any others
--   c:offer{ id = "SPRING10", cost = 2, margin = 9, stock = 300,
--            segments = {"loyal", "champions"}, min_score = 0.2 }
--   c:eligible_user(function(u) return u.recency <= 90 end, "bought in the last 90 days")
--   c:eligible(function(u, o) return u.monetary >= 10 * o.cost end, "spend covers the cost")
--   c:value(function(u, o) return u.score * o.margin - o.cost end)   -- the default
--   c:cap{ per_user = 1, per_segment = { champions = 100 }, contacts = { max = 2, days = 30 } }
--   local summary = c:run()               -- emits one "offer" decision per chosen pair
--
-- How it runs (the "compile" step): c:run() generates a Lua function
-- specialised for this campaign -- the offers unrolled, their declarative
-- conditions (segments, min_score, where/min/max on audience columns) and
-- the default value formula inlined as constants, audience columns read
-- into locals -- and loads it (text chunk, in the sandbox). Custom predicates
-- and value functions are called from it; user-level rules
-- (c:eligible_user) run once per user instead of once per pair. Only the
-- best `keep` pairs per user are kept. The choice under budget, stock (per-offer caps), per-segment caps and
-- the per-user limit is then made in one bulk C call (merx.util.select: the
-- allocation solver, which ranks by value net of the priced budget and caps,
-- i.e. by value per unit of cost where the budget binds), and each chosen pair
-- is emitted with a reason that says which rules passed, the value arithmetic
-- and the budget left. An offer's cost may be a function of the candidate
-- (cost = function(u, o) return 0.15 * u.price end: a 15% coupon).
local merx = ...
if type(merx) ~= "table" then
  -- loaded by require "merx.campaign" from a stock Lua (... is the module
  -- name): the runtime is merx.so, which already holds this module
  merx = require "merx"
  if merx.campaign then return merx.campaign end
end
local select_c, fmt, floor = merx.util.select, string.format, math.floor

local Campaign = {}
Campaign.__index = Campaign
Campaign.__metatable = "merx.campaign" -- getmetatable() cannot reach the shared methods

local M = {}

--- merx.campaign.new{ name, budget = inf, per_user = 1, kind = "offer", keep = 3,
---                     experiment = merx.experiment{...} }
--- With an experiment, every chosen pair goes through e:emit: users in the
--- control arm get no offer, but their would-have-been offer is logged as an
--- exposure (it still takes its share of budget and caps in the choice, so
--- treated and control users are chosen by the same rule).
function M.new(opts)
  opts = merx.util.check_options(opts, "merx.campaign.new",
                                 "name budget per_user kind keep experiment") or {}
  local c = setmetatable({
    name = opts.name or "campaign",
    budget = opts.budget or math.huge,
    per_user = opts.per_user or 1,
    kind = opts.kind or "offer",
    keep = opts.keep or 3,
    experiment = opts.experiment,
    offers = {},
    rules = {},
    caps = { per_segment = nil, contacts = nil },
    value_fn = nil,
    cols = nil,
  }, Campaign)
  assert(type(c.budget) == "number" and c.budget >= 0, "campaign: budget must be a number >= 0")
  assert(math.type(c.per_user) == "integer" and c.per_user >= 1, "campaign: per_user must be an integer >= 1")
  return c
end

--- c:audience(frame): a frame (table of equal-length columns) with a `user`
--- column; every column becomes a field of the row `u` rules see.
function Campaign:audience(frame)
  assert(type(frame) == "table" and type(frame.user) == "table",
         "campaign:audience: expected a frame with a 'user' column")
  local n = #frame.user
  for name, col in pairs(frame) do
    if type(col) == "table" and #col ~= n then
      error(fmt("campaign:audience: column '%s' has %d rows, 'user' has %d", name, #col, n), 2)
    end
  end
  self.cols = frame
  self.n = n
  return self
end

--- c:offer{ id, cost = 0 (or function(u, o) -> cost), margin = 0, stock = nil (unlimited), segments = nil,
---          min_score = nil, where = { column = value | {v1, v2} },
---          min = { column = x }, max = { column = x },
---          eligible = function(u, o) ... end, fields = { record_field = column },
---          data = { your own fields, for your rules: o.data.x } }
function Campaign:offer(o)
  merx.util.check_options(o, "campaign:offer", "id cost margin stock segments min_score where min "
                          .. "max eligible fields data")
  assert(type(o) == "table" and o.id ~= nil, "campaign:offer: needs an id")
  o.id = tostring(o.id)
  o.cost = o.cost or 0
  o.margin = o.margin or 0
  assert((type(o.cost) == "number" and o.cost >= 0) or type(o.cost) == "function",
         "campaign:offer: cost must be a number >= 0 or a function(u, o)")
  if o.segments then
    local set = {}
    for _, s in ipairs(o.segments) do set[s] = true end
    o.segment_set = set
  end
  self.offers[#self.offers + 1] = o
  return self
end

--- c:eligible(fn [, name]): fn(u, o) -> ok [, why]; every rule must pass.
function Campaign:eligible(fn, name)
  assert(type(fn) == "function", "campaign:eligible: expected a function")
  self.rules[#self.rules + 1] = { fn = fn, name = name or ("rule " .. (#self.rules + 1)) }
  return self
end

--- c:eligible_user(fn [, name]): fn(u) -> ok; a rule on the user alone,
--- checked once per user before any offer.
function Campaign:eligible_user(fn, name)
  assert(type(fn) == "function", "campaign:eligible_user: expected a function")
  self.user_rules = self.user_rules or {}
  self.user_rules[#self.user_rules + 1] = { fn = fn, name = name or ("user rule " .. (#self.user_rules + 1)) }
  return self
end

--- c:value(fn): fn(u, o) -> expected value of giving o to u (default
--- u.score * o.margin - o.cost, with u.score = 1 when absent).
function Campaign:value(fn)
  assert(type(fn) == "function", "campaign:value: expected a function")
  self.value_fn = fn
  return self
end

--- c:cap{ per_user, per_segment = {seg = n}, per_offer = {id = n},
---        contacts = { max = n, days = d, kind = "offer" } }
--- contacts counts this user's decisions of that kind in the decision log
--- over the last d days (merx.history) and skips users already at max.
function Campaign:cap(t)
  merx.util.check_options(t, "campaign:cap", "per_user per_segment per_offer contacts")
  merx.util.check_options(type(t) == "table" and t.contacts or nil, "campaign:cap: contacts",
                          "max days kind")
  if t.per_user then self.per_user = t.per_user end
  if t.per_segment then self.caps.per_segment = t.per_segment end
  if t.per_offer then self.caps.per_offer = t.per_offer end
  if t.contacts then self.caps.contacts = t.contacts end
  return self
end

--- c:parity{ column = "age_band", ratio = 0.8, shares = { ["65+"] = { 0.1, 0.5 } } }:
--- fairness constraints on the choice (merx audit measures the same thing):
--- every group of the audience column gets offers at a rate (offers per
--- audience user of the group) at least ratio x every other group's, and
--- each listed group's share of all offers stays within { min, max }. The
--- summary's parity field reports each constraint's dual price, the groups'
--- rates and the value the constraints cost (value_lost).
function Campaign:parity(t)
  merx.util.check_options(t, "campaign:parity", "column ratio shares")
  assert(type(t.column) == "string", "campaign:parity: column (an audience column) is required")
  assert(t.ratio ~= nil or t.shares ~= nil, "campaign:parity: give ratio, shares or both")
  self.parity_opts = t
  return self
end

local function default_value(u, o, cost)
  return (u.score or 1) * o.margin - cost
end

-- The cost of offer o for row u: its number, or its function's result,
-- which must be a finite number >= 0.
local function cost_of(o, u)
  local c = o.cost
  if type(c) ~= "function" then return c end
  c = c(u, o)
  if type(c) ~= "number" or not (c >= 0) or c == math.huge then
    error(fmt("campaign: offer '%s': the cost function returned %s for user %s: costs must be "
              .. "finite numbers >= 0", o.id, tostring(c), tostring(u.user)), 0)
  end
  return c
end


-- ---------------------------------------------------------------- compiler

local function lit(v)
  if type(v) == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v or v == math.huge or v == -math.huge then return nil end
    return fmt("%.17g", v)
  elseif type(v) == "string" then
    return fmt("%q", v)
  elseif type(v) == "boolean" then
    return tostring(v)
  end
  return nil
end

local function ident_ok(name)
  return type(name) == "string" and name:match("^[%a_][%w_]*$") ~= nil
end

-- Generate the evaluation loop for this campaign; nil when it cannot be
-- specialised (too many offers for Lua's local/upvalue limits, odd names).
local function compile(self, names)
  local offers = self.offers
  if #offers > 60 or #names > 100 then return nil end
  for _, n in ipairs(names) do if not ident_ok(n) then return nil end end
  local has = {}
  for _, n in ipairs(names) do has[n] = true end
  local need_row = #self.rules > 0 or self.value_fn ~= nil or (self.user_rules and #self.user_rules > 0)
  for _, o in ipairs(offers) do
    if o.eligible or type(o.cost) == "function" then need_row = true end
  end
  local L = {}
  local function w(...) L[#L + 1] = table.concat({ ... }) end
  w("local cols, offers, rules, urules, value_fn, keep, contacted, cmax, cu, co, cv, cc, cg, crow, coff, cost_of = ...")
  for _, n in ipairs(names) do w("local C_", n, " = cols.", n) end
  for j = 1, #offers do
    w("local O", j, " = offers[", j, "]")
    if offers[j].segment_set then w("local S", j, " = O", j, ".segment_set") end
    if offers[j].eligible then w("local E", j, " = O", j, ".eligible") end
  end
  for r = 1, #self.rules do w("local R", r, " = rules[", r, "].fn") end
  for r = 1, #(self.user_rules or {}) do w("local U", r, " = urules[", r, "].fn") end
  w("return function(n)")
  w("local nc, evaluated, eligible, skipped = 0, 0, 0, 0")
  w("local bv, bo, bc = {}, {}, {}")
  if need_row then w("local u = {}") end
  w("for i = 1, n do")
  w("  local uid = C_user[i]")
  w("  if contacted and (contacted[uid] or 0) >= cmax then skipped = skipped + 1 goto continue end")
  w("  evaluated = evaluated + ", #offers)
  for _, n in ipairs(names) do w("  local f_", n, " = C_", n, "[i]") end
  if need_row then
    for _, n in ipairs(names) do w("  u.", n, " = f_", n) end
  end
  for r = 1, #(self.user_rules or {}) do w("  if not U", r, "(u) then goto continue end") end
  w("  do")
  w("  local nb = 0")
  for j, o in ipairs(offers) do
    local conds = {}
    if o.segment_set then
      if not has.segment then return nil end
      conds[#conds + 1] = fmt("S%d[f_segment]", j)
    end
    if o.min_score then
      if not has.score then conds[#conds + 1] = "false"
      else conds[#conds + 1] = fmt("f_score >= %s", lit(o.min_score)) end
    end
    for field, v in pairs(o.where or {}) do
      if not has[field] then return nil end
      if type(v) == "table" then
        local alts = {}
        for _, x in ipairs(v) do
          local l = lit(x)
          if not l then return nil end
          alts[#alts + 1] = fmt("f_%s == %s", field, l)
        end
        conds[#conds + 1] = "(" .. (#alts > 0 and table.concat(alts, " or ") or "false") .. ")"
      else
        local l = lit(v)
        if not l then return nil end
        conds[#conds + 1] = fmt("f_%s == %s", field, l)
      end
    end
    for field, v in pairs(o.min or {}) do
      if not has[field] or not lit(v) then return nil end
      conds[#conds + 1] = fmt("f_%s >= %s", field, lit(v))
    end
    for field, v in pairs(o.max or {}) do
      if not has[field] or not lit(v) then return nil end
      conds[#conds + 1] = fmt("f_%s <= %s", field, lit(v))
    end
    if o.eligible then conds[#conds + 1] = fmt("E%d(u, O%d)", j, j) end
    for r = 1, #self.rules do conds[#conds + 1] = fmt("R%d(u, O%d)", r, j) end
    local value, cost
    if type(o.cost) == "function" then
      cost = fmt("cost_of(O%d, u)", j)
    else
      cost = lit(o.cost)
      if not cost then return nil end
    end
    if self.value_fn then
      value = fmt("value_fn(u, O%d)", j)
    else
      local m = lit(o.margin)
      if not m then return nil end
      value = has.score and fmt("(f_score or 1) * %s - c", m) or fmt("%s - c", m)
    end
    w("  if ", #conds > 0 and table.concat(conds, " and ") or "true", " then")
    w("    eligible = eligible + 1")
    w("    local c = ", cost)
    w("    local v = ", value)
    w("    if v > 0 and (nb < keep or v > bv[nb]) then")
    w("      if nb < keep then nb = nb + 1 end")
    w("      local p = nb")
    w("      while p > 1 and bv[p - 1] < v do bv[p], bo[p], bc[p] = bv[p - 1], bo[p - 1], bc[p - 1]; p = p - 1 end")
    w("      bv[p], bo[p], bc[p] = v, ", j, ", c")
    w("    end")
    w("  end")
  end
  w("  local seg = ", has.segment and 'f_segment or "all"' or '"all"')
  w("  for p = 1, nb do")
  w("    nc = nc + 1")
  w("    local o = offers[bo[p]]")
  w("    cu[nc], co[nc], cv[nc], cc[nc], cg[nc], crow[nc], coff[nc] = uid, o.id, bv[p], bc[p], seg, i, bo[p]")
  w("  end")
  w("  end")
  w("  ::continue::")
  w("end")
  w("return nc, evaluated, eligible, skipped")
  w("end")
  local src = table.concat(L, "\n")
  local chunk, err = load(src, "=campaign (compiled)")
  if not chunk then error("campaign: internal compile error: " .. err) end
  return chunk, src
end

--- c:run() -> summary { users, evaluated, eligible, decisions, spend, value, by_offer, by_segment,
---                      control, held_spend }: with an experiment, decisions, spend, value
---                      and the counts are of delivered offers; control counts the users
---                      held out and held_spend the cost of their would-have-been offers
function Campaign:run()
  assert(self.cols, "campaign:run: no audience (call c:audience(frame) first)")
  assert(#self.offers > 0, "campaign:run: no offers (call c:offer{...} first)")
  local cols, offers, rules = self.cols, self.offers, self.rules
  local nrules, noffers, keep = #rules, #self.offers, self.keep
  local value_fn = self.value_fn
  local names = {}
  for name, col in pairs(cols) do
    if type(col) == "table" then names[#names + 1] = name end
  end
  table.sort(names)
  local ncols = #names
  local colv = {}
  for k = 1, ncols do colv[k] = cols[names[k]] end
  local users = cols.user

  -- frequency caps from the decision log
  local contacted, cmax = nil, nil
  if self.caps.contacts then
    local cc = self.caps.contacts
    cmax = cc.max or 1
    contacted = merx.history(cc.kind or self.kind, cc.days or 30)
  end

  -- candidate arrays for the bulk selection
  local cu, co, cv, cc, cg = {}, {}, {}, {}, {}
  local crow, coff = {}, {}
  local nc, evaluated, eligible = 0, 0, 0
  local skipped_contacts = 0
  local chunk = compile(self, names)
  if chunk then
    local loop = chunk(cols, offers, rules, self.user_rules or {}, self.value_fn, keep, contacted,
                       cmax, cu, co, cv, cc, cg, crow, coff, cost_of)
    nc, evaluated, eligible, skipped_contacts = loop(self.n)
  else
    -- the same loop, interpreted (more than 60 offers, or column names that
    -- are not Lua identifiers)
    local u = {}
    local best_v, best_o, best_c = {}, {}, {}
    for i = 1, self.n do
      for k = 1, ncols do u[names[k]] = colv[k][i] end
      local uid = users[i]
      if contacted and (contacted[uid] or 0) >= cmax then
        skipped_contacts = skipped_contacts + 1
        goto next_user
      end
      for r = 1, #(self.user_rules or {}) do
        if not self.user_rules[r].fn(u) then
          evaluated = evaluated + noffers
          goto next_user
        end
      end
      do
        local nb = 0
        for j = 1, noffers do
          local o = offers[j]
          evaluated = evaluated + 1
          if o.segment_set and not o.segment_set[u.segment] then goto next_offer end
          if o.min_score and (u.score or 0) < o.min_score then goto next_offer end
          if o.eligible and not o.eligible(u, o) then goto next_offer end
          for field, v in pairs(o.where or {}) do
            if type(v) == "table" then
              local any = false
              for _, x in ipairs(v) do if u[field] == x then any = true end end
              if not any then goto next_offer end
            elseif u[field] ~= v then
              goto next_offer
            end
          end
          for field, v in pairs(o.min or {}) do if not (u[field] >= v) then goto next_offer end end
          for field, v in pairs(o.max or {}) do if not (u[field] <= v) then goto next_offer end end
          for r = 1, nrules do
            if not rules[r].fn(u, o) then goto next_offer end
          end
          do
            eligible = eligible + 1
            local cost = cost_of(o, u)
            local v
            if value_fn then v = value_fn(u, o) else v = default_value(u, o, cost) end
            if v > 0 then
              -- keep the best `keep` offers of this user (insertion into a tiny sorted list)
              if nb < keep then
                nb = nb + 1
              elseif v <= best_v[nb] then
                goto next_offer
              end
              local p = nb
              while p > 1 and best_v[p - 1] < v do
                best_v[p], best_o[p], best_c[p] = best_v[p - 1], best_o[p - 1], best_c[p - 1]
                p = p - 1
              end
              best_v[p], best_o[p], best_c[p] = v, j, cost
            end
          end
          ::next_offer::
        end
        local seg = u.segment or "all"
        for p = 1, nb do
          nc = nc + 1
          local j = best_o[p]
          cu[nc], co[nc], cv[nc], cc[nc], cg[nc] = uid, offers[j].id, best_v[p], best_c[p], seg
          crow[nc], coff[nc] = i, j
        end
      end
      ::next_user::
    end

  end

  -- the selection in C, on dense integer ids (row, offer index, segment index)
  local caps, index_of = {}, {}
  for j, o in ipairs(offers) do
    index_of[o.id] = j
    if o.stock then caps[j] = floor(o.stock) end
  end
  if self.caps.per_offer then
    for id, n in pairs(self.caps.per_offer) do
      local j = index_of[tostring(id)]
      if j then caps[j] = math.min(caps[j] or math.huge, n) end
    end
  end
  local seg_ids, seg_names, gid = {}, {}, {}
  for k = 1, nc do
    local s = cg[k]
    local id = seg_ids[s]
    if not id then
      id = #seg_names + 1
      seg_ids[s], seg_names[id] = id, s
    end
    gid[k] = id
  end
  local gcaps
  if self.caps.per_segment then
    gcaps = {}
    for s, n in pairs(self.caps.per_segment) do
      if seg_ids[s] then gcaps[seg_ids[s]] = n end
    end
  end
  local offer_names = {}
  for j, o in ipairs(offers) do offer_names[j] = o.id end
  local par, pgrp, pusers = self.parity_opts, nil, nil
  if par then
    local col = cols[par.column]
    assert(type(col) == "table", "campaign:parity: no audience column '" .. tostring(par.column) .. "'")
    pgrp, pusers = {}, {}
    for k = 1, nc do pgrp[k] = tostring(col[crow[k]]) end
    for i = 1, self.n do
      local g = tostring(col[i])
      pusers[g] = (pusers[g] or 0) + 1
    end
  end
  local chosen, spend, left, cert = select_c(
    { user = crow, offer = coff, value = cv, cost = cc, group = gid, parity_group = pgrp },
    { budget = self.budget, per_user = self.per_user, caps = caps, group_caps = gcaps,
      offer_names = offer_names, group_names = seg_names, user_names = cols.user,
      parity = par and par.ratio, group_shares = par and par.shares, parity_users = pusers })

  local by_offer, by_segment = {}, {}
  local rule_names = {}
  for _, r in ipairs(self.user_rules or {}) do rule_names[#rule_names + 1] = r.name end
  for r = 1, nrules do rule_names[#rule_names + 1] = rules[r].name end
  local rules_text = #rule_names > 0 and ("; passed " .. table.concat(rule_names, ", ")) or ""
  local kind = self.kind
  local total = 0
  local exp = self.experiment
  local strata = exp and exp.stratify and cols[exp.stratify]
  local held, held_spend = 0, 0
  for k = 1, #chosen do
    local c = chosen[k]
    local i, o = crow[c], offers[coff[c]]
    local seg = cg[c]
    total = total + cv[c]
    local rec = { user = cu[c], offer = o.id, value = cv[c], cost = cc[c],
                  segment = seg, campaign = self.name }
    if o.fields then
      for f, col in pairs(o.fields) do rec[f] = cols[col] and cols[col][i] end
    end
    if cols.item then rec.item = cols.item[i] end
    local score = cols.score and cols.score[i]
    rec.score = tonumber(score) -- the predicted score behind the value (merx audit reads it)
    local value_text
    if self.value_fn then
      value_text = fmt("value %.2f by the campaign's value rule", cv[c])
    else
      value_text = fmt("value %.2f = %s%.2f margin - %.2f cost", cv[c],
                       score and fmt("%.3f score x ", score) or "", o.margin, cc[c])
    end
    rec.reason = fmt("%s: segment %s%s; %s, best eligible offer%s; budget left %.2f of %.2f",
                     self.name, seg, score and fmt(", score %.3f", score) or "", value_text,
                     rules_text, left[k], self.budget)
    if exp and exp:emit(kind, rec, strata and strata[i]) == exp.control then
      held, held_spend, total = held + 1, held_spend + cc[c], total - cv[c]
    else
      if not exp then merx.emit(kind, rec) end
      by_offer[o.id] = (by_offer[o.id] or 0) + 1
      by_segment[seg] = (by_segment[seg] or 0) + 1
    end
  end
  return {
    users = self.n, evaluated = evaluated, eligible = eligible, candidates = nc,
    decisions = #chosen - held, spend = spend - held_spend, value = total, by_offer = by_offer,
    by_segment = by_segment, skipped_contacts = skipped_contacts,
    control = held, held_spend = held_spend, -- control users' would-have-been offers
    parity = cert and cert.parity, -- with c:parity: prices, group rates, value_lost
  }
end

return M
