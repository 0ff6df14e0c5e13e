-- Pattern-matching workload for scripts/bench/patterns.sh: gmatch captures,
-- gsub with a string and a lazy pattern, a plain find, on a 5 MB subject.
-- Prints CPU seconds of the matching (merx.clock in merx run, os.clock in a
-- stock lua5.4) and a checksum that must agree between the two.
local cpu = merx and function() return merx.clock("cpu") end or os.clock
local s = string.rep("hello world 123 foo=bar; ", 200000)
local t0, n = cpu(), 0
for _ = 1, 3 do
  for _ in s:gmatch("(%w+)=(%w+)") do n = n + 1 end
  n = n + select(2, s:gsub("%d+", "N"))
  n = n + select(2, s:gsub("o.-r", ""))
  n = n + (s:find("zzz", 1, true) or 0)
end
print(string.format("%.3f %d", cpu() - t0, n))
