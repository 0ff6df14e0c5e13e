-- merx.llm / merx.http as a script sees them under `merx run`, with no server
-- configured (the built-in embedder answers; chat and webhooks refuse clearly).
local function check(cond, what) if not cond then error("check failed: " .. what, 2) end end
local function fails(f, pattern, what)
  local ok, err = pcall(f)
  check(not ok, what .. " should fail")
  check(tostring(err):find(pattern, 1, true), what .. ": unexpected error: " .. tostring(err))
end
local function dot(a, b) local s = 0 for i = 1, #a do s = s + a[i] * b[i] end return s end

local v = merx.llm.embed({"red metal lantern", "White Metal Lantern", "jumbo bag red retrospot"})
check(#v == 3 and #v[1] == 256, "three 256-d vectors")
check(math.abs(dot(v[1], v[1]) - 1) < 1e-5, "unit length")
check(dot(v[1], v[2]) > dot(v[1], v[3]), "lanterns are closer to each other than to a bag")
check(#merx.llm.embed({"x"}, {dim = 32})[1] == 32, "dim option")
check(#merx.llm.embed({}) == 0, "empty input, empty output")
fails(function() merx.llm.embed({"a", {}}) end, "element 2 is a table", "non-string text")
fails(function() merx.llm.chat{messages = "hello"} end, "no chat model configured", "chat without a server")
fails(function() merx.http.post_json("https://hooks.example.com/x", {a = 1}) end,
      "'hooks.example.com' is not in the run's allow_hosts", "webhook to an unlisted host")
fails(function() merx.http.post_json("ftp://hooks.example.com/x", "{}") end,
      "not an http(s) URL", "non-http webhook")
