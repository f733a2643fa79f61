-- Appended to every wrk script: each thread's number (``id``, set before its init runs) and
-- one JSON line the bench parses.
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"seconds":%f,"p50_us":%d,"p99_us":%d,"non2xx":%d,"socket":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
