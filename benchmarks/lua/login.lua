-- Sign-ins of one account from many client addresses (X-Forwarded-For from a trusted proxy),
-- as real sign-ins come: the per-IP login limit is not one bucket holding every sign-in of
-- the run (a real address is refused past its limit long before it holds that many).
-- args: body, then header lines "Name: value".
function init(args)
  body, headers, sent = args[1], { ["Content-Type"] = "application/json" }, 0
  for i = 2, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
end

function request()
  sent = sent + 1
  headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", id, math.floor(sent / 256) % 256, sent % 256)
  return wrk.format("POST", "/auth/login", headers, body)
end
