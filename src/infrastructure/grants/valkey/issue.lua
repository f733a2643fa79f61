-- Start a session's token family. KEYS: the family.
-- ARGV: user id, current hash (32 bytes), idle and absolute expiry (µs), GC ttl (ms), role,
-- auth_time (µs) and amr (space-separated) of the sign-in.
-- The first token is generation 0 (g). No token index and no per-user
-- set: the family is found by session id.
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'c', ARGV[2], 'i', ARGV[3], 'a', ARGV[4], 'o', ARGV[6],
  't', ARGV[7], 'm', ARGV[8], 'g', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
