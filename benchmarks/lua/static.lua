-- One fixed request. args: method, path, body ("" for none), then header lines "Name: value".
function init(args)
  wrk.method = args[1]
  wrk.path = args[2]
  if args[3] ~= "" then wrk.body = args[3] end
  for i = 4, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
end
