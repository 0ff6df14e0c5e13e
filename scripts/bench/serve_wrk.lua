-- wrk script for scripts/bench/serve.sh: POST /v1/recommend for random users
-- "u0".."u(USERS-1)" (the synthetic model's ids), k = 10, optional bearer
-- token; at the end prints the percentiles wrk --latency leaves out and the
-- count of non-2xx answers and socket errors.
local users = tonumber(os.getenv("SERVE_USERS") or "100000")
local token = os.getenv("SERVE_TOKEN")
local headers = { ["Content-Type"] = "application/json" }
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
local counter = 0

setup = function(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

init = function(args)
  math.randomseed(seed * 7919 + os.time())
end

request = function()
  local body = string.format('{"user":"u%d","k":10}', math.random(0, users - 1))
  return wrk.format("POST", "/v1/recommend", headers, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("requests %d\n", summary.requests))
  io.write(string.format("seconds %.3f\n", summary.duration / 1e6))
  io.write(string.format("rps %.1f\n", summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("p%s_ms %.3f\n", tostring(p), latency:percentile(p) / 1000))
  end
  io.write(string.format("non2xx %d\n", e.status))
  io.write(string.format("socket_errors %d\n", e.connect + e.read + e.write + e.timeout))
end
