-- POSTs the JSON file named by BENCH_BODY and prints one machine-readable summary line at the end.
local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
-- Baton's virtual key (bench/run.sh creates one through the admin API); the other targets ignore it.
local api_key = os.getenv("BENCH_API_KEY")
if api_key and api_key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. api_key
end
-- "no-cache" keeps Baton's response cache on but missing: every request skips the lookup and stores its answer.
local cache_control = os.getenv("BENCH_CACHE_CONTROL")
if cache_control and cache_control ~= "" then
  wrk.headers["Cache-Control"] = cache_control
end
-- A W3C trace context, as an instrumented caller sends it (bench/observability.sh).
local traceparent = os.getenv("BENCH_TRACEPARENT")
if traceparent and traceparent ~= "" then
  wrk.headers["traceparent"] = traceparent
end

-- No response() hook: it would make wrk run Lua for every answer. Non-2xx/3xx answers are counted in errors.status.
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d mean_us=%.1f errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean, errors))
end
