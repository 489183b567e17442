/** What the service tests share: a HOME with awkward characters, its folders, a recording runner. */
import { mkdtempSync, realpathSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathsIn, type Paths } from "../../src/paths.js";
import type { CommandRunner, RunResult } from "../../src/service/platform.js";

/** A temporary HOME whose name holds a space and a `%`, so every test exercises escaping. */
export function tempHome(): string {
  return path.join(realpathSync(mkdtempSync(path.join(os.tmpdir(), "s3jit svc "))), "home 100% & <me>");
}

/** The folders env-paths would give under `home` on Linux, without touching process.env. */
export function pathsUnder(home: string): Paths {
  return pathsIn({
    config: path.join(home, ".config", "s3jit"),
    data: path.join(home, ".local", "share", "s3jit"),
    cache: path.join(home, ".cache", "s3jit"),
    log: path.join(home, ".local", "state", "s3jit"),
    runtime: path.join(home, "run", "s3jit"),
  });
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
