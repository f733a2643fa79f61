-- A re-authentication: the family carries the new proof from now on. KEYS: the family.
-- ARGV: auth_time (µs), amr (space-separated). Answers 1, or 0 when the session has no family
-- or one past its idle (i) or absolute (a) expiry at auth_time: a proof extends no lifetime.
local f = redis.call('HMGET', KEYS[1], 'i', 'a')
if not f[1] then return 0 end
local now = tonumber(ARGV[1])
if tonumber(f[1]) <= now or tonumber(f[2]) <= now then return 0 end
redis.call('HSET', KEYS[1], 't', ARGV[1], 'm', ARGV[2])
return 1
