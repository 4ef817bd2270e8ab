-- wrk script: POST one vote per request, each with its own pre-minted voter token.
--
--   wrk -s bench/votes.lua URL -- TOKENS THREADS PATH FIRST_POLL POLLS
--
-- TOKENS: a file of bearer tokens, one a line ("-": no Authorization header, the floor).
-- Thread i of THREADS takes lines i, i+THREADS, ...: no token is sent twice. PATH holds
-- "%d" for the poll id, drawn uniformly from FIRST_POLL .. FIRST_POLL+POLLS-1; the choice
-- is one of that poll's four (ids poll*10+1 .. poll*10+4, as bench/run.py seeds them).
-- A thread that runs out of tokens stops. done() prints one JSON line of figures.

local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local tokens = {}
local used = 0
local path, first_poll, polls
statuses = {}
exhausted = 0

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  path, first_poll, polls = args[3], tonumber(args[4]), tonumber(args[5])
  if file ~= "-" then
    local n = 0
    for line in io.lines(file) do
      if n % nthreads == tid then
        tokens[#tokens + 1] = "Bearer " .. line
      end
      n = n + 1
    end
  end
  math.randomseed(os.time() + tid * 7919)
  wrk.method = "POST"
end

function request()
  local headers = {["Content-Type"] = "application/json"}
  if #tokens > 0 then
    used = used + 1
    local token = tokens[used]
    if token == nil then
      exhausted = 1
      wrk.thread:stop()
      token = tokens[#tokens]
    end
    headers["Authorization"] = token
  end
  local poll = first_poll + math.random(0, polls - 1)
  local body = string.format('{"choice_id": %d}', poll * 10 + math.random(1, 4))
  return wrk.format(nil, string.format(path, poll), headers, body)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged, ran_out = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + n
    end
    ran_out = ran_out + thread:get("exhausted")
  end
  local parts = {}
  for status, n in pairs(merged) do
    parts[#parts + 1] = string.format('"%s": %d', status, n)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, "status_errors": %d, ' ..
    '"threads_out_of_tokens": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout, e.status, ran_out, table.concat(parts, ", ")))
end
