-- wrk script for intake_eservice_http: every request a new e-service form submission.
--
--   wrk -t2 -c8 -d20s -s bench/wrk/eservice.lua http://127.0.0.1:PORT/e/<code>/ \
--       -- <run id> [f-code=value ...]
--
-- Each POST carries its own submission token (<run><thread>x<n>, matching the form's token
-- pattern), so every one is a new submission; every other one gives an e-mail address (resident
-- lookup and an e-mail receipt row), as bench/intake.py's Python clients do. The answer is a
-- 303 to the receipt, which is not followed. done() prints one JSON line.
local common = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

local run, extra
local n = 0

setup = common.setup
response = common.response
done = common.done

function init(args)
  run = args[1]
  extra = ""
  for i = 2, #args do extra = extra .. "&" .. args[i] end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  common.init_thread()
end

function request()
  n = n + 1
  local body = string.format(
    "token=%s%02dx%010d&description=Soptunnan+t%%C3%%B6mdes+inte+vid+Storgatan+%d.&name=Boende+%d%s",
    run, id, n, n % 90 + 1, n, extra)
  if n % 2 == 1 then
    body = body .. string.format(
      "&email=eboende%d%%40example.se&contact_preference=email", (n * 7 + id) % 900)
  end
  return wrk.format(nil, nil, nil, body)
end
