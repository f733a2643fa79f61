-- Sliding window: drop hits at or before now - window; the over-limit attempt is not counted.
-- KEYS: rate:<key>. ARGV: now, window (µs), limit, member, GC ttl (ms).
-- Answers the wait in µs, or -1 when the hit was counted.
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
  if not oldest then return window end
  return tonumber(oldest) + window - now
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return -1
