-- The role every live grant of a user carries. KEYS: family, denylist, legacy family of
-- each session, in triples (the denylist is not touched). ARGV: role. migrate.lua is
-- loaded in front. Answers the number of families changed.
local changed = 0
for i = 1, #KEYS, 3 do
  migrate(KEYS[i], KEYS[i + 2])
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HSET', KEYS[i], 'o', ARGV[1])
    changed = changed + 1
  end
end
return changed
