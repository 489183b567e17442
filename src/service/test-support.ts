import { mkdtempSync, realpathSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Paths } from "../paths.js";
import type { CommandRunner, RunResult } from "./platform.js";

/** A temporary HOME whose name holds a space and a `%`, so every test exercises escaping. */
export function tempHome(): string {
  return path.join(realpathSync(mkdtempSync(path.join(os.tmpdir(), "s3jit svc "))), "home 100% & <me>");
}

/** The folders env-paths would give under `home` on Linux, without touching process.env. */
export function pathsUnder(home: string): Paths {
  const config = path.join(home, ".config", "s3jit");
  const data = path.join(home, ".local", "share", "s3jit");
  const log = path.join(home, ".local", "state", "s3jit");
  const runtime = path.join(home, "run", "s3jit");
  return {
    config,
    data,
    cache: path.join(home, ".cache", "s3jit"),
    log,
    runtime,
    configFile: path.join(config, "config.toml"),
    socket: path.join(runtime, "control.sock"),
    tokens: path.join(data, "tokens"),
    stateFile: path.join(data, "state.json"),
    auditLog: path.join(log, "audit.log"),
    pidFile: path.join(runtime, "daemon.pid"),
  };
}

/** Records every command and answers from `answer` (default: success, no output). */
export function recordingRunner(answer: (argv: readonly string[]) => Partial<RunResult> | undefined = () => undefined): CommandRunner & { calls: string[][] } {
  const calls: string[][] = [];
  const run = async (argv: readonly string[]): Promise<RunResult> => {
    calls.push([...argv]);
    return { code: 0, stdout: "", stderr: "", ...answer(argv) };
  };
  return Object.assign(run, { calls });
}
