-- wrk script for make bench: POST /predict with credentials, and the experiment group when set.
wrk.method = "POST"
wrk.body = '{"sentence": "I love this!"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTHORIZATION")
local group = os.getenv("BENCH_EXPERIMENT_GROUP")
if group and group ~= "" then
  wrk.headers["X-Experiment-Group"] = group
end
