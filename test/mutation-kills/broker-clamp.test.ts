import { describe, expect, it } from "vitest";
import { settle, world } from "../broker/harness.js";

/** Never beyond the window, in the fast set: an STS answer that outlives the window is cut to its end. */

const MIN = 60_000;

describe("the served Expiration", () => {
  it("is cut to the window's end when STS answers with a later one", async () => {
    const w = await world();
    const end = w.clock.now() + 30 * MIN;
    w.broker.grant("audit", { durationMs: 30 * MIN, reason: "r" });
    await settle();
    w.minter.answer(0, { expiration: end + 10 * MIN });
    await settle();
    const s = await w.broker.credentials("audit");
    expect(s.expiration).toBe(end);
    expect(s.windowEnd).toBe(end);
  });

  it("keeps STS's Expiration when it comes before the window's end", async () => {
    const w = await world();
    const end = w.clock.now() + 120 * MIN;
    w.broker.grant("audit", { durationMs: 120 * MIN, reason: "r" });
    await settle();
    const minted = w.minter.answer(0, { expiration: end - 60 * MIN });
    await settle();
    expect((await w.broker.credentials("audit")).expiration).toBe(minted.expiration);
  });
});
