-- The live session of a legacy token, once its session id was read from the old index.
-- KEYS: family, denylist, legacy family. ARGV: now (µs). migrate.lua is loaded in front.
-- Answers the user id, or false.
migrate(KEYS[1], KEYS[3])
local f = redis.call('HMGET', KEYS[1], 'u', 'i', 'a')
local now = tonumber(ARGV[1])
if not f[1] or tonumber(f[2]) <= now or tonumber(f[3]) <= now then return false end
return f[1]
