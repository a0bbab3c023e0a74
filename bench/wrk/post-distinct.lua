-- POSTs the JSON file named by BENCH_BODY with a counter put into its last message, so that every request has a
-- body (and a cache key) of its own: with the response cache on, every answer is a new one and is written to the
-- store. Headers and the summary line as post.lua's, from common.lua next to this script.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "") .. "common.lua")

local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
local template = file:read("*a")
file:close()
-- The counter goes in front of the last "content" string: the body stays valid JSON whatever the prompt says.
local head, tail = template:match('^(.*"content":")(.*)$')
assert(head, "BENCH_BODY has no \"content\" string")

local threads = 0
function setup(thread)
  -- Each wrk thread runs its own Lua state: a thread number keeps their counters apart.
  thread:set("thread_id", threads)
  threads = threads + 1
end

local counter = 0
local run
local headers = common.headers()

function request()
  counter = counter + 1
  -- The start time as well: two runs against the same gateway do not repeat each other's bodies.
  run = run or tostring(os.time())
  local body = head .. "[" .. run .. "-" .. tostring(thread_id or 0) .. "-" .. counter .. "] " .. tail
  return wrk.format("POST", nil, headers, body)
end

done = common.done
