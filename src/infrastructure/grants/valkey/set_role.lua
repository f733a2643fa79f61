-- The role every live grant of a user carries. ARGV: prefix, user id, role.
local changed = 0
for _, sid in ipairs(redis.call('SMEMBERS', ARGV[1] .. 'user:' .. ARGV[2] .. ':sessions')) do
  local session = ARGV[1] .. 'session:' .. sid
  if redis.call('EXISTS', session) == 1 then
    redis.call('HSET', session, 'role', ARGV[3])
    changed = changed + 1
  end
end
return changed
