import { createHash, randomBytes } from "node:crypto";
import { closeSync, fchmodSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { WindowStateError, type Window, type WindowBook } from "./windows.js";

/**
 * The window state file keeps open windows across a daemon restart:
 *   {"version":1,"windows":[…],"checksum":"<sha256 of {version, windows}>"}
 * The checksum is not a signature (anyone who can write the file can recompute it); it catches a
 * hand edit or a torn file, so neither can open or stretch a window unnoticed. Other users are
 * kept out by the file's 0600 mode, which loading insists on.
 */
const VERSION = 1;

function checksum(windows: unknown): string {
  return createHash("sha256").update(JSON.stringify({ version: VERSION, windows })).digest("hex");
}

/** Writes every window of `book` to `file` (0600), atomically: readers see the old file or the new one. */
export function saveWindows(file: string, book: WindowBook): void {
  const windows: Window[] = book.toJSON();
  const text = `${JSON.stringify({ version: VERSION, windows, checksum: checksum(windows) })}\n`;
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Same folder as the target, so the rename cannot cross file systems and is atomic.
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const fd = openSync(tmp, "wx", 0o600);
    try {
      fchmodSync(fd, 0o600); // the umask may have taken bits we want, never given ones we don't
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

/** Makes the rename itself durable; some platforms cannot fsync a folder, and that is fine. */
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

/**
 * Loads the windows saved in `file` into `book`, dropping those that have ended; returns how many
 * are open. A missing file is no windows. A file that is corrupt, edited by hand, not owner-only or
 * not ours throws WindowStateError and leaves `book` as it was: the daemon reports it and starts
 * with no windows. Loaded windows keep their end: loading never extends one.
 */
export function loadWindows(file: string, book: WindowBook, now: number): number {
  const fail = (why: string): never => {
    throw new WindowStateError(`the window state file ${file} ${why}; it is ignored and every window starts closed (run \`s3jit grant\` again)`);
  };
  let stat;
  try {
    stat = lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw err;
  }
  if (!stat.isFile()) fail("is not a regular file");
  if (process.platform !== "win32") {
    if (typeof process.getuid === "function" && stat.uid !== process.getuid()) fail("belongs to another user");
    if ((stat.mode & 0o077) !== 0) fail(`has mode ${(stat.mode & 0o777).toString(8).padStart(4, "0")}, not 0600 (owner only)`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    fail("is not valid JSON (damaged?)");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return fail("is not a JSON object");
  const { version, windows, checksum: sum, ...rest } = doc as Record<string, unknown>;
  if (Object.keys(rest).length > 0) fail(`has an unknown field "${Object.keys(rest)[0]}"`);
  if (version !== VERSION) fail(`has version ${JSON.stringify(version ?? null)}, not ${VERSION}`);
  if (typeof sum !== "string") fail("has no checksum");
  if (sum !== checksum(windows)) fail("does not match its checksum (edited by hand, or damaged)");
  try {
    book.fromJSON(windows, now);
  } catch (err) {
    if (err instanceof WindowStateError) fail(`holds an invalid window: ${err.message}`);
    throw err;
  }
  return book.toJSON().length;
}
