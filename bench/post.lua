-- wrk script for make bench: POST /predict with credentials, and the experiment group when set.
-- Each thread also keeps the longest time it went without any answer on any of its connections:
-- a pause of the whole chain (every connection waiting at once), which a percentile cannot tell
-- apart from slow requests. Printed as "longest pause: N ms" at the end.
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } timespec;
int clock_gettime(int clock, timespec *now);
]])
local CLOCK_MONOTONIC = 1
local now = ffi.new("timespec")
local function ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now)
  return tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
end

wrk.method = "POST"
wrk.body = '{"sentence": "I love this!"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTHORIZATION")
local group = os.getenv("BENCH_EXPERIMENT_GROUP")
if group and group ~= "" then
  wrk.headers["X-Experiment-Group"] = group
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

-- Per thread (each runs this file in a state of its own).
last_answer = nil
longest_pause = 0
function response()
  local t = ms()
  if last_answer and t - last_answer > longest_pause then
    longest_pause = t - last_answer
  end
  last_answer = t
end

function done()
  local longest = 0
  for _, thread in ipairs(threads) do
    longest = math.max(longest, thread:get("longest_pause"))
  end
  io.write(string.format("longest pause: %.1f ms\n", longest))
end
