import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ManualClock } from "../../src/clock.js";
import { startDaemon, type RunningDaemon } from "../../src/daemon/compose.js";
import { controlClient, type ControlClient } from "../../src/control/client.js";
import type { StatusReport } from "../../src/control/contract.js";
import { startSandbox, type Sandbox } from "../sandbox/server.js";
import { configToml, PROFILE_TOML } from "../helpers/config.js";
import { xdgEnv } from "../helpers/stack.js";

/**
 * The daemon in this process with a clock the test moves (the sandbox shares it), so "an hour
 * later" takes no time, and the state changes of the control API can be driven one by one. The
 * file that uses it owns process.env while it runs (vitest isolates test files).
 */
export interface InProcess {
  dir: string;
  clock: ManualClock;
  sandbox: Sandbox;
  daemon: RunningDaemon;
  client: ControlClient;
  configFile: string;
  stateFile: string;
  daemonLog: string[];
  /** Writes config.toml with these profile sections (after [daemon] and [sso.corp]). */
  writeConfig(profiles: string): void;
  status(): Promise<StatusReport>;
  /** The audit log's lines so far (once the file stops growing). */
  audit(): Promise<Array<{ event: string } & Record<string, unknown>>>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Points a daemon started in this process at `dir` (its XDG folders, the runtime one made 0700)
 * and at the sandbox (the SDK's endpoint variables). The caller saves and restores process.env.
 */
export function pointDaemonAt(dir: string, sandbox: Sandbox): void {
  Object.assign(process.env, {
    ...xdgEnv(dir),
    AWS_ENDPOINT_URL_STS: sandbox.url,
    AWS_ENDPOINT_URL_SSO: sandbox.url,
    AWS_ENDPOINT_URL_SSO_OIDC: sandbox.url,
  });
  mkdirSync(path.join(dir, "run"), { recursive: true, mode: 0o700 });
}

export async function startInProcess(profiles = PROFILE_TOML): Promise<InProcess> {
  const saved = { ...process.env };
  const clock = new ManualClock(Date.now());
  const dir = mkdtempSync(path.join(tmpdir(), "s3jit-ip-"));
  const sandbox = await startSandbox({ autoApprove: true, now: () => clock.now() });
  pointDaemonAt(dir, sandbox);
  const configFile = path.join(dir, "config.toml");
  const auditFile = path.join(dir, "state", "s3jit", "audit.log");
  const daemonLog: string[] = [];
  const start = () => startDaemon({ configFile, clock, log: (l) => daemonLog.push(l) });
  const writeConfig = (p: string) => writeFileSync(configFile, configToml({ profiles: p }));
  writeConfig(profiles);
  const client = controlClient(path.join(dir, "run", "s3jit", "control.sock"));
  const ip: InProcess = {
    dir,
    clock,
    sandbox,
    daemon: await start(),
    client,
    configFile,
    stateFile: path.join(dir, "data", "s3jit", "state.json"),
    daemonLog,
    writeConfig,
    status: () => client.get<StatusReport>("/v1/status"),
    async audit() {
      // pino writes asynchronously: read until the file stops growing (a loaded machine may lag).
      let text = "";
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setTimeout(r, 25));
        const next = readFileSync(auditFile, "utf8");
        if (next === text) break;
        text = next;
      }
      return text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { event: string } & Record<string, unknown>);
    },
    async restart() {
      await ip.daemon.stop();
      ip.daemon = await start();
    },
    async close() {
      await ip.daemon.stop().catch(() => {});
      await sandbox.close();
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return ip;
}

/** Logs `corp` in through the control API, as `s3jit login` does. */
export async function login(ip: InProcess): Promise<void> {
  await ip.client.post("/v1/login", {});
  await ip.client.post("/v1/login/wait", { sso: "corp" });
}

/** startInProcess, then login: the daemon most race tests begin from. */
export async function startLoggedIn(profiles?: string): Promise<InProcess> {
  const ip = await startInProcess(profiles);
  await login(ip);
  return ip;
}

/**
 * Makes `file` impossible to replace whoever runs the test (root ignores a read-only folder): a
 * non-empty folder where the file should be, so rename() onto it fails with EISDIR. Returns what
 * puts things back (the file is gone then; the daemon writes it anew).
 */
export function blockFile(file: string): () => void {
  rmSync(file, { force: true });
  mkdirSync(path.join(file, "x"), { recursive: true });
  return () => rmSync(file, { recursive: true, force: true });
}
