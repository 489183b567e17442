import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { RefusalLimiter } from "./ratelimit.js";

function limiter(clock: ManualClock) {
  return new RefusalLimiter({ limit: 50, windowMs: 1000, lockMs: 2000, now: () => clock.now() });
}

describe("RefusalLimiter", () => {
  it("lets 50 refusals a second through as themselves, then answers 429 with a Retry-After", () => {
    const clock = new ManualClock();
    const l = limiter(clock);
    for (let i = 0; i < 50; i++) expect(l.refuse()).toEqual({ limited: false });
    expect(l.refuse()).toEqual({ limited: true, retryAfterSeconds: 2, started: true });
    expect(l.refuse()).toEqual({ limited: true, retryAfterSeconds: 2, started: false });
  });

  it("spreads over windows: 50 a second forever never locks", () => {
    const clock = new ManualClock();
    const l = limiter(clock);
    for (let s = 0; s < 5; s++) {
      for (let i = 0; i < 50; i++) expect(l.refuse().limited).toBe(false);
      clock.advance(1000);
    }
  });

  it("ends the lockout once the flood stops, and keeps it while the flood goes on", () => {
    const clock = new ManualClock();
    const l = limiter(clock);
    for (let i = 0; i < 51; i++) l.refuse();
    clock.advance(1500);
    // Still locked, and this flood in the new window goes over again: the lockout is extended.
    for (let i = 0; i < 51; i++) expect(l.refuse().limited).toBe(true);
    clock.advance(1900);
    const v = l.refuse();
    expect(v).toMatchObject({ limited: true, started: false });
    clock.advance(200);
    expect(l.refuse()).toEqual({ limited: false });
  });

  it("rounds Retry-After up to whole seconds, at least 1", () => {
    const clock = new ManualClock();
    const l = limiter(clock);
    for (let i = 0; i < 51; i++) l.refuse();
    clock.advance(1990);
    expect(l.refuse()).toMatchObject({ limited: true, retryAfterSeconds: 1 });
  });
});
