import { describe, expect, it } from "vitest";
import { ManualClock, ManualTimers } from "../../src/clock.js";
import { CLOSING_SOON_MS, REFRESH_AHEAD_MS, RETRY_MS, Schedule } from "../../src/broker/schedule.js";
import type { Session } from "../../src/types.js";
import type { Window } from "../../src/windows/windows.js";

/**
 * The broker's timers on their own, each checked at its instant: one millisecond before, nothing;
 * at it, the call. (The refresh-ahead and window-end suites check them through a whole broker and
 * are too slow to run against every mutant.)
 */

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 28, 10);

function setup() {
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const calls: string[] = [];
  const at = () => clock.now() - T0;
  const schedule = new Schedule(clock, timers, {
    refresh: (p) => calls.push(`refresh ${p} @${at()}`),
    retry: (p) => calls.push(`retry ${p} @${at()}`),
    closing: (w) => calls.push(`closing ${w.profile} @${at()}`),
    ended: (p, end) => calls.push(`ended ${p} ${end - T0} @${at()}`),
  });
  return { clock, timers, calls, schedule };
}

const session = (expiration: number): Session => ({
  profile: "audit",
  accessKeyId: "ASIA",
  secretAccessKey: "s",
  sessionToken: "t",
  expiration,
  accountId: "123456789012",
  roleArn: "arn:aws:sts::123456789012:assumed-role/r/u",
  windowEnd: T0 + 120 * MIN,
  policyHash: "0",
});
const windowTo = (end: number): Window => ({ profile: "audit", start: T0, end, reason: "r" });

describe("Schedule", () => {
  it("the constants are the documented ones", () => {
    expect([REFRESH_AHEAD_MS, CLOSING_SOON_MS, RETRY_MS]).toEqual([20 * MIN, 5 * MIN, 30_000]);
  });

  it("refreshes a one-hour session 20 minutes before it ends, not a millisecond earlier", () => {
    const { timers, calls, schedule } = setup();
    schedule.session("audit", session(T0 + 60 * MIN), windowTo(T0 + 120 * MIN));
    timers.advance(40 * MIN - 1);
    expect(calls).toEqual([]);
    timers.advance(1);
    expect(calls).toEqual([`refresh audit @${40 * MIN}`]);
  });

  it("refreshes a short session a third of its life before it ends", () => {
    const { timers, calls, schedule } = setup();
    schedule.session("audit", session(T0 + 30 * MIN), windowTo(T0 + 120 * MIN));
    timers.advance(20 * MIN - 1);
    expect(calls).toEqual([]);
    timers.advance(1);
    expect(calls).toEqual([`refresh audit @${20 * MIN}`]);
  });

  it("a session ending with its window (within 2 s) is not refreshed: its end is announced at the window's end", () => {
    const { timers, calls, schedule } = setup();
    schedule.session("audit", session(T0 + 60 * MIN - 1999), windowTo(T0 + 60 * MIN));
    timers.advance(60 * MIN - 1);
    expect(calls).toEqual([]);
    timers.advance(1);
    expect(calls).toEqual([`ended audit ${60 * MIN} @${60 * MIN}`]);
  });

  it("a session ending 2 s before its window is refreshed like any other", () => {
    const { timers, calls, schedule } = setup();
    schedule.session("audit", session(T0 + 60 * MIN), windowTo(T0 + 60 * MIN + 2000));
    timers.advance(60 * MIN);
    expect(calls).toEqual([`refresh audit @${40 * MIN}`]);
  });

  it("retries 30 s after a failure", () => {
    const { timers, calls, schedule } = setup();
    schedule.retry("audit");
    timers.advance(RETRY_MS - 1);
    expect(calls).toEqual([]);
    timers.advance(1);
    expect(calls).toEqual([`retry audit @${RETRY_MS}`]);
  });

  it("a window announces its closing 5 minutes before its end, and its end 5 ms after it", () => {
    const { timers, calls, schedule } = setup();
    schedule.window(windowTo(T0 + 30 * MIN));
    timers.advance(25 * MIN - 1);
    expect(calls).toEqual([]);
    timers.advance(1);
    expect(calls).toEqual([`closing audit @${25 * MIN}`]);
    timers.advance(5 * MIN + 4);
    expect(calls).toHaveLength(1);
    timers.advance(1);
    expect(calls).toEqual([`closing audit @${25 * MIN}`, `ended audit ${30 * MIN} @${30 * MIN + 5}`]);
  });

  it("a window with 5 minutes or less left announces only its end", () => {
    const { timers, calls, schedule } = setup();
    schedule.window(windowTo(T0 + 5 * MIN));
    timers.advance(5 * MIN + 5);
    expect(calls).toEqual([`ended audit ${5 * MIN} @${5 * MIN + 5}`]);
  });

  it("one deadline per profile: a new one replaces the old, and a fired one is forgotten", () => {
    const { timers, calls, schedule } = setup();
    schedule.retry("audit");
    schedule.session("audit", session(T0 + 60 * MIN), windowTo(T0 + 120 * MIN));
    schedule.retry("reports");
    timers.advance(60 * MIN);
    expect(calls).toEqual([`retry reports @${RETRY_MS}`, `refresh audit @${40 * MIN}`]);
    expect(timers.size).toBe(0);
    // Cancelling after it fired does nothing (and does not cancel the next one armed).
    schedule.retry("audit");
    schedule.cancelWindow("audit");
    timers.advance(RETRY_MS);
    expect(calls.at(-1)).toBe(`retry audit @${60 * MIN + RETRY_MS}`);
  });

  it("cancel stops the refresh or retry only; cancelWindow the announcements only; close everything", () => {
    const { timers, calls, schedule } = setup();
    schedule.session("audit", session(T0 + 60 * MIN), windowTo(T0 + 120 * MIN));
    schedule.window(windowTo(T0 + 120 * MIN));
    schedule.cancel("audit");
    timers.advance(116 * MIN);
    expect(calls).toEqual([`closing audit @${115 * MIN}`]);
    schedule.cancelWindow("audit");
    timers.advance(10 * MIN);
    expect(calls).toHaveLength(1);

    const other = setup();
    other.schedule.retry("a");
    other.schedule.session("b", session(T0 + 60 * MIN), { ...windowTo(T0 + 120 * MIN), profile: "b" });
    other.schedule.window({ ...windowTo(T0 + 30 * MIN), profile: "c" });
    expect(other.timers.size).toBe(3);
    other.schedule.close();
    expect(other.timers.size).toBe(0);
    other.timers.advance(200 * MIN);
    expect(other.calls).toEqual([]);
  });
});
