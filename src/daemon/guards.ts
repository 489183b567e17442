import { existsSync } from "node:fs";
import { S3jitError } from "../errors.js";
import type { Audit } from "../audit/audit.js";
import { controlClient } from "../control/client.js";
import type { StatusReport } from "../control/contract.js";
import { WindowStateError } from "../windows/windows.js";

/**
 * Start-up checks: what must hold before the daemon serves anything.
 */

/** A second daemon for the same user would fight over the socket: name the first one's pid. */
export async function refuseSecondDaemon(socket: string): Promise<void> {
  if (!existsSync(socket)) return;
  try {
    const st = await controlClient(socket, 2000).get<StatusReport>("/v1/status");
    throw new S3jitError("AlreadyRunning", `another s3jit daemon is already running (pid ${st.daemon.pid}); stop it first`);
  } catch (err) {
    if (err instanceof S3jitError && err.code === "AlreadyRunning") throw err;
    // Nobody answers: a stale socket from a daemon that died; createControlServer replaces it.
  }
}

/**
 * Restores the persisted windows, with one outcome per kind of problem:
 * - a file that is not the owner's alone (another user's, open to others, a link) stops the start
 *   (InsecureFile names the fix): someone else may have written it, and the user must know;
 * - a damaged or hand-edited file must not open (or extend) anything: every window starts closed,
 *   and the returned warning says why (`status` shows it).
 */
export function restoreWindows(load: () => unknown, audit: Audit, log: (line: string) => void): string | null {
  try {
    load();
    return null;
  } catch (err) {
    if (!(err instanceof WindowStateError)) throw err;
    log(`s3jit: ignoring the window state file: ${err.message}`);
    audit.record("error", { what: "window state refused", detail: err.message });
    return `the window state file was refused, so every window starts closed: ${err.message}`;
  }
}
