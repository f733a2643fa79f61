-- The live session a token of any generation belongs to. KEYS: refresh:<hash>.
-- ARGV: prefix, now (µs).
local sid = redis.call('GET', KEYS[1])
if not sid then return false end
local f = redis.call('HMGET', ARGV[1] .. 'session:' .. sid,
  'idle_expires_at', 'absolute_expires_at', 'user_id')
local now = tonumber(ARGV[2])
if not f[1] or tonumber(f[1]) <= now or tonumber(f[2]) <= now then return false end
return {sid, f[3]}
