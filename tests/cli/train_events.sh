# Event data (view / cart / purchase rows): without --algo merx trains an
# implicit model and says which; event weights in Lua train the same model as
# the CLI's --event-weights.
# a small event log: users browse items of their taste group; carts and purchases are rarer
awk 'BEGIN { srand(11); print "user,item,event";
  for (u = 0; u < 120; u++) { g = u % 3;
    for (q = 0; q < 12; q++) { i = g * 20 + int(rand() * 20); r = rand();
      e = r < 0.6 ? "view" : (r < 0.85 ? "cart" : "purchase");
      printf "u%d,i%d,%s\n", u, i, e } }
  for (q = 0; q < 200; q++) printf "u%d,i%d,view\n", int(rand() * 120), int(rand() * 60) }' > events.csv
EV="user=user,item=item,event=event"

# #15.8: an event column and no --algo -> ials, on stderr and in --json
expect_exit 0 "$MERX" train --data events.csv --columns "$EV" --factors 8 --epochs 5 --threads 1 --out ev.mxm --json
expect_contains out.txt '"algo":"ials"'
expect_contains err.txt "no --algo given: ials"
expect_exit 0 "$MERX" train --data events.csv --columns "$EV" --factors 8 --epochs 5 --threads 1 --out ev.mxm
expect_contains out.txt "trained ials"
# the scores of a user are not all tied
expect_exit 0 "$MERX" recommend --model ev.mxm --user u1 --k 5 --out rec.csv
test "$(tail -n +2 rec.csv | cut -d, -f4 | sort -u | wc -l)" -eq 5 || { echo "FAIL: tied scores"; cat rec.csv; exit 1; }
# a value column without events trains explicit bpmf (and says so)
awk -F, 'NR == 1 { print "user,item,rating"; next } { print $1 "," $2 "," (NR % 5 + 1) }' events.csv > ratings.csv
expect_exit 0 "$MERX" train --data ratings.csv --columns user=user,item=item,value=rating --epochs 2 --out r.mxm --json
expect_contains out.txt '"algo":"bpmf"'
expect_contains err.txt "no --algo given: bpmf"
# an explicit --algo is taken as given, without the note
expect_exit 0 "$MERX" train --data events.csv --columns "$EV" --algo bpr --factors 4 --epochs 1 --out b.mxm --json
expect_contains out.txt '"algo":"bpr"'
if grep -q "no --algo" err.txt; then echo "FAIL: note printed with --algo"; exit 1; fi
# an event without a weight is bad input, named by file, line and field
expect_exit 1 "$MERX" train --data events.csv --columns "$EV" --event-weights view=1,cart=2 --out bad.mxm
expect_contains err.txt "field 'event': unknown event type 'purchase' (weights are given for: view, cart)"
grep -q "events.csv:[0-9]*:3: " err.txt || { echo "FAIL: no file:line:column"; cat err.txt; exit 1; }
test ! -e bad.mxm

# event_weights in Lua, table or string form, train the model the CLI trains
# with --event-weights (same parser, same data, same seed, one thread)
expect_exit 0 "$MERX" train --data events.csv --columns "$EV" --algo ials --factors 8 --epochs 5 --threads 1 --out cli_default.mxm
expect_exit 0 "$MERX" train --data events.csv --columns "$EV" --event-weights view=1,cart=2,purchase=30 --algo ials --factors 8 --epochs 5 --threads 1 --out cli_w.mxm
cat > ev.lua <<'LUA'
local t = merx.data.read("events.csv")
local base = { factors = 8, epochs = 5, threads = 1 }
local function train(extra)
  local o = {}
  for k, v in pairs(base) do o[k] = v end
  for k, v in pairs(extra) do o[k] = v end
  return merx.model.train(t, o)
end
local users, items = { "u1", "u2", "u50", "u119" }, {}
for i = 0, 59 do items[#items + 1] = "i" .. i end
local function max_diff(a, b)
  local x, y = a:score(users, items), b:score(users, items)
  local d = 0
  for r = 1, #users do for c = 1, #items do d = math.max(d, math.abs(x:get(r, c) - y:get(r, c))) end end
  return d
end
local cli_default, cli_w = merx.model.load("cli_default.mxm"), merx.model.load("cli_w.mxm")
local default = train({})                       -- the event column, default weights
assert(default:info().kind == "ials", "event data trains ials without algo")
assert(max_diff(default, cli_default) < 1e-5, "default event weights differ from the CLI's")
local tbl = train({ event_weights = { view = 1, cart = 2, purchase = 30 } })
assert(max_diff(tbl, cli_w) < 1e-5, "table event_weights differ from --event-weights")
local str = train({ event_weights = "view=1,cart=2,purchase=30" })
assert(max_diff(str, cli_w) < 1e-5, "string event_weights differ from --event-weights")
assert(max_diff(tbl, default) > 1e-3, "event_weights do not change the model")
-- errors name the function and the problem
local ok, err = pcall(train, { event_weights = { view = 1, cart = 4 } })
assert(not ok and err:find("unknown event type 'purchase'", 1, true), err)
ok, err = pcall(train, { event_weights = "view=1,cart" })
assert(not ok and err:find("expected EVENT=WEIGHT", 1, true), err)
ok, err = pcall(train, { event_weights = { view = -1 } })
assert(not ok and err:find("must be a number >= 0", 1, true), err)
ok, err = pcall(merx.model.train, { user = t.user, item = t.item }, { event_weights = "view=1" })
assert(not ok and err:find("no 'event' column", 1, true), err)
print("ok")
LUA
expect_exit 0 "$MERX" run ev.lua
expect_contains out.txt "ok"
