-- What the wrk scripts share, loaded with dofile() from the folder of the script that loads it: the request headers
-- the bench scripts ask for through the environment, and the summary line printed at the end of a run.
local common = {}

-- The JSON content type, and from the environment: Baton's virtual key (BENCH_API_KEY: bench/run.sh creates one
-- through the admin API; the other targets ignore it), Cache-Control (BENCH_CACHE_CONTROL: "no-cache" keeps Baton's
-- response cache on but missing, so every request skips the lookup and stores its answer) and a W3C trace context
-- as an instrumented caller sends it (BENCH_TRACEPARENT, bench/observability.sh).
function common.headers()
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
  return headers
end

-- The machine-readable summary line the bench scripts read (grep ^BENCH). Non-2xx/3xx answers are counted in
-- errors.status (the scripts have no response() hook: it would make wrk run Lua for every answer).
function common.done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d mean_us=%.1f errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean, errors))
end

return common
