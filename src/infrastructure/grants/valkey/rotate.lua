-- RFC 9700 §4.14.2: rotation with reuse detection; a replayed old token revokes the family.
-- The same rule as domain/rotation.py (rotate_family), restated here so it runs in one
-- atomic step; the contract and property tests hold the two to each other. The presented
-- token is genuine (its MAC was checked), so a token neither current nor previous is an
-- older one of this family: reuse; unless its generation is past the family's ('g'):
-- then the store lost the rotation that minted it (a failover loses the last writes of
-- asynchronous replication), and it is unknown, the family kept (no theft: a newer
-- genuine token needs the secret). That is why no key per token is kept.
-- KEYS: family, denylist, and rate:<key> when a limit is counted. ARGV: presented,
-- successor (32-byte hashes), now, now + idle ttl, grace, deny_until (times in µs), GC
-- slack (ms), presented generation, the denylist's channel ('' for none: see revoke.lua);
-- with a limit: window (µs), limit, hit member, rate GC ttl (ms). hit.lua is loaded in front.
local family, denied = KEYS[1], KEYS[2]
local presented, successor = ARGV[1], ARGV[2]
local now, idle_candidate, grace = tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local deny_until, slack = ARGV[6], tonumber(ARGV[7])
local generation = tonumber(ARGV[8])
local channel = ARGV[9]
if KEYS[3] then
  local wait = hit(KEYS[3], ARGV[3], ARGV[10], ARGV[11], ARGV[12], ARGV[13])
  if wait >= 0 then return {'throttled', wait} end
end
local f = redis.call('HMGET', family, 'u', 'c', 'p', 'r', 'i', 'a', 'o', 'g', 't', 'm')
local uid, current, previous, rotated_at, idle, absolute = f[1], f[2], f[3], f[4], f[5], f[6]
local role, family_generation, auth_time, amr = f[7], tonumber(f[8]), f[9], f[10]
if not uid then return {'invalid', 'unknown'} end
if tonumber(idle) <= now or tonumber(absolute) <= now then
  redis.call('DEL', family)
  return {'invalid', 'expired'}
end
if presented == current then
  local new_idle = idle_candidate
  if tonumber(new_idle) > tonumber(absolute) then new_idle = absolute end
  -- The successor's generation, never below the family's.
  local next_generation = math.max(family_generation, generation + 1)
  redis.call('HSET', family, 'p', current, 'c', successor, 'r', ARGV[3], 'i', new_idle,
    'g', next_generation)
  return {'rotated', uid, new_idle, absolute, role, auth_time, amr}
end
if presented == previous and rotated_at and now - tonumber(rotated_at) < grace
    and successor == current then
  return {'grace', uid, idle, absolute, role, auth_time, amr}
end
if generation > family_generation then return {'invalid', 'unknown'} end
redis.call('DEL', family)
local ttl = math.max(math.floor((tonumber(deny_until) - now) / 1000), 0) + slack
redis.call('SET', denied, deny_until, 'PX', ttl)
if channel ~= '' then redis.call('PUBLISH', channel, denied .. ' ' .. deny_until) end
return {'reused', uid}
