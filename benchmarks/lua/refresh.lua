-- Every connection follows its own rotating refresh cookie. wrk has no per-connection hook,
-- but one connection has one request in flight: a per-thread pool of current tokens (one per
-- session, at least as many as connections) where a request takes one out and its response
-- puts the successor from Set-Cookie back keeps every session on its own chain.
-- Requests come from many client addresses (X-Forwarded-For from a trusted proxy, derived
-- from the token), as real refreshes do: the per-IP refresh limit is not one shared bucket.
-- args: tokens file (one per line), number of threads, cookie name.
function init(args)
  pool, lost, cookie = {}, 0, args[3]
  local threads, n = tonumber(args[2]), 0
  for line in io.lines(args[1]) do
    if n % threads == id then table.insert(pool, line) end
    n = n + 1
  end
end

function request()
  local token = table.remove(pool) or "exhausted"
  local a, b, c = token:byte(1, 3)
  return wrk.format("POST", "/auth/refresh", {
    ["Cookie"] = cookie .. "=" .. token,
    ["X-Forwarded-For"] = string.format("10.%d.%d.%d", a, b, c),
  })
end

function response(status, headers, body)
  local set = headers["Set-Cookie"] or headers["set-cookie"] or ""
  local token = set:match(cookie .. "=([^;]+)")
  if token then table.insert(pool, token) else lost = lost + 1 end
end
