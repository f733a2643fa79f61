-- Sliding window: drop hits at or before now - window; the over-limit attempt is not counted.
-- key: rate:<key>; now and window in µs; member: unique per hit; ttl: GC ttl (ms).
-- Answers the wait in µs, or -1 when the hit was counted.
local function hit(key, now_text, window_text, limit_text, member, ttl)
  local now, window, limit = tonumber(now_text), tonumber(window_text), tonumber(limit_text)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
    if not oldest then return window end
    return tonumber(oldest) + window - now
  end
  redis.call('ZADD', key, now_text, member)
  redis.call('PEXPIRE', key, ttl)
  return -1
end
