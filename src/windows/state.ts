import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { S3jitError } from "../errors.js";
import { privacyProblemAt, writePrivateFile } from "../platform/files.js";
import { WindowBook, WindowStateError, type GrantRequest, type Window, type WindowRules } from "./windows.js";

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
  writePrivateFile(file, `${JSON.stringify({ version: VERSION, windows, checksum: checksum(windows) })}\n`);
}

/**
 * Loads the windows saved in `file` into `book`, dropping those that have ended; returns how many
 * are open. A missing file is no windows. A file that is corrupt or edited by hand throws
 * WindowStateError and leaves `book` as it was: the daemon reports it and starts with no windows.
 * A file that is not the owner's alone (another user's, open to others, a link) throws InsecureFile:
 * like ssh with a private key, the daemon then refuses to start and names the fix, since someone
 * else may have written it. Loaded windows keep their end: loading never extends one.
 */
export function loadWindows(file: string, book: WindowBook, now: number): number {
  const fail = (why: string): never => {
    throw new WindowStateError(`the window state file ${file} ${why}; it is ignored and every window starts closed (run \`s3jit grant\` again)`);
  };
  const insecure = privacyProblemAt(file, "file");
  if (insecure) throw new S3jitError("InsecureFile", `${file} ${insecure.problem}: other users may have read or changed it. Run \`${insecure.fix}\` and start again`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
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

/**
 * The windows as the daemon holds them: the rules of WindowBook, kept in `file` across restarts.
 * Every change is written before it is returned.
 */
export class WindowState {
  private book = new WindowBook();

  constructor(readonly file: string) {}

  /** Loads the saved windows (see loadWindows); returns how many are open. */
  load(now: number): number {
    return loadWindows(this.file, this.book, now);
  }

  get(profile: string, now: number): Window | null {
    return this.book.get(profile, now);
  }

  grant(profile: string, req: GrantRequest, cfg: WindowRules, now: number): Window {
    return this.change((book) => book.grant(profile, req, cfg, now));
  }

  onDemand(profile: string, cfg: WindowRules, now: number): Window {
    if (this.book.get(profile, now)) return this.book.onDemand(profile, cfg, now);
    return this.change((book) => book.onDemand(profile, cfg, now));
  }

  revoke(profile: string, now: number): Window | null {
    return this.change((book) => book.revoke(profile, now));
  }

  /** WindowBook.restrict, saved when anything changed; returns the profiles whose window changed. */
  restrict(rulesFor: (profile: string) => WindowRules | undefined, now: number): string[] {
    const changed = this.book.restrict(rulesFor, now);
    if (changed.length > 0) saveWindows(this.file, this.book);
    return changed;
  }

  private change<T>(apply: (book: WindowBook) => T): T {
    const result = apply(this.book);
    saveWindows(this.file, this.book);
    return result;
  }
}
