/**
 * The benchmark's s3jit: the local AWS sandbox in this process and a real daemon child process
 * (dist/, as installed) in a temporary XDG tree, as test/helpers/stack.ts does, trimmed to what the
 * benchmark measures: start-to-ready, the control socket, the endpoint and the daemon's pid.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
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

// The test stack's `audit` profile; sessions as long as the bench's windows. The port is fixed per
// stack (a free one picked first), so the benchmark can watch the endpoint come up.
const config = (port: number) => configToml({ port, profiles: profileToml(PROFILE, { ...AUDIT, session_ttl: "2h" }) });

/** The node flags the systemd unit starts the daemon with (between {{NODE}} and {{CLI}} in ExecStart). */
const DAEMON_NODE_FLAGS = (() => {
  const unit = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "../../systemd/s3jit.service"), "utf8");
  const m = /^ExecStart=\{\{NODE\}\}(.*?)\{\{CLI\}\}/m.exec(unit);
  return (m?.[1] ?? "").trim().split(/\s+/).filter(Boolean);
})();

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Any HTTP answer from the endpoint (401 without a token is an answer: it is up). */
function endpointAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: `/v1/credentials/${PROFILE}`, agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on("error", () => resolve(false));
  });
}

export interface BenchStack {
  dir: string;
  sandbox: Sandbox;
  env: NodeJS.ProcessEnv;
  daemon: ChildProcess;
  /** spawn → the control socket answered GET /v1/status. */
  startToReadyMs: number;
  /** spawn → the credentials endpoint answered an HTTP request. */
  startToEndpointMs: number;
  port: number;
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
  const port = await freePort();
  const { env, socket } = userWorld(dir, sandbox.url, config(port));

  const client = controlClient(socket);
  const control = <T>(method: "GET" | "POST", urlPath: string, body?: unknown) => (method === "GET" ? client.get<T>(urlPath) : client.post<T>(urlPath, body));

  let log = "";
  const t0 = performance.now();
  // As the service templates start it (launchd/systemd ExecStart): with the daemon's V8 flags.
  const daemon = spawn(process.execPath, [...DAEMON_NODE_FLAGS, ...(opts.nodeFlags ?? []), CLI, "daemon"], { env, cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  daemon.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  daemon.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  // Both polled every 5 ms, the control socket straight (not through the CLI, whose own start would
  // dominate) and the endpoint over HTTP, each on its own loop so neither delays the other.
  const deadline = Date.now() + 30_000;
  const until = async (probe: () => Promise<boolean>): Promise<number> => {
    for (;;) {
      if (daemon.exitCode !== null) throw new Error(`daemon exited ${daemon.exitCode}: ${log}`);
      if (await probe()) return performance.now() - t0;
      if (Date.now() > deadline) throw new Error(`daemon did not become ready: ${log}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const controlAnswers = () =>
    control("GET", "/v1/status").then(
      () => true,
      () => false,
    );
  const [startToReadyMs, startToEndpointMs] = await Promise.all([until(controlAnswers), until(() => endpointAnswers(port))]);

  const cli = (args: string[]) => timedRun(process.execPath, [CLI, ...args], { env, cwd: dir });

  return {
    dir,
    sandbox,
    env,
    daemon,
    startToReadyMs,
    startToEndpointMs,
    port,
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
