-- Revoke sessions. KEYS: family and denylist of each session, in pairs.
-- ARGV: deny_until (µs), deny ttl (ms), '1' to deny even a session without a family
-- (one named session) or '0' to deny only those that had one (a user's sessions from SQL),
-- and the denylist's channel ('' for none): each denial is published there in this same
-- step, "<denylist key> <deny_until>" (denylist.py).
-- Answers 1 or 0 per session: whether it had a family.
local held = {}
for i = 1, #KEYS, 2 do
  local had = redis.call('DEL', KEYS[i]) > 0
  if had or ARGV[3] == '1' then
    redis.call('SET', KEYS[i + 1], ARGV[1], 'PX', ARGV[2])
    if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], KEYS[i + 1] .. ' ' .. ARGV[1]) end
  end
  table.insert(held, had and 1 or 0)
end
return held
