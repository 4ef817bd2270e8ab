-- wrk script: POST one vote per request, each with its own pre-minted voter token.
--
--   wrk -s bench/votes.lua URL -- TOKENS THREADS PATH FIRST_POLL POLLS
--
-- TOKENS: a file of bearer tokens, one a line ("-": no Authorization header, the floor).
-- Thread i of THREADS takes lines i, i+THREADS, ...: no token is sent twice. PATH holds
-- "%d" for the poll id, drawn uniformly from FIRST_POLL .. FIRST_POLL+POLLS-1; the choice
-- is one of that poll's four (ids poll*10+1 .. poll*10+4, as bench/run.py seeds them).
-- A thread that runs out of tokens stops. bench/wrk_report.lua counts the statuses and
-- prints one JSON line of figures.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "wrk_report.lua")

local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  track_thread(thread)
end

local tokens = {}
local used = 0
local path, first_poll, polls

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
