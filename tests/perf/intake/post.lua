-- wrk script for the intake benchmark: POST a ticket on every request, keep-alive, bearer token.
-- Usage: wrk -s post.lua URL -- <path> <token or "-"> <bodies file>
-- The bodies file holds one JSON body per line (built by run.py so territories, categories, kinds and urgency
-- vary and routing and clocks are exercised). Requests are formatted once in init(): request() only picks one,
-- so the load generator stays a small fraction of the CPU the server needs.
-- done() prints one JSON line that run.py parses.

local requests = {}
local count = 0
local index = 0

function init(args)
   local path, token, file = args[1], args[2], args[3]
   local headers = { ["Content-Type"] = "application/json" }
   if token ~= "-" then
      headers["Authorization"] = "Bearer " .. token
   end
   -- Start each thread at a different place in the list.
   index = math.random(0, 1000)
   for line in io.lines(file) do
      if #line > 0 then
         count = count + 1
         requests[count] = wrk.format("POST", path, headers, line)
      end
   end
end

function request()
   index = index % count + 1
   return requests[index]
end

function done(summary, latency, requests_)
   local e = summary.errors
   io.write(string.format(
      '{"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, "write": %d, ' ..
      '"status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
