/**
 * The benchmark's s3jit: the local AWS sandbox in this process and a real daemon child process
 * (dist/, as installed) in a temporary XDG tree, as test/helpers/stack.ts does, trimmed to what the
 * benchmark measures: start-to-ready, the control socket, the endpoint and the daemon's pid.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startSandbox, type Sandbox } from "../../test/sandbox/server.js";
import { cleanEnv, xdgEnv } from "../../test/helpers/stack.js";
import { controlClient } from "../../src/control/client.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "bin", "s3jit.js");
export const PROFILE = "audit";

const CONFIG = `[daemon]
port = 0
keychain = "memory"

[sso.corp]
start_url = "https://corp.awsapps.com/start"
region = "eu-west-1"

[profile.${PROFILE}]
sso = "corp"
account_id = "123456789012"
sso_role = "S3JitBase"
region = "eu-west-1"
scope = ["audit-logs/2026/", "reports"]
window = "30m"
max_window = "2h"
session_ttl = "2h"
`;

export interface BenchStack {
  dir: string;
  sandbox: Sandbox;
  env: NodeJS.ProcessEnv;
  daemon: ChildProcess;
  /** spawn → the control socket answered GET /v1/status. */
  startToReadyMs: number;
  control<T>(method: "GET" | "POST", urlPath: string, body?: unknown): Promise<T>;
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Extra node flags for the daemon (e.g. --cpu-prof). */
  nodeFlags?: string[];
}

export { cleanEnv };

export async function startBenchStack(opts: StackOptions = {}): Promise<BenchStack> {
  // Short folder names: the control socket path must stay under the 108-byte unix limit.
  const dir = mkdtempSync(path.join(tmpdir(), "s3jit-b-"));
  const sandbox = await startSandbox({ autoApprove: true });
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    HOME: path.join(dir, "home"),
    ...xdgEnv(dir),
    AWS_ENDPOINT_URL_STS: sandbox.url,
    AWS_ENDPOINT_URL_SSO: sandbox.url,
    AWS_ENDPOINT_URL_SSO_OIDC: sandbox.url,
  };
  for (const k of ["HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR"]) mkdirSync(env[k]!, { recursive: true, mode: 0o700 });
  const configFile = path.join(dir, "config", "s3jit", "config.toml");
  mkdirSync(path.dirname(configFile), { recursive: true, mode: 0o700 });
  writeFileSync(configFile, CONFIG, { mode: 0o600 });
  const socket = path.join(env.XDG_RUNTIME_DIR!, "s3jit", "control.sock");

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

  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string; ms: number }>((resolve, reject) => {
      const t = performance.now();
      const child = spawn(process.execPath, [CLI, ...args], { env, cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - t }));
    });

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
