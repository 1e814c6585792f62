-- wrk script: POST /jobs with a small note:archive job to a queue (default "bench", which the benchmark server does
-- not serve, so the figure is the API's and the store's, not the workers').
-- Usage: wrk -t1 -c64 -d15s -s post-job.lua http://127.0.0.1:8080 -- [queue]
local queue = "bench"
local counter = 0

function init(args)
  if args[1] ~= nil then queue = args[1] end
end

function request()
  counter = counter + 1
  local body = string.format('{"type":"note:archive","queue":"%s","payload":{"note_id":%d}}', queue, counter)
  return wrk.format("POST", "/jobs", { ["Content-Type"] = "application/json" }, body)
end

local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("requests/s: %.0f, p50 %.2f ms, p99 %.2f ms, errors: %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
