import { S3jitError } from "../errors.js";
import { EXIT, type Io } from "./io.js";
import { terminalText } from "./safe-text.js";

/**
 * How a command that failed ends, the same from the full CLI and from the quick commands
 * (fast.ts): one `s3jit: …` line on stderr and the exit code. Messages quote names as typed or
 * configured, the daemon's too: shown, not obeyed (safe-text.ts).
 */
export function failed(io: Pick<Io, "err">, err: unknown): number {
  if (err instanceof S3jitError) {
    io.err(`s3jit: ${terminalText(err.message)}`);
    return err.code === "DaemonNotRunning" ? EXIT.noDaemon : EXIT.failure;
  }
  io.err(`s3jit: ${terminalText((err as Error | null)?.message ?? String(err))}`);
  return EXIT.failure;
}
