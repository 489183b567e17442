import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadWindows, saveWindows, StateWriteError, WindowState } from "./state.js";
import { WindowBook, WindowStateError, type WindowRules } from "./windows.js";

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
const RULES: WindowRules = { window: 30 * MIN, maxWindow: 120 * MIN, requireReason: false, grant: "explicit" };
const posix = process.platform !== "win32";

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "s3jit-windows-"));
  file = path.join(dir, "data", "state.json");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function savedBook(): WindowBook {
  const book = new WindowBook();
  book.grant("audit", { reason: "ticket 42", who: "alice" }, RULES, T0);
  book.grant("reports", { durationMs: 90 * MIN, reason: "" }, RULES, T0);
  saveWindows(file, book);
  return book;
}

function loadError(now = T0): WindowStateError {
  const book = new WindowBook();
  try {
    loadWindows(file, book, now);
  } catch (e) {
    expect(book.toJSON()).toEqual([]);
    return e as WindowStateError;
  }
  throw new Error("expected the state file to be refused");
}

interface StateDoc {
  version: number;
  windows: Array<Record<string, unknown>>;
  checksum?: string;
}

/** Edits the saved JSON and writes it back in place (mode kept), as a person with an editor would. */
function edit(change: (doc: StateDoc) => void): void {
  const doc = JSON.parse(readFileSync(file, "utf8"));
  change(doc);
  writeFileSync(file, JSON.stringify(doc));
}

describe("saveWindows / loadWindows", () => {
  it("round-trips the windows", () => {
    const book = savedBook();
    const loaded = new WindowBook();
    expect(loadWindows(file, loaded, T0 + MIN)).toBe(2);
    expect(loaded.toJSON()).toEqual(book.toJSON());
  });

  it.runIf(posix)("writes an owner-only (0600) file, also over one that was not", () => {
    savedBook();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    chmodSync(file, 0o644);
    savedBook();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("replaces the file atomically, leaving no temporary file behind", () => {
    savedBook();
    const book = new WindowBook();
    book.grant("other", { reason: "" }, RULES, T0);
    saveWindows(file, book);
    expect(readdirSync(path.dirname(file))).toEqual(["state.json"]);
    const loaded = new WindowBook();
    loadWindows(file, loaded, T0);
    expect(loaded.toJSON().map((w) => w.profile)).toEqual(["other"]);
  });

  it("a missing file is no windows", () => {
    const book = new WindowBook();
    expect(loadWindows(file, book, T0)).toBe(0);
    expect(book.toJSON()).toEqual([]);
  });

  it("drops windows that ended while the daemon was down, and never extends the others", () => {
    savedBook();
    const book = new WindowBook();
    expect(loadWindows(file, book, T0 + 45 * MIN)).toBe(1);
    expect(book.get("audit", T0 + 45 * MIN)).toBeNull();
    expect(book.get("reports", T0 + 45 * MIN)!.end).toBe(T0 + 90 * MIN);
  });

  it("an empty book saves and loads", () => {
    saveWindows(file, new WindowBook());
    expect(loadWindows(file, new WindowBook(), T0)).toBe(0);
  });
});

describe("a state file that cannot be trusted", () => {
  it.each([
    ["a window's end moved later", (d: StateDoc) => (d.windows[0]!.end = T0 + 24 * 60 * MIN)],
    ["a window added", (d: StateDoc) => d.windows.push({ profile: "admin", start: T0, end: T0 + MIN, reason: "" })],
    ["a window removed", (d: StateDoc) => d.windows.pop()],
    ["the checksum removed", (d: StateDoc) => delete d.checksum],
  ])("is refused when edited by hand: %s", (_what, change) => {
    savedBook();
    edit(change);
    const err = loadError();
    expect(err.code).toBe("WindowStateInvalid");
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/checksum/);
  });

  it("is refused when the checksum was recomputed but a window is malformed", () => {
    savedBook();
    const doc = JSON.parse(readFileSync(file, "utf8"));
    doc.windows[0].end = "tomorrow";
    // Mirror the file's checksum rule, as a determined editor could.
    doc.checksum = createHash("sha256").update(JSON.stringify({ version: 1, windows: doc.windows })).digest("hex");
    writeFileSync(file, JSON.stringify(doc));
    expect(loadError().message).toMatch(/invalid window: window 1 has no start or end time/);
  });

  it.each([
    ["cut short (a torn write)", (text: string) => text.slice(0, text.length / 2)],
    ["empty", () => ""],
    ["not JSON", () => "windows: audit"],
    ["a JSON list", () => "[]"],
  ])("is refused when %s", (_what, damage) => {
    savedBook();
    writeFileSync(file, damage(readFileSync(file, "utf8")));
    expect(loadError()).toBeInstanceOf(WindowStateError);
  });

  it("is refused with another version", () => {
    savedBook();
    edit((d) => (d.version = 2));
    expect(loadError().message).toMatch(/version 2/);
  });

  // Not private is a different outcome from damaged: the daemon refuses to start (as ssh refuses
  // a private key others can read) rather than start with every window closed.
  it.runIf(posix)("is refused as InsecureFile, naming the fix, when others may read or write it", () => {
    savedBook();
    chmodSync(file, 0o644);
    expect(() => loadWindows(file, new WindowBook(), T0)).toThrow(expect.objectContaining({ code: "InsecureFile", message: expect.stringContaining(`chmod 600 ${file}`) }));
    chmodSync(file, 0o620);
    expect(() => loadWindows(file, new WindowBook(), T0)).toThrow(/mode 0620/);
  });

  it.runIf(posix)("is refused as InsecureFile when it is a symlink", () => {
    savedBook();
    const real = path.join(dir, "elsewhere.json");
    writeFileSync(real, readFileSync(file), { mode: 0o600 });
    rmSync(file);
    symlinkSync(real, file);
    expect(() => loadWindows(file, new WindowBook(), T0)).toThrow(expect.objectContaining({ code: "InsecureFile", message: expect.stringMatching(/not a regular file/) }));
  });

  it("leaves the book as it was", () => {
    savedBook();
    writeFileSync(file, "{");
    const book = new WindowBook();
    book.grant("audit", { reason: "" }, RULES, T0);
    expect(() => loadWindows(file, book, T0)).toThrow(WindowStateError);
    expect(book.get("audit", T0)).not.toBeNull();
  });
});

describe("WindowState: saved before it takes effect", () => {
  /** A folder where the file should be: rename() onto it fails (EISDIR), also for root. */
  const blockFile = () => {
    rmSync(file, { force: true });
    mkdirSync(path.join(file, "x"), { recursive: true });
  };
  const unblock = () => rmSync(file, { recursive: true, force: true });

  it("a grant that cannot be saved changes nothing and says which file", () => {
    const state = new WindowState(file);
    state.grant("audit", { reason: "saved" }, RULES, T0);
    blockFile();
    expect(() => state.grant("reports", { reason: "r" }, RULES, T0)).toThrow(expect.objectContaining({ code: "StateWriteFailed", message: expect.stringContaining(file) }));
    expect(() => state.grant("audit", { durationMs: 2 * 60 * MIN, reason: "longer" }, RULES, T0)).toThrow(StateWriteError);
    expect(state.get("reports", T0)).toBeNull();
    expect(state.get("audit", T0)!.end).toBe(T0 + 30 * MIN);
    unblock();
  });

  it("a revoke that cannot be saved holds anyway, is reported in `unsaved`, and the next save (or flush) writes it", () => {
    const state = new WindowState(file);
    state.grant("audit", { reason: "r" }, RULES, T0);
    blockFile();
    state.revoke("audit", T0);
    expect(state.get("audit", T0)).toBeNull();
    expect(state.unsaved?.message).toMatch(/restart would undo it/);
    unblock();
    state.flush();
    expect(state.unsaved).toBeNull();
    const reloaded = new WindowState(file);
    reloaded.load(T0);
    expect(reloaded.get("audit", T0)).toBeNull();
  });

  it("planRestrict saves the cut before it is applied, and applies nothing until asked", () => {
    const state = new WindowState(file);
    state.grant("audit", { durationMs: 90 * MIN, reason: "r" }, RULES, T0);
    const plan = state.planRestrict(() => ({ ...RULES, maxWindow: 60 * MIN }), T0);
    expect(plan.changed).toEqual(["audit"]);
    expect(state.get("audit", T0)!.end).toBe(T0 + 90 * MIN);
    plan.apply();
    expect(state.get("audit", T0)!.end).toBe(T0 + 60 * MIN);
  });
});
