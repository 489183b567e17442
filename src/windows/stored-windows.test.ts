import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadWindows, saveWindows, StateWriteError, WindowState } from "./state.js";
import { WindowBook, WindowStateError, type Window, type WindowRules } from "./windows.js";
import { refusal } from "../../test/helpers/refusal.js";

/**
 * The stored windows: each reason a window or a state file is refused, by its words (the user
 * reads them in the daemon's log), the instants where a window is dropped or cut to nothing, and
 * WindowState's paths the other tests leave out (on-demand, restrict, a plan that changes nothing).
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
// Friday 2026-11-27 10:00 UTC.
const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
const RULES: WindowRules = { window: 30 * MIN, maxWindow: 2 * HOUR, requireReason: false, grant: "explicit" };

const W = { profile: "a", start: T0, end: T0 + HOUR, reason: "r" };

describe("a stored window is refused for what is wrong with it", () => {
  it.each([
    ["not a list", { windows: [] }, "the windows are not a list"],
    ["null", [null], "window 1 is not an object"],
    ["a list", [[W]], "window 1 is not an object"],
    ["text", ["a"], "window 1 is not an object"],
    ["an unknown field", [W, { ...W, profile: "b", admin: true }], 'window 2 has an unknown field "admin"'],
    ["no profile", [{ ...W, profile: undefined }], "window 1 has no profile"],
    ["an empty profile", [{ ...W, profile: "" }], "window 1 has no profile"],
    ["a profile that is a number", [{ ...W, profile: 1 }], "window 1 has no profile"],
    ["a start that is text", [{ ...W, start: "0" }], "window 1 has no start or end time"],
    ["an end that is a fraction", [{ ...W, end: T0 + 0.5 }], "window 1 has no start or end time"],
    ["an end equal to the start", [{ ...W, end: T0 }], "window 1 ends before it starts"],
    ["an end before the start", [{ ...W, end: T0 - 1 }], "window 1 ends before it starts"],
    ["no reason", [{ ...W, reason: undefined }], "window 1 has no reason"],
    ["a who that is a number", [{ ...W, who: 7 }], "window 1 has a who that is not text"],
    ["an onDemand that is text", [{ ...W, onDemand: "yes" }], "window 1 has an onDemand that is not true or false"],
    ["a grant time before the start", [{ ...W, grantedAt: T0 - 1 }], "window 1 has a grant time outside the window"],
    ["a grant time at the end", [{ ...W, grantedAt: T0 + HOUR }], "window 1 has a grant time outside the window"],
    ["a grant time that is a fraction", [{ ...W, grantedAt: T0 + 0.5 }], "window 1 has a grant time outside the window"],
    ["two windows for one profile", [W, { ...W, end: T0 + 2 * HOUR }], 'profile "a" has two windows'],
  ])("%s", (_what, data, why) => {
    const book = new WindowBook();
    const err = refusal(() => book.fromJSON(data, T0));
    expect(err).toBeInstanceOf(WindowStateError);
    expect(err.message).toBe(why);
  });

  it("keeps exactly the fields stored, no undefined ones", () => {
    const book = new WindowBook();
    book.fromJSON([W, { ...W, profile: "b", who: "alice", onDemand: true, grantedAt: T0 + HOUR - 1 }], T0);
    expect(book.toJSON()).toStrictEqual([W, { ...W, profile: "b", who: "alice", onDemand: true, grantedAt: T0 + HOUR - 1 }]);
  });

  it("a grant without who stores no who field", () => {
    const book = new WindowBook();
    expect(book.grant("a", { reason: "r" }, RULES, T0)).toStrictEqual({ profile: "a", start: T0, end: T0 + 30 * MIN, reason: "r", grantedAt: T0 });
  });

  it("a grant of exactly one second is allowed, less is not", () => {
    const book = new WindowBook();
    expect(book.grant("a", { durationMs: 1000, reason: "r" }, RULES, T0).end).toBe(T0 + 1000);
    expect(refusal(() => book.grant("b", { durationMs: 999, reason: "r" }, RULES, T0)).code).toBe("GrantRefused");
  });
});

describe("windows that end are dropped at their end instant", () => {
  it("a later change drops another profile's window that has just ended", () => {
    const book = new WindowBook();
    book.grant("a", { durationMs: 30 * MIN, reason: "r" }, RULES, T0);
    book.grant("b", { durationMs: 30 * MIN, reason: "r" }, RULES, T0 + 30 * MIN - 1);
    expect(book.toJSON().map((w) => w.profile)).toEqual(["a", "b"]);
    book.grant("c", { durationMs: 30 * MIN, reason: "r" }, RULES, T0 + 30 * MIN);
    expect(book.toJSON().map((w) => w.profile)).toEqual(["b", "c"]);
  });

  it("restrict closes a window cut to end now, or before it started; keeps one cut to end 1 ms from now", () => {
    const stored: Window = { profile: "a", start: T0 - HOUR, end: T0 + HOUR, reason: "r", grantedAt: T0 - HOUR };
    const at = (maxWindow: number) => {
      const book = new WindowBook();
      book.fromJSON([stored], T0);
      const changed = book.restrict(() => ({ ...RULES, maxWindow }), T0);
      return { changed, end: book.get("a", T0)?.end ?? null };
    };
    expect(at(HOUR)).toEqual({ changed: ["a"], end: null });
    expect(at(HOUR + 1)).toEqual({ changed: ["a"], end: T0 + 1 });
    expect(at(2 * HOUR)).toEqual({ changed: [], end: T0 + HOUR });
  });

  it("restrict with allowed hours and no timezone counts in UTC", () => {
    const book = new WindowBook();
    book.fromJSON([{ profile: "a", start: T0 - HOUR, end: T0 + 3 * HOUR, reason: "r" }], T0);
    // Friday 08:00-11:00 UTC: cut to 11:00 UTC (in Berlin it would be 10:00 UTC, closed).
    expect(book.restrict(() => ({ ...RULES, maxWindow: 10 * HOUR, hours: "Fri 08:00-11:00" }), T0)).toEqual(["a"]);
    expect(book.get("a", T0)?.end).toBe(Date.UTC(2026, 10, 27, 11));
  });

  it("restrict passes on an hours rule it cannot read, and keeps the book", () => {
    const book = new WindowBook();
    book.fromJSON([W], T0);
    expect(() => book.restrict(() => ({ ...RULES, hours: "someday" }), T0)).toThrow();
    expect(book.get("a", T0)).toEqual(W);
  });
});

describe("the state file", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "s3jit-stored-"));
    file = path.join(dir, "state.json");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const sum = (windows: unknown) => createHash("sha256").update(JSON.stringify({ version: 1, windows })).digest("hex");
  const write = (doc: unknown) => writeFileSync(file, typeof doc === "string" ? doc : JSON.stringify(doc), { mode: 0o600 });
  const why = (reason: string) => `the window state file ${file} ${reason}; it is ignored and every window starts closed (run \`s3jit grant\` again)`;

  it.each([
    ["not JSON", "{", "is not valid JSON (damaged?)"],
    ["a list", [], "is not a JSON object"],
    ["null", "null", "is not a JSON object"],
    ["a number", "3", "is not a JSON object"],
    ["text", '"x"', "is not a JSON object"],
    ["an unknown field", { version: 1, windows: [], checksum: sum([]), note: "x" }, 'has an unknown field "note"'],
    ["no version", { windows: [], checksum: sum([]) }, "has version null, not 1"],
    ["no checksum", { version: 1, windows: [] }, "has no checksum"],
    ["a checksum that is a number", { version: 1, windows: [], checksum: 1 }, "has no checksum"],
    ["a wrong checksum", { version: 1, windows: [], checksum: sum([W]) }, "does not match its checksum (edited by hand, or damaged)"],
    ["an invalid window", { version: 1, windows: [{ ...W, reason: 1 }], checksum: sum([{ ...W, reason: 1 }]) }, "holds an invalid window: window 1 has no reason"],
  ])("%s", (_what, doc, reason) => {
    write(doc);
    const book = new WindowBook();
    const err = refusal(() => loadWindows(file, book, T0));
    expect(err).toBeInstanceOf(WindowStateError);
    expect(err.message).toBe(why(reason));
    expect(book.toJSON()).toEqual([]);
  });

  it("WindowState.load returns how many windows are open, and on-demand opens and saves one", () => {
    const state = new WindowState(file);
    expect(state.load(T0)).toBe(0);
    const onDemand: WindowRules = { ...RULES, grant: "on-demand" };
    const w = state.onDemand("a", onDemand, T0);
    expect(w).toEqual({ profile: "a", start: T0, end: T0 + 30 * MIN, reason: "on-demand", onDemand: true, grantedAt: T0 });
    // An open window is kept as it is, not reopened.
    expect(state.onDemand("a", onDemand, T0 + MIN)).toEqual(w);
    const again = new WindowState(file);
    expect(again.load(T0 + MIN)).toBe(1);
    expect(again.get("a", T0 + MIN)).toEqual(w);
  });

  it("WindowState.restrict cuts, saves, and returns the profiles changed", () => {
    const state = new WindowState(file);
    state.grant("a", { durationMs: 90 * MIN, reason: "r" }, RULES, T0);
    expect(state.restrict(() => ({ ...RULES, maxWindow: HOUR }), T0)).toEqual(["a"]);
    expect(state.get("a", T0)?.end).toBe(T0 + HOUR);
    const again = new WindowState(file);
    again.load(T0);
    expect(again.get("a", T0)?.end).toBe(T0 + HOUR);
  });

  it("a plan that changes nothing writes nothing, even when the file cannot be written", () => {
    const state = new WindowState(file);
    state.grant("a", { reason: "r" }, RULES, T0);
    rmSync(file);
    mkdirSync(path.join(file, "x"), { recursive: true });
    const plan = state.planRestrict(() => RULES, T0);
    expect(plan.changed).toEqual([]);
    plan.apply();
    expect(state.unsaved).toBeNull();
    expect(state.get("a", T0)?.end).toBe(T0 + 30 * MIN);
  });

  it("flush writes nothing when nothing is unsaved", () => {
    const state = new WindowState(file);
    state.grant("a", { reason: "r" }, RULES, T0);
    // The file is gone and its place blocked: a flush that wrote would fail and say so.
    rmSync(file);
    mkdirSync(path.join(file, "x"), { recursive: true });
    state.flush();
    expect(state.unsaved).toBeNull();
  });

  it("a grant that cannot be saved says nothing was changed, and why", () => {
    const state = new WindowState(file);
    mkdirSync(path.join(file, "x"), { recursive: true });
    const err = refusal(() => state.grant("a", { reason: "r" }, RULES, T0));
    expect(err).toBeInstanceOf(StateWriteError);
    expect(err.message).toMatch(new RegExp(`^could not write the window state file ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(E[A-Z]+\\): nothing was changed\\. `));
  });

  it.each([
    ["an errno", Object.assign(new Error("x"), { code: "ENOSPC" }), "ENOSPC"],
    ["an Error without code", new Error("disk gone"), "disk gone"],
    ["text", "odd", "odd"],
    ["null", null, "null"],
  ])("StateWriteError names %s", (_what, cause, shown) => {
    expect(new StateWriteError("/f", cause, "o").message).toBe(`could not write the window state file /f (${shown}): o. Free some space, or make the file and its folder writable by you`);
  });

  it("saveWindows writes the format loadWindows reads", () => {
    const book = new WindowBook();
    book.fromJSON([W], T0);
    saveWindows(file, book);
    write({ version: 1, windows: [W], checksum: sum([W]) });
    const loaded = new WindowBook();
    expect(loadWindows(file, loaded, T0)).toBe(1);
    expect(loaded.toJSON()).toEqual([W]);
  });
});
