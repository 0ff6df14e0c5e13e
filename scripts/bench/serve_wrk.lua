-- wrk script for scripts/bench/serve.sh: POST /v1/recommend for random users
-- "u0".."u(USERS-1)" (the synthetic model's ids), k = 10, optional bearer
-- token; at the end prints the percentiles wrk --latency leaves out and the
-- count of non-2xx answers and socket errors.
-- SERVE_RATE (requests/s over all wrk threads; unset: closed loop, as fast
-- as the connections go): pace the requests to that offered rate. Each
-- thread keeps a schedule (one slot every threads/rate seconds) and delays a
-- request until its slot, so latency is measured at a fixed offered load
-- rather than at saturation. Slots a busy connection misses are sent late
-- (wrk times from the send: a saturated server shows as an achieved rate
-- below the offered one, so compare the two).
local users = tonumber(os.getenv("SERVE_USERS") or "100000")
local token = os.getenv("SERVE_TOKEN")
local headers = { ["Content-Type"] = "application/json" }
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
local counter = 0
local rate = tonumber(os.getenv("SERVE_RATE") or "")
local nthreads = tonumber(os.getenv("SERVE_WRK_THREADS") or "2")
local ffi = rate and require("ffi")
if ffi then
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } mx_timespec;
    int clock_gettime(int clk, mx_timespec *ts);
  ]]
end
local ts = ffi and ffi.new("mx_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local next_slot, interval

setup = function(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

init = function(args)
  math.randomseed(seed * 7919 + os.time())
  if rate then
    interval = 1000 * nthreads / rate
    next_slot = now_ms() + interval * (seed - 1) / nthreads
  end
end

if rate then
  delay = function()
    local t = now_ms()
    local d = next_slot - t
    next_slot = math.max(next_slot, t - 50 * interval) + interval -- a backlog of at most 50 slots
    if d < 0 then return 0 end
    return math.floor(d)
  end
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
