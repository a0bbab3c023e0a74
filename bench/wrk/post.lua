-- POSTs the JSON file named by BENCH_BODY and prints one machine-readable summary line at the end. Headers and the
-- summary line come from common.lua, next to this script.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "") .. "common.lua")

local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
for name, value in pairs(common.headers()) do
  wrk.headers[name] = value
end

done = common.done
