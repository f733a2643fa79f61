-- Shared head of revoke_session.lua and revoke_user.lua (loaded in front of each).
-- ARGV: prefix, deny_until (µs), deny ttl (ms), then the script's own arguments.
local prefix = ARGV[1]
local function revoke(sid)
  redis.call('SET', prefix .. 'revoked:' .. sid, ARGV[2], 'PX', ARGV[3])
  local session = prefix .. 'session:' .. sid
  local uid = redis.call('HGET', session, 'user_id')
  if not uid then return 0 end
  redis.call('DEL', session)
  redis.call('SREM', prefix .. 'user:' .. uid .. ':sessions', sid)
  return 1
end
