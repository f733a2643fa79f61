-- A re-authentication: the family carries the new proof from now on. KEYS: the family.
-- ARGV: auth_time (µs), amr (space-separated). Answers 1, or 0 when the session has no family.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 't', ARGV[1], 'm', ARGV[2])
return 1
