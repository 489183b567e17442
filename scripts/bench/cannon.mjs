// autocannon in its own process, so the load generator never shares an event loop with the
// server under test. Options arrive as JSON on stdin ({url, connections, duration?, amount?,
// headers}); the result is printed as one JSON line.
import autocannon from "autocannon";

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const opts = JSON.parse(Buffer.concat(chunks).toString("utf8"));
// The client's own CPU: on a machine where it shares the cores with the server, it bounds req/s.
const cpu0 = process.cpuUsage();
const result = await autocannon({
  url: opts.url,
  connections: opts.connections,
  ...(opts.amount ? { amount: opts.amount } : { duration: opts.duration }),
  headers: opts.headers ?? {},
  timeout: 10,
});
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  JSON.stringify({
    requests: result.requests.total,
    durationS: result.duration,
    rps: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    clientCpuS: (cpu.user + cpu.system) / 1e6,
  }) + "\n",
);
