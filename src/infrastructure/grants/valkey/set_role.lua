-- The role every live grant of a user carries. KEYS: family and denylist of each session,
-- in pairs (the denylist is not touched). ARGV: role. Answers the number of families changed.
local changed = 0
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HSET', KEYS[i], 'o', ARGV[1])
    changed = changed + 1
  end
end
return changed
