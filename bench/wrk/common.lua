-- Shared by open311.lua and eservice.lua: thread ids, counting refused answers, a JSON summary.
local M = {}
local threads = {}
local next_id = 0

function M.setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function M.init_thread()
  bad = 0      -- per thread (each wrk thread has its own Lua state)
  statuses = {}
end

function M.response(status, headers, body)
  if status ~= 200 and status ~= 303 then
    bad = bad + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function M.done(summary, latency, requests)
  local bad_total = 0
  for _, t in ipairs(threads) do bad_total = bad_total + (t:get("bad") or 0) end
  local e = summary.errors
  io.write(string.format(
    '{"wrk_requests": %d, "duration_us": %d, "bad_status": %d, "socket_errors": ' ..
    '{"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p95": %d, "p99": %d, "mean": %.1f, "max": %d}}\n',
    summary.requests, summary.duration, bad_total, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.mean, latency.max))
end

return M
