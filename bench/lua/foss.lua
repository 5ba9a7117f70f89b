-- The requests wrk sends to /foss and the baselines, by the script's arguments:
--   wrk -s foss.lua http://127.0.0.1:8001/foss -- read 1000
--     GET <path>/<id>, an id drawn at random from 1..1000 on each request
--   wrk -s foss.lua http://127.0.0.1:8001/foss -- create <prefix>
--     POST <path> with a new record, its email unique across threads and runs
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  mode, argument, counter = args[1], args[2], 0
  math.randomseed(os.time() * 100 + thread_number)
end

function request()
  if mode == "read" then
    return wrk.format("GET", wrk.path .. "/" .. math.random(1, tonumber(argument)))
  end
  counter = counter + 1
  local body = string.format(
    '{"name": "Bench Maintainer", "email": "%s-%d-%d@example.org"}',
    argument, thread_number, counter
  )
  return wrk.format("POST", wrk.path, {["Content-Type"] = "application/json"}, body)
end
