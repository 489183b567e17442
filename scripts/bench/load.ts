/**
 * Load generators, always in their own process: wrk where installed (microsecond latencies, a
 * light C client), autocannon otherwise (a devDependency, so it works from a fresh clone).
 * `--tool autocannon` forces autocannon.
 */
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cpuSeconds } from "./proc.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));

export type Tool = "wrk" | "autocannon";

export interface LoadResult {
  tool: Tool;
  connections: number;
  requests: number;
  durationS: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /**
   * CPU (user + system) per request, in µs: the server's (from /proc, over the run) and the load
   * generator's (its own process; null for wrk). On a 2-core machine the two share the cores, so
   * req/s alone swings with whichever is the bottleneck; CPU per request is the server's cost.
   */
  serverCpuUs: number | null;
  clientCpuUs: number | null;
}

export function pickTool(forced?: string): Tool {
  if (forced === "autocannon" || forced === "wrk") return forced;
  return spawnSync("sh", ["-c", "command -v wrk"]).status === 0 ? "wrk" : "autocannon";
}

function run(cmd: string, args: string[], input: string, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: env ?? process.env });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`))));
    child.stdin.end(input);
  });
}

function lastJsonLine<T>(out: string): T {
  const line = out.trim().split("\n").filter((l) => l.startsWith("{")).at(-1);
  if (!line) throw new Error(`no JSON report in: ${out.slice(-300)}`);
  return JSON.parse(line) as T;
}

interface Target {
  url: string;
  authorization?: string;
  /** The server's process, for its CPU per request (Linux). */
  pid?: number;
}

/** Runs a load and adds the server's CPU per request to its result. */
async function measured(target: Target, load: () => Promise<Omit<LoadResult, "serverCpuUs">>): Promise<LoadResult> {
  const before = target.pid === undefined ? null : cpuSeconds(target.pid);
  const r = await load();
  const after = target.pid === undefined ? null : cpuSeconds(target.pid);
  const serverCpuUs = before !== null && after !== null && r.requests > 0 ? ((after - before) / r.requests) * 1e6 : null;
  return { ...r, serverCpuUs };
}

/** A fixed duration at a fixed number of connections. */
export function runLoad(tool: Tool, target: Target, connections: number, durationS: number): Promise<LoadResult> {
  return measured(target, () => load(tool, target, connections, durationS));
}

async function load(tool: Tool, target: Target, connections: number, durationS: number): Promise<Omit<LoadResult, "serverCpuUs">> {
  if (tool === "wrk") {
    // One thread: the servers compared are single-threaded, and the machine may have two cores.
    const out = await run("wrk", ["-t1", `-c${connections}`, `-d${durationS}s`, "--latency", "-s", path.join(HERE, "wrk-report.lua"), target.url], "", {
      ...process.env,
      BENCH_AUTHORIZATION: target.authorization ?? "",
    });
    const r = lastJsonLine<{ requests: number; durationS: number; p50Us: number; p99Us: number; non2xx: number; errors: number }>(out);
    return { tool, connections, requests: r.requests, durationS: r.durationS, rps: r.requests / r.durationS, p50Ms: r.p50Us / 1000, p99Ms: r.p99Us / 1000, non2xx: r.non2xx, errors: r.errors, clientCpuUs: null };
  }
  return cannon({ url: target.url, connections, duration: durationS, headers: target.authorization ? { authorization: target.authorization } : {} }, connections);
}

/** A fixed number of requests (autocannon either way: wrk has no request count). */
export function runAmount(target: Target, connections: number, amount: number): Promise<LoadResult> {
  return measured(target, () => cannon({ url: target.url, connections, amount, headers: target.authorization ? { authorization: target.authorization } : {} }, connections));
}

async function cannon(opts: Record<string, unknown>, connections: number): Promise<Omit<LoadResult, "serverCpuUs">> {
  const out = await run(process.execPath, [path.join(HERE, "cannon.mjs")], JSON.stringify(opts));
  const { clientCpuS, ...r } = lastJsonLine<Omit<LoadResult, "tool" | "connections" | "serverCpuUs" | "clientCpuUs"> & { clientCpuS: number }>(out);
  return { tool: "autocannon", connections, ...r, clientCpuUs: r.requests > 0 ? (clientCpuS / r.requests) * 1e6 : null };
}
