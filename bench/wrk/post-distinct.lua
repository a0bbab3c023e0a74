-- POSTs the JSON file named by BENCH_BODY with a counter put into its last message, so that every request has a
-- body (and a cache key) of its own: with the response cache on, every answer is a new one and is written to the
-- store. Headers as post.lua (key, Cache-Control, traceparent); prints the same summary line.
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
local headers = { ["Content-Type"] = "application/json" }
local api_key = os.getenv("BENCH_API_KEY")
if api_key and api_key ~= "" then
  headers["Authorization"] = "Bearer " .. api_key
end
local cache_control = os.getenv("BENCH_CACHE_CONTROL")
if cache_control and cache_control ~= "" then
  headers["Cache-Control"] = cache_control
end
local traceparent = os.getenv("BENCH_TRACEPARENT")
if traceparent and traceparent ~= "" then
  headers["traceparent"] = traceparent
end

function request()
  counter = counter + 1
  -- The start time as well: two runs against the same gateway do not repeat each other's bodies.
  run = run or tostring(os.time())
  local body = head .. "[" .. run .. "-" .. tostring(thread_id or 0) .. "-" .. counter .. "] " .. tail
  return wrk.format("POST", nil, headers, body)
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d mean_us=%.1f errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean, errors))
end
