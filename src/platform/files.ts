import { chmodSync, closeSync, constants, fchmodSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync, type Stats } from "node:fs";
import path from "node:path";
import { S3jitError } from "../errors.js";

/**
 * Private files: what holds a token, a window or a config is the owner's alone (0600 in a 0700
 * folder), and is replaced atomically, so a reader (or a crash) sees the old file or the new one.
 */

/** Writes `text` to `file` as 0600, atomically and durably (fsync of the file and its folder). */
export function writePrivateFile(file: string, text: string): void {
  writeFileAtomically(file, text, { mode: 0o600, dirMode: 0o700 });
}

/**
 * Makes `file` hold exactly `text`, 0600 and ours, writing it only when it does not already. For
 * files rewritten with the same bytes on every run (`s3jit env` in each new shell): the durable
 * write's four fsyncs are the dearest part of such a run. Anything else there (other bytes or
 * mode, someone else's file, a link) is replaced as writePrivateFile would.
 */
export function keepPrivateFile(file: string, text: string): void {
  if (!holdsPrivately(file, Buffer.from(text))) writePrivateFile(file, text);
}

function holdsPrivately(file: string, want: Buffer): boolean {
  let fd: number;
  try {
    // O_NOFOLLOW: a link in the file's place is never read through, and is replaced.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return false;
  }
  try {
    const st = fstatSync(fd);
    const uid = process.getuid?.();
    if (!st.isFile() || (st.mode & 0o777) !== 0o600 || (uid !== undefined && st.uid !== uid) || st.size !== want.length) return false;
    const got = Buffer.alloc(want.length + 1);
    return readSync(fd, got, 0, got.length, 0) === want.length && got.subarray(0, want.length).equals(want);
  } finally {
    closeSync(fd);
  }
}

/** Tells apart the temporary files of one process's writes (see writeFileAtomically). */
let tmpCounter = 0;

/**
 * Writes `text` to `file` with exactly `mode` (whatever the umask), atomically and durably: a
 * reader sees the old file or the new one, never half. A missing folder is created, with `dirMode`
 * where given (else the umask's default). For files others may read (a service unit); what is the
 * owner's alone goes through writePrivateFile.
 */
export function writeFileAtomically(file: string, text: string, opts: { mode: number; dirMode?: number }): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, ...(opts.dirMode !== undefined ? { mode: opts.dirMode } : {}) });
  // Same folder as the target, so the rename cannot cross file systems and is atomic. The name
  // only has to differ from every other writer's: the pid tells processes apart, the counter the
  // writes of one process, and the time an earlier process that had the same pid; "wx" refuses
  // a leftover of a crashed process rather than reuse it.
  // (No random bytes: node:crypto costs `s3jit env` ≈10 ms of start-up in every new shell.)
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.${(tmpCounter++).toString(36)}.tmp`);
  try {
    const fd = openSync(tmp, "wx", opts.mode);
    try {
      fchmodSync(fd, opts.mode); // the umask may have taken bits we want, never given ones we don't
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  syncDir(dir);
}

/**
 * Creates a folder owner-only (0700), tightening it if it already exists and is ours. A folder
 * someone else made first (XDG_RUNTIME_DIR may be a shared /tmp), or a link in its place, is
 * refused: its owner could replace the control socket or read what we write there.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  const ours = st.isDirectory() && (uid === undefined || st.uid === uid);
  if (!ours) {
    const problem = privacyProblem(dir, st, "dir")?.problem ?? "is not yours";
    throw new S3jitError(
      "InsecureFolder",
      `${dir} ${problem}: someone else made it, so s3jit will not use it. Remove it (\`sudo rm -r ${dir}\`) and start again, or set XDG_RUNTIME_DIR to a folder of your own`,
    );
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/**
 * Why the CLI must not talk to the control socket at `socket`, or null: the socket and its folder
 * must be the user's own (a neighbour's fake daemon would hand out its own URL, token and keys).
 * A missing socket or folder is no problem here: the connection then finds no daemon.
 */
export function socketProblem(socket: string): PrivacyProblem | null {
  if (process.platform === "win32") return null; // a named pipe: its ACL is the owner's
  const dir = path.dirname(socket);
  const folder = privacyProblemAt(dir, "dir");
  if (folder) return { problem: `the control socket's folder ${dir} ${folder.problem}`, fix: `sudo rm -r ${dir}, then start the daemon again (or set XDG_RUNTIME_DIR to a folder of your own)` };
  const st = lstatIfThere(socket);
  if (!st) return null;
  const uid = process.getuid?.();
  if (!st.isSocket()) return { problem: `${socket} is not a socket`, fix: `rm ${socket}, then start the daemon again` };
  if (uid !== undefined && st.uid !== uid) {
    return { problem: `the control socket ${socket} belongs to uid ${st.uid}, not to you (uid ${uid}): another user may be posing as the daemon`, fix: `sudo rm -r ${dir}, then start the daemon again` };
  }
  return null;
}

/** Makes a rename durable; some platforms cannot fsync a folder, and that is fine. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What is wrong with a file or folder that should be the owner's alone, and the command that fixes it. */
export interface PrivacyProblem {
  problem: string;
  fix: string;
}

/**
 * The one owner-only check (as ssh insists for ~/.ssh): a regular file (or a folder) that belongs
 * to this user and that group and others can neither read nor write. Null when it is private.
 * Windows has no such modes: its ACLs are the profile folder's, so nothing is checked there.
 */
export function privacyProblem(target: string, st: Stats, kind: "file" | "dir"): PrivacyProblem | null {
  if (kind === "file" ? !st.isFile() : !st.isDirectory()) {
    return { problem: `is not a regular ${kind === "file" ? "file" : "folder"}`, fix: `rm -r ${target}` };
  }
  if (process.platform === "win32") return null;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return { problem: `belongs to uid ${st.uid}, not to you (uid ${uid})`, fix: `sudo chown ${uid} ${target}` };
  if ((st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
    return { problem: `is open to group or others (mode ${mode})`, fix: `chmod ${kind === "file" ? "600" : "700"} ${target}` };
  }
  return null;
}

/** privacyProblem for a path (not following a link); a missing path is no problem (null). */
export function privacyProblemAt(target: string, kind: "file" | "dir"): PrivacyProblem | null {
  const st = lstatIfThere(target);
  return st && privacyProblem(target, st, kind);
}

/** lstat (a link is not followed), or null when nothing is there. */
function lstatIfThere(target: string): Stats | null {
  try {
    return lstatSync(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}
