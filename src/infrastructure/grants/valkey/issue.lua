-- Start a session's token family. KEYS: session, refresh:<hash>, user:<uid>:sessions.
local session, refresh, sessions = KEYS[1], KEYS[2], KEYS[3]
local sid, uid, hash, idle, absolute, ttl, prefix, role = unpack(ARGV)
-- forget ids whose session key was already collected, so the set stays small
for _, other in ipairs(redis.call('SMEMBERS', sessions)) do
  if redis.call('EXISTS', prefix .. 'session:' .. other) == 0 then
    redis.call('SREM', sessions, other)
  end
end
redis.call('DEL', session)
redis.call('HSET', session, 'user_id', uid, 'current', hash,
  'idle_expires_at', idle, 'absolute_expires_at', absolute, 'role', role)
redis.call('PEXPIRE', session, ttl)
redis.call('SET', refresh, sid, 'PX', ttl)
redis.call('SADD', sessions, sid)
if redis.call('PTTL', sessions) < tonumber(ttl) then redis.call('PEXPIRE', sessions, ttl) end
return 1
