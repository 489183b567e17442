/**
 * The benchmark's s3jit: the local AWS sandbox in this process and a real daemon child process
 * (dist/, as installed) in a temporary XDG tree, as test/helpers/stack.ts does, trimmed to what the
 * benchmark measures: start-to-ready, the control socket, the endpoint and the daemon's pid.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startSandbox, type Sandbox } from "../../test/sandbox/server.js";
import { AUDIT, configToml, profileToml } from "../../test/helpers/config.js";
import { runProcess, userWorld, type CliResult } from "../../test/helpers/stack.js";
import { controlClient } from "../../src/control/client.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "bin", "s3jit.js");
export const PROFILE = "audit";

// The test stack's `audit` profile; sessions as long as the bench's windows.
const CONFIG = configToml({ profiles: profileToml(PROFILE, { ...AUDIT, session_ttl: "2h" }) });

export interface BenchStack {
  dir: string;
  sandbox: Sandbox;
  env: NodeJS.ProcessEnv;
  daemon: ChildProcess;
  /** spawn → the control socket answered GET /v1/status. */
  startToReadyMs: number;
  control<T>(method: "GET" | "POST", urlPath: string, body?: unknown): Promise<T>;
  cli(args: string[]): Promise<Timed>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Extra node flags for the daemon (e.g. --cpu-prof). */
  nodeFlags?: string[];
}

export type Timed = CliResult & { ms: number };

/** Runs a program to completion and times it, spawn to exit. */
export async function timedRun(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<Timed> {
  const t = performance.now();
  const r = await runProcess(cmd, args, opts);
  return { ...r, ms: performance.now() - t };
}

export async function startBenchStack(opts: StackOptions = {}): Promise<BenchStack> {
  // Short folder names: the control socket path must stay under the 108-byte unix limit.
  const dir = mkdtempSync(path.join(tmpdir(), "s3jit-b-"));
  const sandbox = await startSandbox({ autoApprove: true });
  const { env, socket } = userWorld(dir, sandbox.url, CONFIG);

  const client = controlClient(socket);
  const control = <T>(method: "GET" | "POST", urlPath: string, body?: unknown) => (method === "GET" ? client.get<T>(urlPath) : client.post<T>(urlPath, body));

  let log = "";
  const t0 = performance.now();
  const daemon = spawn(process.execPath, [...(opts.nodeFlags ?? []), CLI, "daemon"], { env, cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  daemon.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  daemon.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  // Polled every 5 ms straight on the socket (not through the CLI, whose own start would dominate).
  let startToReadyMs: number;
  for (const deadline = Date.now() + 30_000; ; ) {
    if (daemon.exitCode !== null) throw new Error(`daemon exited ${daemon.exitCode}: ${log}`);
    const ok = await control("GET", "/v1/status").then(
      () => true,
      () => false,
    );
    if (ok) {
      startToReadyMs = performance.now() - t0;
      break;
    }
    if (Date.now() > deadline) throw new Error(`daemon did not become ready: ${log}`);
    await new Promise((r) => setTimeout(r, 5));
  }

  const cli = (args: string[]) => timedRun(process.execPath, [CLI, ...args], { env, cwd: dir });

  return {
    dir,
    sandbox,
    env,
    daemon,
    startToReadyMs,
    control,
    cli,
    async close() {
      if (daemon.exitCode === null && daemon.signalCode === null) {
        const exited = new Promise((r) => daemon.once("exit", r));
        daemon.kill("SIGTERM");
        await exited;
      }
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
