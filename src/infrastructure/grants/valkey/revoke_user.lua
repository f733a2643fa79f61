-- ARGV[4]: the user id; ARGV[5], if given: the session to keep.
local revoked = {}
for _, sid in ipairs(redis.call('SMEMBERS', prefix .. 'user:' .. ARGV[4] .. ':sessions')) do
  if sid ~= ARGV[5] then
    revoke(sid)
    table.insert(revoked, sid)
  end
end
return revoked
