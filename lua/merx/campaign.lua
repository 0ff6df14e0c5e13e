-- merx.campaign: a small DSL for marketing campaigns.
--
--   local c = merx.campaign.new{ name = "spring", budget = 500, per_user = 1 }
--   c:audience(frame)                     -- columns: user (required), any others
--   c:offer{ id = "SPRING10", cost = 2, margin = 9, stock = 300,
--            segments = {"loyal", "champions"}, min_score = 0.2 }
--   c:eligible(function(u, o) return u.recency <= 90, "bought in the last 90 days" end)
--   c:value(function(u, o) return u.score * o.margin - o.cost end)   -- the default
--   c:cap{ per_user = 1, per_segment = { champions = 100 }, contacts = { max = 2, days = 30 } }
--   local summary = c:run()               -- emits one "offer" decision per chosen pair
--
-- How it runs (the "compile" step): the audience columns are walked once per
-- user with a single reused row table; each offer's declarative conditions
-- (segments, min_score, custom predicates) are checked in order, the value of
-- each eligible pair is computed, and only the best `keep` pairs per user are
-- kept. The choice under budget, stock (per-offer caps), per-segment caps and
-- the per-user limit is then made in one bulk C call (merx.util.select:
-- greedy by value), and each chosen pair is emitted with a reason that says
-- which rules passed, the value arithmetic and the budget left.
local merx = ...
local select_c, fmt, floor = merx.util.select, string.format, math.floor

local Campaign = {}
Campaign.__index = Campaign

local M = {}

--- merx.campaign.new{ name, budget = inf, per_user = 1, kind = "offer", keep = 3 }
function M.new(opts)
  opts = opts or {}
  local c = setmetatable({
    name = opts.name or "campaign",
    budget = opts.budget or math.huge,
    per_user = opts.per_user or 1,
    kind = opts.kind or "offer",
    keep = opts.keep or 3,
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

--- c:offer{ id, cost = 0, margin = 0, stock = nil (unlimited), segments = nil,
---          min_score = nil, eligible = function(u, o) ... end, ...any fields }
function Campaign:offer(o)
  assert(type(o) == "table" and o.id ~= nil, "campaign:offer: needs an id")
  o.id = tostring(o.id)
  o.cost = o.cost or 0
  o.margin = o.margin or 0
  assert(type(o.cost) == "number" and o.cost >= 0, "campaign:offer: cost must be a number >= 0")
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
  if t.per_user then self.per_user = t.per_user end
  if t.per_segment then self.caps.per_segment = t.per_segment end
  if t.per_offer then self.caps.per_offer = t.per_offer end
  if t.contacts then self.caps.contacts = t.contacts end
  return self
end

local function default_value(u, o)
  return (u.score or 1) * o.margin - o.cost
end

--- c:run() -> summary { users, evaluated, eligible, decisions, spend, by_offer, by_segment }
function Campaign:run()
  assert(self.cols, "campaign:run: no audience (call c:audience(frame) first)")
  assert(#self.offers > 0, "campaign:run: no offers (call c:offer{...} first)")
  local cols, offers, rules = self.cols, self.offers, self.rules
  local nrules, noffers, keep = #rules, #self.offers, self.keep
  local value_fn = self.value_fn or default_value
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
  local u = {}
  local best_v, best_o = {}, {}
  for i = 1, self.n do
    for k = 1, ncols do u[names[k]] = colv[k][i] end
    local uid = users[i]
    if contacted and (contacted[uid] or 0) >= cmax then
      skipped_contacts = skipped_contacts + 1
      goto next_user
    end
    do
      local nb = 0
      for j = 1, noffers do
        local o = offers[j]
        evaluated = evaluated + 1
        if o.segment_set and not o.segment_set[u.segment] then goto next_offer end
        if o.min_score and (u.score or 0) < o.min_score then goto next_offer end
        if o.eligible and not o.eligible(u, o) then goto next_offer end
        for r = 1, nrules do
          if not rules[r].fn(u, o) then goto next_offer end
        end
        do
          eligible = eligible + 1
          local v = value_fn(u, o)
          if v > 0 then
            -- keep the best `keep` offers of this user (insertion into a tiny sorted list)
            if nb < keep then
              nb = nb + 1
            elseif v <= best_v[nb] then
              goto next_offer
            end
            local p = nb
            while p > 1 and best_v[p - 1] < v do
              best_v[p], best_o[p] = best_v[p - 1], best_o[p - 1]
              p = p - 1
            end
            best_v[p], best_o[p] = v, j
          end
        end
        ::next_offer::
      end
      local seg = u.segment or "all"
      for p = 1, nb do
        nc = nc + 1
        local j = best_o[p]
        cu[nc], co[nc], cv[nc], cc[nc], cg[nc] = uid, offers[j].id, best_v[p], offers[j].cost, seg
        crow[nc], coff[nc] = i, j
      end
    end
    ::next_user::
  end

  local caps = {}
  for _, o in ipairs(offers) do
    if o.stock then caps[o.id] = floor(o.stock) end
  end
  if self.caps.per_offer then
    for id, n in pairs(self.caps.per_offer) do
      caps[id] = math.min(caps[id] or math.huge, n)
    end
  end
  local chosen, spend, left = select_c(
    { user = cu, offer = co, value = cv, cost = cc, group = cg },
    { budget = self.budget, per_user = self.per_user, caps = caps,
      group_caps = self.caps.per_segment })

  local by_offer, by_segment = {}, {}
  local rule_names = {}
  for r = 1, nrules do rule_names[r] = rules[r].name end
  local rules_text = nrules > 0 and ("; passed " .. table.concat(rule_names, ", ")) or ""
  local kind = self.kind
  for k = 1, #chosen do
    local c = chosen[k]
    local i, o = crow[c], offers[coff[c]]
    local seg = cg[c]
    local rec = { user = cu[c], offer = o.id, value = cv[c], cost = o.cost,
                  segment = seg, campaign = self.name }
    if o.fields then
      for f, col in pairs(o.fields) do rec[f] = cols[col] and cols[col][i] end
    end
    if cols.item then rec.item = cols.item[i] end
    local score = cols.score and cols.score[i]
    local value_text
    if self.value_fn then
      value_text = fmt("value %.2f by the campaign's value rule", cv[c])
    else
      value_text = fmt("value %.2f = %s%.2f margin - %.2f cost", cv[c],
                       score and fmt("%.3f score x ", score) or "", o.margin, o.cost)
    end
    rec.reason = fmt("%s: segment %s%s; %s, best eligible offer%s; budget left %.2f of %.2f",
                     self.name, seg, score and fmt(", score %.3f", score) or "", value_text,
                     rules_text, left[k], self.budget)
    merx.emit(kind, rec)
    by_offer[o.id] = (by_offer[o.id] or 0) + 1
    by_segment[seg] = (by_segment[seg] or 0) + 1
  end
  return {
    users = self.n, evaluated = evaluated, eligible = eligible, candidates = nc,
    decisions = #chosen, spend = spend, by_offer = by_offer, by_segment = by_segment,
    skipped_contacts = skipped_contacts,
  }
end

return M
