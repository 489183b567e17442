-- wrk: the token comes from the environment (not the command line), the report is one JSON line.
local token = os.getenv("BENCH_AUTHORIZATION")
if token and token ~= "" then wrk.headers["Authorization"] = token end

done = function(summary, latency, _requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationS":%.6f,"p50Us":%d,"p99Us":%d,"non2xx":%d,"errors":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
