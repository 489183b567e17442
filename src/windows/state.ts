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

/** The state file could not be written; says what became of the change. */
export class StateWriteError extends S3jitError {
  constructor(
    readonly file: string,
    cause: unknown,
    outcome: string,
  ) {
    const why = (cause as NodeJS.ErrnoException | null)?.code ?? (cause instanceof Error ? cause.message : String(cause));
    super("StateWriteFailed", `could not write the window state file ${file} (${why}): ${outcome}. Free some space, or make the file and its folder writable by you`);
  }
}

/** A change of the windows, checked and saved but not yet in effect (reload applies it with the new config). */
export interface PlannedChange {
  /** Profiles whose window the change cuts or closes. */
  changed: string[];
  /** Puts the change into effect; saving it was tried when it was planned. */
  apply(): void;
}

/**
 * The windows as the daemon holds them: the rules of WindowBook, kept in `file` across restarts.
 * A change that opens or extends a window is saved before it takes effect, and refused (nothing
 * changes) when it cannot be saved: after a restart the daemon must never hold less than it
 * promised, nor more than the file says. A change that closes or cuts windows (revoke, a stricter
 * config) takes effect even when it cannot be saved: rolling it back would keep open what the user
 * just closed. Its failure is kept in `unsaved` (the caller reports it) and every later save,
 * and the one at stop, writes it again.
 */
export class WindowState {
  private book = new WindowBook();
  private failure: StateWriteError | null = null;

  constructor(readonly file: string) {}

  /** Loads the saved windows (see loadWindows); returns how many are open. */
  load(now: number): number {
    return loadWindows(this.file, this.book, now);
  }

  /** The last narrowing change that could not be saved, until a later save succeeds. */
  get unsaved(): StateWriteError | null {
    return this.failure;
  }

  get(profile: string, now: number): Window | null {
    return this.book.get(profile, now);
  }

  grant(profile: string, req: GrantRequest, cfg: WindowRules, now: number): Window {
    return this.widen((book) => book.grant(profile, req, cfg, now));
  }

  onDemand(profile: string, cfg: WindowRules, now: number): Window {
    const open = this.book.get(profile, now);
    return open ?? this.widen((book) => book.onDemand(profile, cfg, now));
  }

  revoke(profile: string, now: number): Window | null {
    const next = this.book.clone();
    const closed = next.revoke(profile, now);
    this.narrow(next);
    return closed;
  }

  /** WindowBook.restrict, in effect and saved at once; returns the profiles whose window changed. */
  restrict(rulesFor: (profile: string) => WindowRules | undefined, now: number): string[] {
    const plan = this.planRestrict(rulesFor, now);
    plan.apply();
    return plan.changed;
  }

  /**
   * WindowBook.restrict on a copy: throws (nothing changed) when a rule cannot be applied (a
   * malformed hours), else saves the result and returns it to be applied. Reload uses this to
   * check the windows against a new config before it swaps the config in.
   */
  planRestrict(rulesFor: (profile: string) => WindowRules | undefined, now: number): PlannedChange {
    const next = this.book.clone();
    const changed = next.restrict(rulesFor, now);
    if (changed.length === 0) return { changed, apply: () => {} };
    const saved = this.trySave(next);
    return {
      changed,
      apply: () => {
        this.book = next;
        this.failure = saved;
      },
    };
  }

  /** Writes what is in effect again if the last write failed (at stop). */
  flush(): void {
    if (this.failure) this.failure = this.trySave(this.book);
  }

  /** Opens or extends: saved first, in effect only once saved. */
  private widen(apply: (book: WindowBook) => Window): Window {
    const next = this.book.clone();
    const result = apply(next);
    try {
      saveWindows(this.file, next);
    } catch (err) {
      throw new StateWriteError(this.file, err, "nothing was changed");
    }
    this.book = next;
    this.failure = null;
    return result;
  }

  /** Closes or cuts: in effect at once, saved if possible. */
  private narrow(next: WindowBook): void {
    this.book = next;
    this.failure = this.trySave(next);
  }

  private trySave(book: WindowBook): StateWriteError | null {
    try {
      saveWindows(this.file, book);
      return null;
    } catch (err) {
      return new StateWriteError(this.file, err, "the change holds in this daemon, but a restart would undo it until the file can be written");
    }
  }
}
