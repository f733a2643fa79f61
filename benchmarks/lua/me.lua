-- GET /auth/me over a pool of live access tokens, each thread cycling through its share, so
-- the server's verified-token cache is measured at the pool's hit rate, not one token's.
-- Every request is formatted once, in init: the load is on the server, not on Lua.
-- args: tokens file (one per line), number of threads.
function init(args)
  requests, at = {}, 0
  local threads, n = tonumber(args[2]), 0
  for line in io.lines(args[1]) do
    if n % threads == id then
      local bearer = { ["Authorization"] = "Bearer " .. line }
      table.insert(requests, wrk.format("GET", "/auth/me", bearer))
    end
    n = n + 1
  end
end

function request()
  at = at % #requests + 1
  return requests[at]
end
