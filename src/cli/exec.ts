import { spawn } from "node:child_process";
import type { EnvInfo } from "../control/contract.js";
import { UsageError } from "../errors.js";
import { envFor } from "./env.js";
import type { Deps } from "./io.js";

export interface ExecInput {
  profile: string;
  command: string[];
}

const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/** Run a command with the endpoint variables set and the shadowing ones removed. */
export async function run(input: ExecInput, deps: Deps): Promise<number> {
  const [cmd, ...args] = input.command;
  if (!cmd) throw new UsageError("exec needs a command: s3jit exec PROFILE -- CMD [ARGS…]");
  const info = await deps.client.get<EnvInfo>(`/v1/env/${encodeURIComponent(input.profile)}`);
  const vars = envFor(info);
  const env = { ...deps.io.env, ...vars.set };
  for (const k of vars.unset) delete env[k];
  const child = spawn(cmd, args, { stdio: "inherit", env });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const handlers = FORWARDED.map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  return new Promise<number>((resolve) => {
    child.on("error", (err: NodeJS.ErrnoException) => {
      deps.io.err(`s3jit exec: cannot run ${cmd}: ${err.code === "ENOENT" ? "command not found" : err.message}`);
      resolve(127);
    });
    child.on("exit", (code, signal) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      // Like a shell: a child killed by a signal exits 128 + its number.
      resolve(code ?? 128 + (signal ? (osSignals[signal] ?? 1) : 1));
    });
  });
}

const osSignals: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };
