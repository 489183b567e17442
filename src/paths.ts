import envPaths from "env-paths";
import { mkdirSync, chmodSync } from "node:fs";
import path from "node:path";
import os from "node:os";

/**
 * Where s3jit keeps its files. env-paths honours XDG_* on Linux, so tests move everything into a
 * temporary folder by setting XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME, XDG_CACHE_HOME and
 * XDG_RUNTIME_DIR.
 */
export interface Paths {
  config: string;
  data: string;
  cache: string;
  log: string;
  /** Folder of the control socket: XDG_RUNTIME_DIR/s3jit where there is one, else the data folder. */
  runtime: string;
  configFile: string;
  socket: string;
  tokens: string;
  stateFile: string;
  auditLog: string;
  pidFile: string;
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): Paths {
  // env-paths reads process.env itself; tests that pass another env run in a child process.
  const p = envPaths("s3jit", { suffix: "" });
  const runtime = env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, "s3jit") : p.data;
  return {
    config: p.config,
    data: p.data,
    cache: p.cache,
    log: p.log,
    runtime,
    configFile: env.S3JIT_CONFIG ? path.resolve(env.S3JIT_CONFIG) : path.join(p.config, "config.toml"),
    socket: path.join(runtime, "control.sock"),
    tokens: path.join(p.data, "tokens"),
    stateFile: path.join(p.data, "state.json"),
    auditLog: path.join(p.log, "audit.log"),
    pidFile: path.join(runtime, "daemon.pid"),
  };
}

/** Create a folder owner-only (0700), tightening it if it already exists. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

export function homeDir(): string {
  return os.homedir();
}
