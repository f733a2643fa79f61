-- ARGV[4]: the session id.
return revoke(ARGV[4])
