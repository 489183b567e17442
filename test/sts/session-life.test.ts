import { describe, expect, it } from "vitest";
import { UpstreamError } from "../../src/errors.js";
import { JIT_ROLE_ARN, sandboxMinting } from "../helpers/sts-minting.js";

/** What a minted session carries besides the credentials, and the parent's life as real STS holds it. */
describe("STS sessions: token utilization and the parent's remaining life (sandbox STS)", () => {
  const sts = sandboxMinting();
  const { world, minter, scoped } = sts;

  it("SessionTokenUtilization comes back with the session when STS reports it (both modes)", async () => {
    const a = await minter.mint(scoped());
    const b = await minter.mint(scoped({ durationSeconds: 900, roleArn: JIT_ROLE_ARN, roleSessionName: "s3jit-audit" }));
    for (const minted of [a, b]) {
      expect(minted.sessionTokenUtilization).toBeGreaterThan(0);
      expect(minted.sessionTokenUtilization).toBeLessThanOrEqual(100);
    }
  });

  it("STS rejects (does not clamp) a scoped duration longer than the parent's remaining life; the whole remaining life is fine", async () => {
    // Base credentials with two minutes and a half left, at the sandbox's clock.
    world.clock.advance(sts.base.expiration - world.clock.now() - 150_000);
    const leftSeconds = Math.floor((sts.base.expiration - world.clock.now()) / 1000);
    const err: unknown = await minter.mint(scoped({ durationSeconds: leftSeconds + 1 })).catch((e: unknown) => e);
    // Retryable: fresh base credentials fix it.
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toContain("InsufficientSessionLifetime");
    const minted = await minter.mint(scoped({ durationSeconds: leftSeconds }));
    expect(minted.expiration).toBeLessThanOrEqual(sts.base.expiration);
  });
});
