-- merx.model on a tiny purchase table: train, recommend, score, similar,
-- fold_in, explain, and the object life cycle.
local function check(cond, what) if not cond then error("check failed: " .. what, 2) end end
local t = {
  user = { "a", "a", "a", "b", "b", "c", "c", "d", "d", "d", "e" },
  item = { "x", "y", "z", "x", "y", "y", "z", "x", "z", "w", "w" },
}
local m = merx.model.train(t, { algo = "ials", factors = 4, epochs = 10, seed = 7, reg = 0.1 })
local info = m:info()
check(info.kind == "ials" and info.users == 5 and info.items == 4 and info.factors == 4, "info")
check(tostring(m):find("merx.model (ials, 5 users, 4 items)", 1, true), tostring(m))

local items, scores = m:recommend({ "a", "b", "nobody" }, 2)
check(#items == 3 and #scores == 3, "one list per user")
check(#items[1] == 1 and items[1][1] == "w", "a has seen x, y, z: only w is left")
check(#items[2] == 2, "b gets two unseen items")
for _, it in ipairs(items[2]) do check(it == "z" or it == "w", "b's recommendations are unseen") end
check(scores[2][1] >= scores[2][2], "best first")
check(#items[3] == 0, "unknown users get an empty list")
local with_seen = m:recommend({ "a" }, 4, { exclude_seen = false })
check(#with_seen[1] == 4, "exclude_seen = false")
local only = m:recommend({ "b" }, 5, { candidates = { "w" } })
check(#only[1] == 1 and only[1][1] == "w", "candidates restrict the items")

local mat <close> = m:score({ "a", "b" }, { "x", "y", "w" })
local r, c = mat:shape()
check(r == 2 and c == 3 and #mat == 2, "matrix shape")
check(math.abs(mat:get(2, 3) - scores[2][1]) < 1e-5 or math.abs(mat:get(2, 3) - scores[2][2]) < 1e-5,
      "score matrix agrees with recommend")
local arg = mat:argmax()
check(#arg == 2, "argmax per row")
check(#mat:row(1) == 3, "row")
local ok, err = pcall(m.score, m, { "zz" }, { "x" })
check(not ok and err:find("unknown user 'zz'", 1, true), tostring(err))

local sim = m:similar({ "x", "nothing" }, 2)
check(#sim[1] == 2 and sim[1][1] ~= "x" and #sim[2] == 0, "similar items exclude the query")
local f = m:fold_in({ "x", "y", "unknown" }, { k = 2 })
check(#f >= 1 and f[1] ~= "x" and f[1] ~= "y", "fold_in excludes the history")
local why = m:explain({ "b" }, { items[2][1] }, 2)
check(#why == 1 and #why[1] >= 1 and (why[1][1].item == "x" or why[1][1].item == "y"),
      "explanations name the user's own items")

-- life cycle: closed models and matrices refuse work with a clear error
mat:close()
ok, err = pcall(mat.get, mat, 1, 1)
check(not ok and err:find("matrix is closed", 1, true), tostring(err))
m:close()
ok, err = pcall(m.recommend, m, { "a" }, 1)
check(not ok and err:find("model is closed", 1, true), tostring(err))
do
  local m2 <close> = merx.model.train(t, { algo = "bpr", factors = 4, epochs = 5, seed = 1 })
  check(m2:info().kind == "bpr", "bpr")
  closed = m2
end
ok, err = pcall(closed.info, closed)
check(not ok and err:find("model is closed", 1, true), "<close> closes the model")
ok, err = pcall(merx.model.load, "data/orders.csv")
check(not ok and err:find("orders.csv", 1, true), "a non-model file is refused: " .. tostring(err))
print("model ok")

-- No algo: the same default as `merx train` — bpmf when a value column is
-- selected and there is no event column, else ials.
local rated = { user = { "a", "a", "b", "b", "c", "c" }, item = { "x", "y", "x", "z", "y", "z" },
                stars = { 5, 3, 4, 1, 2, 5 } }
local mr = merx.model.train(rated, { value = "stars", factors = 2, seed = 1 })
check(mr:info().kind == "bpmf", "ratings default to bpmf, got " .. mr:info().kind)
check(merx.model.train(t, { factors = 2, epochs = 2, seed = 1 }):info().kind == "ials",
      "no value column: ials")
