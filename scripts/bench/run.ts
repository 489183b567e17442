/**
 * `npm run bench [-- --quick] [--tool wrk|autocannon] [--rounds N] [--cpu-prof]`: s3jit's figures
 * next to their goals (issue 8), measured in one run on loopback against the local AWS sandbox and
 * a real daemon process. Writes bench/results.json and prints a table. It reports; it never fails
 * on a missed goal. What each figure means: bench/README.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { coldBurst, type BurstResult } from "./burst.js";
import { pickTool, runAmount, runLoad, type LoadResult } from "./load.js";
import { cpuSeconds, rssMb } from "./proc.js";
import { startBare, startNginx, type Reference } from "./references.js";
import { PROFILE, ROOT, startBenchStack, timedRun, type BenchStack } from "./stack.js";
import { goalRows, renderTable, type Results } from "./report.js";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    tool: { type: "string" },
    rounds: { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
  },
  strict: true,
});
const quick = flags.quick;
const plan = {
  durationS: quick ? 2 : 10,
  connections: [1, 32, 256],
  rounds: Number(flags.rounds ?? (quick ? 1 : 2)),
  burst: 500,
  manyRequests: quick ? 20_000 : 100_000,
  botoEndpoint: quick ? 100 : 1000,
  botoProcess: quick ? 20 : 1000,
  idleS: quick ? 30 : 600,
  statusRuns: quick ? 5 : 15,
  cliRuns: quick ? 7 : 15,
  rssRequests: 20_000,
  starts: 5,
};
const tool = pickTool(flags.tool);

const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const medianOrNull = (xs: (number | null)[]) => (xs.every((x) => x !== null) && xs.length ? median(xs as number[]) : null);

async function fetchBody(url: string, authorization: string): Promise<Buffer> {
  const res = await fetch(url, { headers: { authorization } });
  if (res.status !== 200) throw new Error(`the endpoint answered ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

async function main(): Promise<void> {
  log(`${quick ? "quick" : "full"} run, load generator ${tool}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(2)}`);
  const profDir = path.join(ROOT, "bench", "profiles");
  if (flags["cpu-prof"]) mkdirSync(profDir, { recursive: true });
  let stack: BenchStack | undefined;
  const refs: Reference[] = [];
  try {
    stack = await startBenchStack(flags["cpu-prof"] ? { nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${profDir}`] } : {});
    const s = stack;
    const pid = s.daemon.pid!;
    const rssStart = rssMb(pid);
    log(`daemon ready in ${s.startToReadyMs.toFixed(0)} ms, RSS ${rssStart?.toFixed(1)} MB`);

    // `s3jit status` wall time, next to a bare `node -e 0` (the floor any Node CLI pays).
    const statusMs: number[] = [];
    const nodeMs: number[] = [];
    for (let i = 0; i < plan.statusRuns; i++) {
      const r = await s.cli(["status"]);
      if (r.code !== 0) throw new Error(`s3jit status failed: ${r.stderr}`);
      statusMs.push(r.ms);
      nodeMs.push((await timedRun(process.execPath, ["-e", "0"], { env: s.env })).ms);
    }

    const login = await s.cli(["login", "--no-browser"]);
    if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
    const envOut = await s.cli(["env", PROFILE, "--json"]);
    const clientVars = (JSON.parse(envOut.stdout) as { set: Record<string, string> }).set;
    const url = clientVars.AWS_CONTAINER_CREDENTIALS_FULL_URI!;
    const token = clientVars.AWS_CONTAINER_AUTHORIZATION_TOKEN!;

    // Cold burst: the grant opens the window (and starts the mint); the burst follows at once.
    log(`cold burst: ${plan.burst} first requests right after the grant`);
    const mintsBefore = s.sandbox.count("GetScopedCredentials");
    const roleBefore = s.sandbox.count("GetRoleCredentials");
    const tGrant = performance.now();
    await s.control("POST", "/v1/grant", { profile: PROFILE, for: "1h", reason: "benchmark" });
    const grantMs = performance.now() - tGrant;
    const burst: BurstResult = await coldBurst(url, token, plan.burst);
    const burstMints = s.sandbox.count("GetScopedCredentials") - mintsBefore;
    const burstRoleCalls = s.sandbox.count("GetRoleCredentials") - roleBefore;
    log(`  ${burst.first.ok} × 200, ${burst.first.pending503} × 503 at first, all served in ${burst.allServedMs.toFixed(0)} ms, ${burstMints} mint(s)`);

    // The commands scripts and shell start-up run, each next to `node -e 0`, interleaved round by
    // round (a shared machine's noise hits all alike); medians reported.
    log(`CLI wall time: ${plan.cliRuns} interleaved rounds of node -e 0, env, credential-process, status`);
    const cliMs: Record<string, number[]> = { node: [], env: [], "credential-process": [], status: [] };
    for (let i = 0; i < plan.cliRuns; i++) {
      cliMs.node!.push((await timedRun(process.execPath, ["-e", "0"], { env: s.env })).ms);
      for (const [name, args] of [
        ["env", ["env", PROFILE]],
        ["credential-process", ["credential-process", PROFILE]],
        ["status", ["status"]],
      ] as const) {
        const r = await s.cli([...args]);
        if (r.code !== 0) throw new Error(`s3jit ${name} failed: ${r.stderr}`);
        cliMs[name]!.push(r.ms);
      }
    }
    const cliMedianMs = Object.fromEntries(Object.entries(cliMs).map(([k, v]) => [k, median(v)]));
    log(`  medians: ${Object.entries(cliMedianMs).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(", ")}`);

    await sleep(1000);
    const rssWarm = rssMb(pid);
    log(`${plan.manyRequests} requests (32 connections)`);
    // The issue-16 figure: RSS after login, a mint and 20k requests; then the rest of the amount.
    const first = await runAmount({ url, authorization: token, pid }, 32, plan.rssRequests);
    const rssAfter20k = rssMb(pid);
    const rest = plan.manyRequests > plan.rssRequests ? await runAmount({ url, authorization: token, pid }, 32, plan.manyRequests - plan.rssRequests) : null;
    const many = rest
      ? { requests: first.requests + rest.requests, non2xx: first.non2xx + rest.non2xx, errors: first.errors + rest.errors, rps: (first.rps + rest.rps) / 2 }
      : first;
    const rssAfterMany = rssMb(pid);
    log(`  ${many.rps.toFixed(0)} req/s, RSS ${rssWarm?.toFixed(1)} → ${rssAfterMany?.toFixed(1)} MB`);

    // The references serve the very bytes s3jit serves.
    const body = await fetchBody(url, token);
    const bare = await startBare(body);
    refs.push(bare);
    const nginx = await startNginx(body);
    if ("skipped" in nginx) log(`nginx reference skipped: ${nginx.skipped}`);
    else refs.push(nginx);

    const servers: { name: string; url: string; authorization?: string; pid: number }[] = [
      { name: "s3jit", url, authorization: token, pid },
      { name: "node:http", url: bare.url, pid: bare.pid },
      ...("skipped" in nginx ? [] : [{ name: "nginx", url: nginx.url, pid: nginx.pid }]),
    ];
    const cached: Results["cached"] = [];
    for (const c of plan.connections) {
      const runs: Record<string, LoadResult[]> = {};
      // Interleaved (s3jit, node:http, nginx, s3jit, …): noise from a shared machine hits all alike.
      for (let r = 0; r < plan.rounds; r++) {
        for (const srv of servers) {
          const res = await runLoad(tool, srv, c, plan.durationS);
          (runs[srv.name] ??= []).push(res);
          const cpu = `CPU/req server ${res.serverCpuUs?.toFixed(1) ?? "n/a"} µs, client ${res.clientCpuUs?.toFixed(1) ?? "n/a"} µs`;
          log(`  ${c} conn ${srv.name}: ${res.rps.toFixed(0)} req/s p50 ${res.p50Ms.toFixed(3)} ms p99 ${res.p99Ms.toFixed(3)} ms, ${cpu}${res.non2xx || res.errors ? ` (${res.non2xx} non-2xx, ${res.errors} errors)` : ""}`);
        }
      }
      const summary: Results["cached"][number] = { connections: c, servers: {} };
      for (const [name, rs] of Object.entries(runs)) {
        summary.servers[name] = {
          rps: median(rs.map((x) => x.rps)),
          p50Ms: median(rs.map((x) => x.p50Ms)),
          p99Ms: median(rs.map((x) => x.p99Ms)),
          serverCpuUs: medianOrNull(rs.map((x) => x.serverCpuUs)),
          clientCpuUs: medianOrNull(rs.map((x) => x.clientCpuUs)),
          non2xx: rs.reduce((a, x) => a + x.non2xx, 0),
          errors: rs.reduce((a, x) => a + x.errors, 0),
          runs: rs,
        };
      }
      cached.push(summary);
    }
    await Promise.all(refs.splice(0).map((r) => r.close()));

    // boto3: the last-10-minutes case, every call a fresh fetch.
    const boto: Results["boto3"] = { endpoint: null, process: null };
    const py = "/usr/bin/python3";
    const check = await timedRun(py, ["-c", "import boto3"], { env: s.env }).catch(() => ({ code: 1 }));
    if (check.code !== 0) {
      boto.skipped = `${py} with boto3 is not available`;
      log(`boto3 skipped: ${boto.skipped}`);
    } else {
      const script = path.join(ROOT, "scripts", "bench", "boto3-fetch.py");
      const common = { ...s.env, AWS_CONFIG_FILE: path.join(s.dir, "none"), AWS_SHARED_CREDENTIALS_FILE: path.join(s.dir, "none") };
      for (const mode of ["endpoint", "process"] as const) {
        const n = mode === "endpoint" ? plan.botoEndpoint : plan.botoProcess;
        log(`boto3: ${n} fetches via ${mode === "endpoint" ? "the endpoint" : "credential_process"}`);
        const env = {
          ...common,
          ...(mode === "endpoint" ? clientVars : {}),
          BENCH_MODE: mode,
          BENCH_N: String(n),
          BENCH_CREDENTIAL_PROCESS: `${process.execPath} ${path.join(ROOT, "bin", "s3jit.js")} credential-process ${PROFILE}`,
        };
        const r = await timedRun(py, [script], { env });
        if (r.code !== 0) throw new Error(`boto3 ${mode} failed: ${r.stderr.slice(-500)}`);
        const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { n: number; totalS: number; p50Ms: number; p99Ms: number; botocore: string };
        boto[mode] = { ...out, perCallMs: (out.totalS * 1000) / out.n };
        log(`  ${boto[mode]!.perCallMs.toFixed(2)} ms per fetch`);
      }
    }

    // Idle: one window open, nothing asks. Settle first, so the tail of the load is not counted.
    await sleep(5000);
    log(`idle for ${plan.idleS} s with the window open${flags["cpu-prof"] ? " (idle CPU not reported: --cpu-prof samples all the time)" : ""}`);
    const cpu0 = cpuSeconds(pid);
    const rssIdleStart = rssMb(pid);
    await sleep(plan.idleS * 1000);
    const cpu1 = cpuSeconds(pid);
    const rssIdle = rssMb(pid);
    const st = JSON.parse((await s.cli(["status", "--json"])).stdout) as { profiles: Record<string, { window: { open: boolean } | null }> };

    // Start-to-ready again on fresh daemons (own XDG tree each, nothing else running in them): median of all starts.
    const startsMs = [s.startToReadyMs];
    const endpointStartsMs = [s.startToEndpointMs];
    const startNodeMs: number[] = [];
    for (let i = 1; i < plan.starts; i++) {
      startNodeMs.push((await timedRun(process.execPath, ["-e", "0"], { env: s.env })).ms);
      const extra = await startBenchStack();
      startsMs.push(extra.startToReadyMs);
      endpointStartsMs.push(extra.startToEndpointMs);
      await extra.close();
    }
    log(`start-to-ready: ${startsMs.map((x) => x.toFixed(0)).join(", ")} ms; to the endpoint: ${endpointStartsMs.map((x) => x.toFixed(0)).join(", ")} ms`);

    const results: Results = {
      meta: {
        date: new Date().toISOString(),
        mode: quick ? "quick" : "full",
        node: process.version,
        platform: `${os.platform()} ${os.release()}`,
        cpus: os.cpus().length,
        nproc: os.availableParallelism(),
        cpuModel: os.cpus()[0]?.model ?? "",
        totalMemMb: Math.round(os.totalmem() / 2 ** 20),
        loadAverageAtEnd: os.loadavg()[0]!,
        tool,
        plan,
      },
      cached,
      nginxSkipped: "skipped" in nginx ? nginx.skipped : null,
      burst: { ...burst, mints: burstMints, roleCredentialCalls: burstRoleCalls, grantMs, retryPolicy: "each 503 retried after its Retry-After seconds" },
      boto3: boto,
      footprint: {
        rssStartMb: rssStart,
        rssWarmMb: rssWarm,
        rssAfterManyMb: rssAfterMany,
        rssAfter20kMb: rssAfter20k,
        manyRequests: many.requests,
        manyNon2xx: many.non2xx + many.errors,
        rssIdleStartMb: rssIdleStart,
        rssAfterIdleMb: rssIdle,
        idleS: plan.idleS,
        // Not under --cpu-prof: V8's sampler thread runs all the time, an idle daemon with it spends
        // ≈1 s of CPU per 20 s (measured), so the figure would be the profiler's.
        idleCpuS: cpu0 !== null && cpu1 !== null && !flags["cpu-prof"] ? cpu1 - cpu0 : null,
        windowOpenAfterIdle: st.profiles[PROFILE]?.window?.open === true,
        startToReadyMs: median(startsMs),
        startToReadyRunsMs: startsMs,
        statusMedianMs: median(statusMs),
        statusRunsMs: statusMs,
        nodeBareMedianMs: median(nodeMs),
        startToEndpointMs: median(endpointStartsMs),
        startToEndpointRunsMs: endpointStartsMs,
        nodeBareAtStartsMedianMs: startNodeMs.length ? median(startNodeMs) : median(nodeMs),
        cliMedianMs,
        cliRunsMs: cliMs,
      },
    };
    results.goals = goalRows(results);

    const outFile = path.join(ROOT, "bench", "results.json");
    mkdirSync(path.dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(results, null, 2) + "\n");
    process.stdout.write(renderTable(results) + "\n");
    log(`wrote ${path.relative(process.cwd(), outFile)}`);
  } finally {
    await Promise.all(refs.map((r) => r.close()));
    await stack?.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
