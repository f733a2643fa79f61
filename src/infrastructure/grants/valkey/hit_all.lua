-- Count hits in order in one step, stopping at the first over its limit (hit.lua in front).
-- KEYS: rate:<key> per hit. ARGV: now (µs), then per hit: window (µs), limit, member, ttl.
-- Answers {position of the refused hit (1-based), wait (µs)}, or {0, -1}: all counted.
for i, key in ipairs(KEYS) do
  local at = 1 + (i - 1) * 4
  local wait = hit(key, ARGV[1], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4])
  if wait >= 0 then return {i, wait} end
end
return {0, -1}
