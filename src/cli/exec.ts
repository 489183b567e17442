import { spawn, type ChildProcess } from "node:child_process";
import type { EnvInfo } from "../control/contract.js";
import { IsolationError } from "../config/shadowing.js";
import { UsageError } from "../errors.js";
import { sessionEnv, type SessionEnv } from "./env.js";
import { EXIT, type Deps } from "./io.js";
import { terminalText } from "./safe-text.js";

export interface ExecInput {
  profile: string;
  command: string[];
  /** Where the session's own AWS config files go (default: "aws" in s3jit's runtime folder). */
  awsDir?: string;
}

const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/** Run a command with the endpoint variables set and everything that would shadow them out of the way, or not at all. */
export async function run(input: ExecInput, deps: Deps): Promise<number> {
  const [cmd, ...args] = input.command;
  if (!cmd) throw new UsageError("exec needs a command: s3jit exec PROFILE -- CMD [ARGS…]");
  const info = await deps.client.get<EnvInfo>(`/v1/env/${encodeURIComponent(input.profile)}`);
  let vars: SessionEnv;
  try {
    vars = sessionEnv(info, deps.io.env, { awsDir: input.awsDir });
  } catch (err) {
    // Never run the command with credentials other than the session's: say why, run nothing.
    if (!(err instanceof IsolationError)) throw err;
    deps.io.err(`s3jit exec: not running ${terminalText(cmd)}: it could get other credentials than profile ${terminalText(input.profile)}'s session: ${terminalText(err.message)}`);
    return EXIT.failure;
  }
  const env = { ...deps.io.env, ...vars.set };
  for (const k of vars.unset) delete env[k];
  // Handlers first: a signal that arrives while the command starts (it may print before spawn()
  // returns here on a busy machine) must not kill s3jit with its default action and orphan the
  // command. A handler runs on the event loop, after spawn() has set `child`.
  const running: { child?: ChildProcess } = {};
  const forward = (sig: NodeJS.Signals) => () => void running.child?.kill(sig);
  const handlers = FORWARDED.map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  const child = spawn(cmd, args, { stdio: "inherit", env });
  running.child = child;
  return new Promise<number>((resolve) => {
    child.on("error", (err: NodeJS.ErrnoException) => {
      deps.io.err(`s3jit exec: cannot run ${terminalText(cmd)}: ${err.code === "ENOENT" ? "command not found" : terminalText(err.message)}`);
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
