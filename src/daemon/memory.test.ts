import { afterEach, describe, expect, it } from "vitest";
import { collectGarbage } from "./memory.js";

// `gc` is V8's, present only under --expose-gc (the daemon's flags; src/service/templates.test.ts
// checks this Node gives it under them). Here it is put in place and taken away by hand.
describe("collectGarbage", () => {
  const g = globalThis as { gc?: () => void };
  const original = g.gc;
  afterEach(() => {
    if (original) g.gc = original;
    else delete g.gc;
  });

  it("runs V8's collection where the daemon's flags exposed it", () => {
    let calls = 0;
    g.gc = () => void calls++;
    collectGarbage();
    expect(calls).toBe(1);
  });

  it("does nothing where it is not exposed (a daemon started without the flags)", () => {
    delete g.gc;
    expect(() => collectGarbage()).not.toThrow();
  });
});
