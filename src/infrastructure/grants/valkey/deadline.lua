-- A step that must not run late: Valkey runs a command when it reads it, and after a stall
-- (a pause, a frozen VM, a slow disk) it reads those whose callers stopped waiting and
-- answered 503. A rotation run then would make the token the client still holds the
-- previous one, and its retry, past the grace window, would read as reuse: a session
-- revoked as stolen (RFC 9700 §4.14.2). So the caller passes a deadline last in ARGV (µs),
-- set on Valkey's own clock from the stamp every reply carries at its end (TIME, when the
-- step ran): the caller's clock may differ from Valkey's, the stamps tell by how much.
-- Past the deadline nothing runs, and the reply is {'late', stamp}. (What is left: a stop
-- in the instant between running a step and sending its reply, microseconds.)
local function before_deadline(step)
  local clock = redis.call('TIME')
  local now = clock[1] * 1000000 + clock[2]
  if now > tonumber(ARGV[#ARGV]) then return {'late', now} end
  local reply = step()
  reply[#reply + 1] = now
  return reply
end
