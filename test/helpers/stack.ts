import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startSandbox, type Sandbox, type SandboxOptions } from "../sandbox/server.js";
import { configToml, PROFILE_TOML } from "./config.js";

export { OTHER_PROFILE_TOML, PROFILE_TOML } from "./config.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "bin", "s3jit.js");

export interface StackOptions {
  /** Extra [profile.*] / [sso.*] TOML appended to the generated config. */
  extraToml?: string;
  /** Replace the default profile section. */
  profileToml?: string;
  keychain?: "memory" | "os";
  sandbox?: SandboxOptions;
  /** Extra environment for the daemon (e.g. a broken D-Bus address). */
  daemonEnv?: NodeJS.ProcessEnv;
  startDaemon?: boolean;
  /** The user's ~/.aws: lived-in (the default: standing keys, AWS_PROFILE) or none at all. */
  aws?: AwsHome;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Stack {
  dir: string;
  sandbox: Sandbox;
  /** The environment every s3jit process of this stack runs with (XDG folders in `dir`). */
  env: NodeJS.ProcessEnv;
  configFile: string;
  daemon?: ChildProcess;
  daemonLog: () => string;
  cli(args: string[], opts?: { env?: NodeJS.ProcessEnv; input?: string }): Promise<CliResult>;
  startDaemon(extraEnv?: NodeJS.ProcessEnv): Promise<ChildProcess>;
  stopDaemon(signal?: NodeJS.Signals): Promise<number | null>;
  /** The user's environment with exactly what `s3jit env PROFILE --json` says applied (set and unset). */
  clientEnv(profile: string): Promise<NodeJS.ProcessEnv>;
  close(): Promise<void>;
}

/** Runs a program to completion without blocking the event loop (the sandbox lives in this process). */
export function runProcess(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; input?: string; cwd?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd ?? ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}

/** The XDG folders of one s3jit user, all inside `dir` (env-paths reads these). */
export function xdgEnv(dir: string): Record<string, string> {
  return {
    XDG_CONFIG_HOME: path.join(dir, "config"),
    XDG_DATA_HOME: path.join(dir, "data"),
    XDG_STATE_HOME: path.join(dir, "state"),
    XDG_CACHE_HOME: path.join(dir, "cache"),
    XDG_RUNTIME_DIR: path.join(dir, "run"),
  };
}

/** GET the endpoint as an SDK would, retrying 503 (a mint under way) like the SDKs do. */
export async function fetchCredentials(url: string, token: string, attempts = 60): Promise<{ status: number; body: Record<string, string> }> {
  for (let i = 0; ; i++) {
    const res = await fetch(url, { headers: { authorization: token } });
    const body = (await res.json()) as Record<string, string>;
    if (res.status !== 503 || i >= attempts) return { status: res.status, body };
    await new Promise((r) => setTimeout(r, 150));
  }
}

/**
 * The environment a child starts from: the test runner's, minus anything that points at AWS, at
 * other s3jit folders or at another s3jit config (AWS_*, XDG_*, S3JIT_*). The rest passes, D-Bus's
 * session address included (keychain = "os" tests need the real Secret Service).
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("AWS_") || k.startsWith("XDG_") || k.startsWith("S3JIT_")) continue;
    env[k] = v;
  }
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  return env;
}

/**
 * The user's own AWS setup, as s3jit meets it on a laptop: `aws configure`'s static keys in
 * ~/.aws/credentials for [default] and [work], a region for each in ~/.aws/config, and
 * AWS_PROFILE=work in the shell. Every source of it comes before s3jit's endpoint in the SDKs'
 * chains, so a client that signs with the daemon's session proves `s3jit env`/`exec` kept it away.
 * [profile work]'s region is the buckets' (the sandbox S3 refuses a signature for another
 * region), [default]'s is not: a read also proves the settings of AWS_PROFILE's profile reached
 * the client. "none": no ~/.aws and no AWS_PROFILE.
 */
export type AwsHome = "lived-in" | "none";

/** The standing key ids: shaped like real ones (AKIA + 16) but spelled in parts, so no secret scanner takes this file for a leak. */
export const STANDING_KEY_IDS = { default: "AKIA" + "LIVEDINDEFAULT00", work: "AKIA" + "LIVEDINWORK00000" } as const;
export const LIVED_IN_PROFILE = "work";

function livedInAws(home: string): NodeJS.ProcessEnv {
  const aws = path.join(home, ".aws");
  mkdirSync(aws, { recursive: true, mode: 0o700 });
  const keys = (profile: keyof typeof STANDING_KEY_IDS) => `[${profile}]\naws_access_key_id = ${STANDING_KEY_IDS[profile]}\naws_secret_access_key = standing-secret-of-${profile}\n`;
  writeFileSync(path.join(aws, "credentials"), `${keys("default")}\n${keys("work")}`, { mode: 0o600 });
  writeFileSync(path.join(aws, "config"), `[default]\nregion = us-east-2\noutput = json\n\n[profile ${LIVED_IN_PROFILE}]\nregion = eu-west-1\n`, { mode: 0o600 });
  return { AWS_PROFILE: LIVED_IN_PROFILE };
}

/** One s3jit user's world: its environment, its config file and its control socket. */
export interface World {
  env: NodeJS.ProcessEnv;
  configFile: string;
  socket: string;
}

/**
 * Makes `dir` one s3jit user's world: HOME (`dir/home`, with a lived-in ~/.aws unless `aws` is
 * "none") and every XDG folder inside it, the AWS endpoints at the sandbox, loopback never through
 * a proxy, and `toml` as its config.toml (0600, where `s3jit init` puts it). The environment starts
 * from `base`, which must hold nothing of AWS_*, XDG_* or S3JIT_* (cleanEnv()).
 */
export function userWorld(dir: string, sandboxUrl: string, toml: string, base: NodeJS.ProcessEnv = cleanEnv(), aws: AwsHome = "lived-in"): World {
  const env: NodeJS.ProcessEnv = {
    ...base,
    HOME: path.join(dir, "home"),
    ...xdgEnv(dir),
    AWS_ENDPOINT_URL_STS: sandboxUrl,
    AWS_ENDPOINT_URL_SSO: sandboxUrl,
    AWS_ENDPOINT_URL_SSO_OIDC: sandboxUrl,
    // Every request of this world goes to 127.0.0.1; a user's proxy (botocore honours one) must not take it.
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
  };
  for (const k of ["HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR"]) mkdirSync(env[k]!, { recursive: true, mode: 0o700 });
  if (aws === "lived-in") Object.assign(env, livedInAws(env.HOME!));
  const configFile = path.join(dir, "config", "s3jit", "config.toml");
  mkdirSync(path.dirname(configFile), { recursive: true, mode: 0o700 });
  writeFileSync(configFile, toml, { mode: 0o600 });
  return { env, configFile, socket: path.join(env.XDG_RUNTIME_DIR!, "s3jit", "control.sock") };
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  // Short folder names: the control socket path must stay under the 108-byte unix limit.
  const dir = mkdtempSync(path.join(tmpdir(), "s3jit-"));
  const sandbox = await startSandbox({ autoApprove: true, ...opts.sandbox });
  const world = userWorld(dir, sandbox.url, configToml({ keychain: opts.keychain ?? "memory", profiles: (opts.profileToml ?? PROFILE_TOML) + (opts.extraToml ?? "") }), cleanEnv(), opts.aws);
  // Each stack has its own keychain items, so parallel test files never share them.
  const env: NodeJS.ProcessEnv = { ...world.env, S3JIT_KEYCHAIN_SERVICE: `s3jit-test-${path.basename(dir)}` };
  const { configFile, socket } = world;

  let daemon: ChildProcess | undefined;
  let log = "";
  const run = (args: string[], o: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> =>
    runProcess(process.execPath, [CLI, ...args], { env: { ...env, ...o.env }, ...(o.input !== undefined ? { input: o.input } : {}) });

  const stack: Stack = {
    dir,
    sandbox,
    env,
    configFile,
    get daemon() {
      return daemon;
    },
    daemonLog: () => log,
    cli: run,
    async startDaemon(extraEnv = {}) {
      log = "";
      const child = spawn(process.execPath, [CLI, "daemon"], { env: { ...env, ...opts.daemonEnv, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
      daemon = child;
      // The daemon says it is ready once its control socket listens (src/daemon/compose.ts); an
      // exit before that line is a failed start. No deadline of ours: the hook's timeout is the bound.
      const ready = `, control socket ${socket}\n`;
      await new Promise<void>((resolve, reject) => {
        const seen = (d: Buffer) => {
          log += d.toString();
          if (log.includes(ready)) resolve();
        };
        child.stdout!.on("data", (d: Buffer) => (log += d.toString()));
        child.stderr!.on("data", seen);
        child.once("error", reject);
        child.once("exit", (code, signal) => reject(new Error(`daemon exited (${signal ?? code}) before it was ready: ${log}`)));
      });
      return child;
    },
    async stopDaemon(signal = "SIGTERM") {
      const child = daemon;
      if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
      const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      child.kill(signal);
      const code = await exited;
      daemon = undefined;
      return code;
    },
    async clientEnv(profile) {
      const r = await run(["env", profile, "--json"]);
      if (r.code !== 0) throw new Error(`s3jit env failed: ${r.stderr}`);
      const vars = JSON.parse(r.stdout) as { set: Record<string, string>; unset: string[] };
      // The user's own shell, lived-in ~/.aws and AWS_PROFILE included: only `env` may keep them away.
      const e: NodeJS.ProcessEnv = { ...env, ...vars.set };
      for (const k of vars.unset) delete e[k];
      return e;
    },
    async close() {
      await stack.stopDaemon("SIGTERM").catch(() => {});
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (opts.startDaemon !== false) await stack.startDaemon();
  return stack;
}
