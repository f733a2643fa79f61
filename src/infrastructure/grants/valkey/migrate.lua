-- Shared head of the scripts that touch a family (loaded in front of each).
-- A family written before the compact layout lives at session:<sid> with long field names
-- and hex hashes. migrate(key, old) rewrites it at key in the compact form (u, c, p, r, i,
-- a, o; binary hashes; no g: its tokens are of unknown generation, so it counts as 0) with the TTL it had, and deletes it: families move on first touch.
-- Its old per-user set entry and token index keys are left to expire with their TTLs.
local function unhex(hex)
  return (string.gsub(hex, '..', function(pair) return string.char(tonumber(pair, 16)) end))
end
local function migrate(key, old)
  if redis.call('EXISTS', key) == 1 or redis.call('EXISTS', old) == 0 then return end
  local f = redis.call('HMGET', old, 'user_id', 'current', 'previous', 'rotated_at',
    'idle_expires_at', 'absolute_expires_at', 'role')
  if f[1] and f[2] and f[5] and f[6] then
    local fields = {'u', f[1], 'c', unhex(f[2]), 'i', f[5], 'a', f[6], 'o', f[7] or ''}
    if f[3] then table.insert(fields, 'p'); table.insert(fields, unhex(f[3])) end
    if f[4] then table.insert(fields, 'r'); table.insert(fields, f[4]) end
    redis.call('HSET', key, unpack(fields))
    local ttl = redis.call('PTTL', old)
    if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
  end
  redis.call('DEL', old)
end
