import envPaths from "env-paths";
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

/** The folders s3jit's files live in; the files' names inside them are pathsIn's alone. */
export type Folders = Pick<Paths, "config" | "data" | "cache" | "log" | "runtime">;

/** Every file's place inside `folders`; the config file is `configFile` where one is named. */
export function pathsIn(folders: Folders, configFile?: string): Paths {
  return {
    ...folders,
    configFile: configFile ?? path.join(folders.config, "config.toml"),
    socket: path.join(folders.runtime, "control.sock"),
    tokens: path.join(folders.data, "tokens"),
    stateFile: path.join(folders.data, "state.json"),
    auditLog: path.join(folders.log, "audit.log"),
    pidFile: path.join(folders.runtime, "daemon.pid"),
  };
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): Paths {
  // env-paths reads process.env itself; tests that pass another env run in a child process.
  const p = envPaths("s3jit", { suffix: "" });
  const runtime = env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, "s3jit") : p.data;
  return pathsIn({ config: p.config, data: p.data, cache: p.cache, log: p.log, runtime }, env.S3JIT_CONFIG ? path.resolve(env.S3JIT_CONFIG) : undefined);
}

export function homeDir(): string {
  return os.homedir();
}
