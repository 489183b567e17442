/**
 * Load generators, always in their own process: wrk where installed (microsecond latencies, a
 * light C client), autocannon otherwise (a devDependency, so it works from a fresh clone).
 * `--tool autocannon` forces autocannon.
 */
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

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
}

/** A fixed duration at a fixed number of connections. */
export async function runLoad(tool: Tool, target: Target, connections: number, durationS: number): Promise<LoadResult> {
  if (tool === "wrk") {
    // One thread: the servers compared are single-threaded, and the machine may have two cores.
    const out = await run("wrk", ["-t1", `-c${connections}`, `-d${durationS}s`, "--latency", "-s", path.join(HERE, "wrk-report.lua"), target.url], "", {
      ...process.env,
      BENCH_AUTHORIZATION: target.authorization ?? "",
    });
    const r = lastJsonLine<{ requests: number; durationS: number; p50Us: number; p99Us: number; non2xx: number; errors: number }>(out);
    return { tool, connections, requests: r.requests, durationS: r.durationS, rps: r.requests / r.durationS, p50Ms: r.p50Us / 1000, p99Ms: r.p99Us / 1000, non2xx: r.non2xx, errors: r.errors };
  }
  return cannon({ url: target.url, connections, duration: durationS, headers: target.authorization ? { authorization: target.authorization } : {} }, connections);
}

/** A fixed number of requests (autocannon either way: wrk has no request count). */
export function runAmount(target: Target, connections: number, amount: number): Promise<LoadResult> {
  return cannon({ url: target.url, connections, amount, headers: target.authorization ? { authorization: target.authorization } : {} }, connections);
}

async function cannon(opts: Record<string, unknown>, connections: number): Promise<LoadResult> {
  const out = await run(process.execPath, [path.join(HERE, "cannon.mjs")], JSON.stringify(opts));
  const r = lastJsonLine<Omit<LoadResult, "tool" | "connections">>(out);
  return { tool: "autocannon", connections, ...r };
}
