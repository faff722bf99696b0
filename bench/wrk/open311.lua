-- wrk script for intake_open311_http: every request a new, unique Open311 service request.
--
--   wrk -t2 -c8 -d20s -s bench/wrk/open311.lua http://127.0.0.1:PORT/open311/v2/requests.json \
--       -- <api_key> <service_code> <run id> [attribute%5Bcode%5D=value ...]
--
-- Arguments after the first three are extra form fields, already URL-encoded. The description
-- carries <run>-<thread>-<n>, so no two requests share an idempotency key; one request in three
-- names a reporter's e-mail (resident lookup), as bench/intake.py's Python clients do.
-- done() prints one JSON line (wrk's own counts and latency in microseconds).
local common = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

local key, code, run, extra
local n = 0
local subjects = {
  "Soptunnan+t%C3%B6mdes+inte", "Gatlampan+%C3%A4r+sl%C3%A4ckt", "Vattenl%C3%A4cka+p%C3%A5+gatan",
  "Sn%C3%B6r%C3%B6jning+saknas", "Fr%C3%A5ga+om+bygglov+f%C3%B6r+altan", "Faktura+f%C3%B6r+f%C3%B6rskola",
}

setup = common.setup
response = common.response
done = common.done

function init(args)
  key, code, run = args[1], args[2], args[3]
  extra = ""
  for i = 4, #args do extra = extra .. "&" .. args[i] end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  common.init_thread()
end

function request()
  n = n + 1
  local body = string.format(
    "api_key=%s&service_code=%s&lat=%.4f&long=%.4f&description=%s+%%28%s-%d-%d%%29%s",
    key, code, 59.3 + (n % 100) / 1000, 18.0 + (n % 77) / 1000,
    subjects[n % #subjects + 1], run, id, n, extra)
  if n % 3 == 0 then
    body = body .. string.format("&email=rapportor%d%%40example.se", (n * 7 + id) % 700)
  end
  return wrk.format(nil, nil, nil, body)
end
