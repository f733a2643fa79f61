-- RFC 9700 §4.14.2: rotation with reuse detection; a replayed old token revokes the family.
-- The same rule as domain/rotation.py (rotate_family), restated here so it runs in one
-- atomic step; the contract and property tests hold the two to each other.
-- KEYS: refresh:<presented>, refresh:<successor>, and rate:<key> when a limit is counted.
-- ARGV: prefix, presented, successor, now, now + idle ttl, grace, deny_until (times in µs),
-- GC slack (ms); with a limit: window (µs), limit, hit member, rate GC ttl (ms).
-- hit.lua is loaded in front: rate limit and rotation are one round trip.
local prefix, presented, successor = ARGV[1], ARGV[2], ARGV[3]
local now, idle_candidate, grace = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local deny_until, slack = ARGV[7], tonumber(ARGV[8])
if KEYS[3] then
  local wait = hit(KEYS[3], ARGV[4], ARGV[9], ARGV[10], ARGV[11], ARGV[12])
  if wait >= 0 then return {'throttled', wait} end
end
local sid = redis.call('GET', KEYS[1])
if not sid then return {'invalid', 'unknown'} end
local session = prefix .. 'session:' .. sid
local f = redis.call('HMGET', session, 'user_id', 'current', 'previous', 'rotated_at',
  'idle_expires_at', 'absolute_expires_at', 'role')
local uid, current, previous, rotated_at, idle, absolute = f[1], f[2], f[3], f[4], f[5], f[6]
local role = f[7]  -- false for a grant issued before grants carried the role
if not uid then return {'invalid', 'unknown'} end
local function ttl(until_us)
  return math.max(math.floor((tonumber(until_us) - now) / 1000), 0) + slack
end
local function drop()
  redis.call('DEL', session)
  redis.call('SREM', prefix .. 'user:' .. uid .. ':sessions', sid)
end
if tonumber(idle) <= now or tonumber(absolute) <= now then
  drop()
  return {'invalid', 'expired'}
end
if presented == current then
  local new_idle = idle_candidate
  if tonumber(new_idle) > tonumber(absolute) then new_idle = absolute end
  redis.call('HSET', session, 'previous', current, 'current', successor,
    'rotated_at', ARGV[4], 'idle_expires_at', new_idle)
  redis.call('SET', KEYS[2], sid, 'PX', ttl(absolute))
  return {'rotated', sid, uid, new_idle, absolute, role}
end
if presented == previous and rotated_at and now - tonumber(rotated_at) < grace
    and successor == current then
  return {'grace', sid, uid, idle, absolute, role}
end
drop()
redis.call('SET', prefix .. 'revoked:' .. sid, deny_until, 'PX', ttl(deny_until))
return {'reused', sid, uid}
