import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ManualClock } from "../clock.js";
import { GrantRefusedError, OutsideHoursError } from "../errors.js";
import { currentRangeEnd } from "./hours.js";
import { WindowBook, WindowStateError, type Window, type WindowRules } from "./windows.js";
import { refusal } from "../../test/helpers/refusal.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
// Friday 2026-11-27 10:00 UTC (11:00 in Berlin).
const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);

const RULES: WindowRules = { window: 30 * MIN, maxWindow: 2 * HOUR, requireReason: true, grant: "explicit" };
const rules = (over: Partial<WindowRules> = {}): WindowRules => ({ ...RULES, ...over });

describe("grant", () => {
  it.each([
    ["the profile's window by default", {}, T0 + 30 * MIN],
    ["the asked duration", { durationMs: HOUR }, T0 + HOUR],
    ["exactly max_window", { durationMs: 2 * HOUR }, T0 + 2 * HOUR],
  ])("opens for %s", (_what, req, end) => {
    const book = new WindowBook();
    const w = book.grant("audit", { reason: "ticket 42", ...req }, RULES, T0);
    expect(w).toEqual({ profile: "audit", start: T0, end, reason: "ticket 42", grantedAt: T0 });
    expect(book.get("audit", T0)).toEqual(w);
  });

  it("records who asked", () => {
    const w = new WindowBook().grant("audit", { reason: "r", who: "alice" }, RULES, T0);
    expect(w.who).toBe("alice");
  });

  it.each([
    ["longer than max_window", { durationMs: 2 * HOUR + 1000, reason: "r" }, RULES, /at most 2h \(max_window\); asked for 2h1s/],
    ["a default window longer than max_window", { reason: "r" }, rules({ window: 3 * HOUR }), /max_window/],
    ["no reason when one is required", {}, RULES, /requires a reason \(require_reason\).*--reason/],
    ["a blank reason when one is required", { reason: "   " }, RULES, /requires a reason/],
    ["a zero duration", { durationMs: 0, reason: "r" }, RULES, /at least a second/],
    ["a negative duration", { durationMs: -MIN, reason: "r" }, RULES, /at least a second/],
    ["a duration under a second", { durationMs: 999, reason: "r" }, RULES, /at least a second/],
    ["a duration that is no number", { durationMs: Number.NaN, reason: "r" }, RULES, /at least a second/],
  ])("refuses %s", (_what, req, cfg, message) => {
    const book = new WindowBook();
    const err = refusal(() => book.grant("audit", req, cfg, T0));
    expect(err).toBeInstanceOf(GrantRefusedError);
    expect(err.code).toBe("GrantRefused");
    expect(err.message).toMatch(message);
    expect(book.get("audit", T0)).toBeNull();
  });

  it("needs no reason where none is required", () => {
    expect(new WindowBook().grant("audit", {}, rules({ requireReason: false }), T0).reason).toBe("");
  });

  describe("extending the open window (opened at T0 for 1h, asked again 20 minutes later)", () => {
    const NOW = T0 + 20 * MIN;
    it.each([
      ["asking for more moves the end to now + duration", { durationMs: 2 * HOUR }, RULES, NOW + 2 * HOUR],
      ["asking for less never shortens it", { durationMs: 10 * MIN }, RULES, T0 + HOUR],
      ["asking for exactly what is left keeps the end", { durationMs: 40 * MIN }, RULES, T0 + HOUR],
      ["a max_window narrowed since then cuts it to now + max_window", { durationMs: 10 * MIN }, rules({ maxWindow: 30 * MIN }), NOW + 30 * MIN],
    ])("%s", (_what, req, cfg, end) => {
      const book = new WindowBook();
      book.grant("audit", { durationMs: HOUR, reason: "first" }, RULES, T0);
      const w = book.grant("audit", { ...req, reason: "second" }, cfg, NOW);
      expect(w).toEqual({ profile: "audit", start: T0, end, reason: "second", grantedAt: NOW });
      expect(book.get("audit", NOW)).toEqual(w);
    });

    it("an ended window is not extended: a new one opens", () => {
      const book = new WindowBook();
      book.grant("audit", { durationMs: HOUR, reason: "first" }, RULES, T0);
      const later = T0 + HOUR;
      expect(book.grant("audit", { reason: "again" }, RULES, later)).toEqual({ profile: "audit", start: later, end: later + 30 * MIN, reason: "again", grantedAt: later });
    });
  });

  it("keeps profiles apart", () => {
    const book = new WindowBook();
    book.grant("audit", { reason: "r" }, RULES, T0);
    expect(book.get("reports", T0)).toBeNull();
    expect(book.revoke("reports", T0)).toBeNull();
    expect(book.get("audit", T0)).not.toBeNull();
  });
});

describe("get", () => {
  it.each([
    ["before the start", T0 - 1, false],
    ["at the start", T0, true],
    ["a moment before the end", T0 + 30 * MIN - 1, true],
    ["at the end", T0 + 30 * MIN, false],
    ["after the end", T0 + HOUR, false],
  ])("%s: open = %s", (_what, now, open) => {
    const book = new WindowBook();
    book.grant("audit", { reason: "r" }, RULES, T0);
    expect(book.get("audit", now) !== null).toBe(open);
  });

  it("hands out a copy: changing it changes nothing", () => {
    const book = new WindowBook();
    book.grant("audit", { reason: "r" }, RULES, T0);
    const w = book.get("audit", T0)!;
    w.end = T0 + 100 * HOUR;
    expect(book.get("audit", T0)!.end).toBe(T0 + 30 * MIN);
  });
});

describe("revoke", () => {
  it("closes the window at once and returns it", () => {
    const clock = new ManualClock(T0);
    const book = new WindowBook();
    const w = book.grant("audit", { reason: "r" }, RULES, clock.now());
    clock.advance(5 * MIN);
    expect(book.revoke("audit", clock.now())).toEqual(w);
    expect(book.get("audit", clock.now())).toBeNull();
    expect(book.toJSON()).toEqual([]);
    expect(book.revoke("audit", clock.now())).toBeNull();
  });

  it("a grant after a revoke opens a new window", () => {
    const book = new WindowBook();
    book.grant("audit", { durationMs: 2 * HOUR, reason: "r" }, RULES, T0);
    book.revoke("audit", T0 + MIN);
    expect(book.grant("audit", { reason: "r" }, RULES, T0 + 2 * MIN)).toMatchObject({ start: T0 + 2 * MIN, end: T0 + 32 * MIN });
  });
});

describe("onDemand", () => {
  const ON_DEMAND = rules({ grant: "on-demand" });

  it("opens the profile's window with reason on-demand", () => {
    const book = new WindowBook();
    expect(book.onDemand("audit", ON_DEMAND, T0)).toEqual({ profile: "audit", start: T0, end: T0 + 30 * MIN, reason: "on-demand", onDemand: true, grantedAt: T0 });
  });

  it("keeps an open window as it is", () => {
    const book = new WindowBook();
    const first = book.onDemand("audit", ON_DEMAND, T0);
    expect(book.onDemand("audit", ON_DEMAND, T0 + 20 * MIN)).toEqual(first);
  });

  it("never opens longer than max_window", () => {
    expect(new WindowBook().onDemand("audit", rules({ grant: "on-demand", window: 5 * HOUR }), T0).end).toBe(T0 + 2 * HOUR);
  });

  it("refuses profiles whose windows open only by grant", () => {
    const err = refusal(() => new WindowBook().onDemand("audit", RULES, T0));
    expect(err).toBeInstanceOf(GrantRefusedError);
    expect(err.message).toContain("s3jit grant audit");
  });

  it("keeps to the hours", () => {
    const cfg = rules({ grant: "on-demand", hours: "Mon-Fri 08:00-19:00", timezone: "Europe/Berlin", window: 8 * HOUR, maxWindow: 8 * HOUR });
    expect(new WindowBook().onDemand("audit", cfg, T0).end).toBe(Date.UTC(2026, 10, 27, 18));
    expect(() => new WindowBook().onDemand("audit", cfg, Date.UTC(2026, 10, 28, 10))).toThrow(OutsideHoursError);
  });
});

describe("hours", () => {
  const OFFICE = rules({ hours: "Mon-Fri 08:00-12:00, Mon-Fri 13:00-19:00", timezone: "Europe/Berlin" });

  it("refuses a grant outside the hours, naming them", () => {
    // 12:30 in Berlin: the lunch gap.
    const err = refusal(() => new WindowBook().grant("audit", { reason: "r" }, OFFICE, Date.UTC(2026, 10, 27, 11, 30)));
    expect(err).toBeInstanceOf(OutsideHoursError);
    expect(err.code).toBe("OutsideHours");
    expect(err.message).toContain("Mon-Fri 08:00-12:00, Mon-Fri 13:00-19:00 (Europe/Berlin)");
  });

  it("cuts a window at the end of the current range", () => {
    // 11:45 in Berlin, asking for 2h: the morning range ends at 12:00.
    const w = new WindowBook().grant("audit", { durationMs: 2 * HOUR, reason: "r" }, OFFICE, Date.UTC(2026, 10, 27, 10, 45));
    expect(w.end).toBe(Date.UTC(2026, 10, 27, 11, 0));
  });

  it("does not cut a window that ends inside the range", () => {
    const w = new WindowBook().grant("audit", { durationMs: HOUR, reason: "r" }, OFFICE, Date.UTC(2026, 10, 27, 12, 0));
    expect(w.end).toBe(Date.UTC(2026, 10, 27, 13, 0));
  });

  it("cuts at the right instant on a DST night", () => {
    // 2026-10-25: a night range 00:00-06:00 is 7 real hours long; asked at 05:30 CET for 2h.
    const night = rules({ hours: "Sun 00:00-06:00", timezone: "Europe/Berlin" });
    expect(new WindowBook().grant("audit", { durationMs: 2 * HOUR, reason: "r" }, night, Date.UTC(2026, 9, 25, 4, 30)).end).toBe(Date.UTC(2026, 9, 25, 5, 0));
  });

  it("refuses a config whose hours cannot be read", () => {
    expect(() => new WindowBook().grant("audit", { reason: "r" }, rules({ hours: "weekdays", timezone: "UTC" }), T0)).toThrow(
      expect.objectContaining({ code: "HoursInvalid" }),
    );
  });
});

describe("toJSON / fromJSON", () => {
  it("round-trips the open windows", () => {
    const book = new WindowBook();
    book.grant("audit", { reason: "r", who: "alice" }, RULES, T0);
    book.onDemand("reports", rules({ grant: "on-demand" }), T0);
    const copy = new WindowBook();
    copy.fromJSON(JSON.parse(JSON.stringify(book.toJSON())), T0 + MIN);
    expect(copy.toJSON()).toEqual(book.toJSON());
    expect(copy.get("audit", T0 + MIN)).toEqual(book.get("audit", T0 + MIN));
  });

  it("drops windows that have ended or claim to start later, and keeps every end as it was", () => {
    const book = new WindowBook();
    const windows: Window[] = [
      { profile: "a", start: T0 - HOUR, end: T0, reason: "ended" },
      { profile: "b", start: T0 + MIN, end: T0 + HOUR, reason: "future" },
      { profile: "c", start: T0 - MIN, end: T0 + MIN, reason: "open" },
    ];
    book.fromJSON(windows, T0);
    expect(book.toJSON()).toEqual([windows[2]]);
  });

  it.each([
    ["not a list", { windows: [] }],
    ["an entry that is not an object", [1]],
    ["a window without profile", [{ start: T0, end: T0 + 1, reason: "" }]],
    ["a window without end", [{ profile: "a", start: T0, reason: "" }]],
    ["a window ending before it starts", [{ profile: "a", start: T0, end: T0 - 1, reason: "" }]],
    ["a time that is text", [{ profile: "a", start: "0", end: T0 + 1, reason: "" }]],
    ["an unknown field", [{ profile: "a", start: T0, end: T0 + 1, reason: "", admin: true }]],
    ["two windows for one profile", [{ profile: "a", start: T0, end: T0 + 1, reason: "" }, { profile: "a", start: T0, end: T0 + 2, reason: "" }]],
  ])("refuses %s and keeps what it had", (_what, data) => {
    const book = new WindowBook();
    book.grant("audit", { reason: "r" }, RULES, T0);
    expect(() => book.fromJSON(data, T0)).toThrow(WindowStateError);
    expect(book.get("audit", T0)).not.toBeNull();
  });
});

describe("restrict (after a load or a config reload)", () => {
  function bookWith(w: Window): WindowBook {
    const book = new WindowBook();
    book.fromJSON([w], T0);
    return book;
  }
  const W: Window = { profile: "audit", start: T0 - HOUR, end: T0 + 3 * HOUR, reason: "r" };

  it("closes windows of profiles the config no longer has", () => {
    const book = bookWith(W);
    expect(book.restrict(() => undefined, T0)).toEqual(["audit"]);
    expect(book.get("audit", T0)).toBeNull();
  });

  it("cuts a window to start + max_window", () => {
    const book = bookWith(W);
    expect(book.restrict(() => RULES, T0)).toEqual(["audit"]);
    expect(book.get("audit", T0)!.end).toBe(T0 + HOUR);
  });

  it("closes a window whose max_window is already over", () => {
    const book = bookWith(W);
    book.restrict(() => rules({ maxWindow: 30 * MIN }), T0);
    expect(book.get("audit", T0)).toBeNull();
  });

  it("cuts to the hours, and closes outside them", () => {
    const big = rules({ maxWindow: 10 * HOUR });
    const office = bookWith(W);
    office.restrict(() => ({ ...big, hours: "Fri 08:00-12:00", timezone: "Europe/Berlin" }), T0);
    expect(office.get("audit", T0)!.end).toBe(Date.UTC(2026, 10, 27, 11));
    const weekend = bookWith(W);
    weekend.restrict(() => ({ ...big, hours: "Sat-Sun 08:00-12:00", timezone: "Europe/Berlin" }), T0);
    expect(weekend.get("audit", T0)).toBeNull();
  });

  it("counts max_window from the last grant: an extended window outlives start + max_window under the same config", () => {
    const book = new WindowBook();
    book.grant("audit", { durationMs: 2 * HOUR, reason: "r" }, RULES, T0);
    const extended = book.grant("audit", { durationMs: 2 * HOUR, reason: "r" }, RULES, T0 + 30 * MIN);
    expect(book.restrict(() => RULES, T0 + 40 * MIN)).toEqual([]);
    expect(book.get("audit", T0 + 40 * MIN)!.end).toBe(extended.end);
    expect(book.restrict(() => rules({ maxWindow: HOUR }), T0 + 40 * MIN)).toEqual(["audit"]);
    expect(book.get("audit", T0 + 40 * MIN)!.end).toBe(T0 + 30 * MIN + HOUR);
  });

  it("never extends", () => {
    const book = bookWith(W);
    expect(book.restrict(() => rules({ maxWindow: 100 * HOUR }), T0)).toEqual([]);
    expect(book.get("audit", T0)!.end).toBe(W.end);
  });
});

describe("properties", () => {
  const PROFILES = ["audit", "reports"];
  const HOURS = [undefined, "Mon-Fri 08:00-19:00", "Mon-Fri 08:00-12:00, Mon-Fri 13:00-19:00, Sat 10:00-14:00", "Sun 00:00-06:00, Sat 22:00-24:00"];
  const cfgArb = fc
    .record({
      window: fc.integer({ min: 1, max: 180 }).map((m) => m * MIN),
      maxWindow: fc.integer({ min: 1, max: 600 }).map((m) => m * MIN),
      requireReason: fc.boolean(),
      grant: fc.constantFrom("explicit" as const, "on-demand" as const),
      hours: fc.constantFrom(...HOURS),
      timezone: fc.constantFrom("Europe/Berlin", "America/New_York", "UTC"),
    })
    .map((c): WindowRules => (c.hours === undefined ? { ...c, hours: undefined, timezone: undefined } : c));
  const opArb = fc.record({
    kind: fc.constantFrom("grant", "grant", "onDemand", "revoke"),
    profile: fc.constantFrom(...PROFILES),
    advance: fc.integer({ min: 0, max: 4 * HOUR }),
    durationMs: fc.option(fc.integer({ min: 1000, max: 8 * HOUR }), { nil: undefined }),
    reason: fc.option(fc.constantFrom("ticket", " "), { nil: undefined }),
  });
  // Around the 2026 DST changes and an ordinary week.
  const startArb = fc.constantFrom(Date.UTC(2026, 2, 27), Date.UTC(2026, 9, 23), Date.UTC(2026, 10, 23));

  it("a grant never ends past now + max_window nor outside the hours, never opens outside them, and never shortens an open window", () => {
    fc.assert(
      fc.property(startArb, fc.array(fc.tuple(opArb, cfgArb), { minLength: 1, maxLength: 25 }), (start, ops) => {
        const clock = new ManualClock(start);
        const book = new WindowBook();
        for (const [op, cfg] of ops) {
          clock.advance(op.advance);
          const now = clock.now();
          const before = book.get(op.profile, now);
          const rangeEnd = cfg.hours === undefined ? Infinity : currentRangeEnd(cfg.hours, cfg.timezone!, now);
          let w: Window | null = null;
          try {
            if (op.kind === "grant") w = book.grant(op.profile, { durationMs: op.durationMs, reason: op.reason }, cfg, now);
            else if (op.kind === "onDemand") w = book.onDemand(op.profile, cfg, now);
            else book.revoke(op.profile, now);
          } catch (e) {
            if (e instanceof OutsideHoursError) expect(rangeEnd).toBeNull();
            else expect(e).toBeInstanceOf(GrantRefusedError);
            // A refused grant changes nothing.
            expect(book.get(op.profile, now)).toEqual(before);
            continue;
          }
          if (op.kind === "revoke") {
            expect(book.get(op.profile, now)).toBeNull();
            continue;
          }
          expect(book.get(op.profile, now)).toEqual(w);
          if (op.kind === "onDemand" && before) {
            // A request keeps an open window as it is.
            expect(w).toEqual(before);
            continue;
          }
          expect(rangeEnd).not.toBeNull();
          const limit = Math.min(now + cfg.maxWindow, rangeEnd!);
          expect(w!.start).toBe(before?.start ?? now);
          expect(w!.end).toBeGreaterThan(now);
          expect(w!.end).toBeLessThanOrEqual(limit);
          if (before) expect(w!.end).toBeGreaterThanOrEqual(Math.min(before.end, limit));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("get() returns a window exactly when start ≤ now < end", () => {
    const windowArb = fc
      .record({ profile: fc.constantFrom(...PROFILES), start: fc.integer({ min: T0 - 10 * HOUR, max: T0 }), length: fc.integer({ min: 1, max: 20 * HOUR }) })
      .map(({ profile, start, length }): Window => ({ profile, start, end: start + length, reason: "r" }));
    fc.assert(
      fc.property(fc.uniqueArray(windowArb, { selector: (w) => w.profile, maxLength: 2 }), fc.integer({ min: T0 - 12 * HOUR, max: T0 + 12 * HOUR }), (windows, now) => {
        const book = new WindowBook();
        book.fromJSON(windows, T0);
        for (const profile of PROFILES) {
          const stored = windows.find((w) => w.profile === profile && w.start <= T0 && T0 < w.end);
          const got = book.get(profile, now);
          if (stored && stored.start <= now && now < stored.end) expect(got).toEqual(stored);
          else expect(got).toBeNull();
        }
      }),
      { numRuns: 500 },
    );
  });
});
