import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamError } from "../../src/errors.js";
import type { SsoLogins } from "../../src/sso/logins.js";
import { AwsMinter, type MintRequest } from "../../src/sts/mint.js";
import type { AwsCredentials } from "../../src/types.js";
import { ssoWorld } from "../sso/sandbox-login.js";

const POLICY = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::audit-logs/*" }] });
const ROLE_ARN = "arn:aws:iam::123456789012:role/s3-readonly-jit";

/** What a minted session carries besides the credentials, and the parent's life as real STS holds it. */
describe("STS sessions: token utilization and the parent's remaining life (sandbox STS)", () => {
  const world = ssoWorld();
  const minter = new AwsMinter();
  let logins: SsoLogins;
  let base: AwsCredentials;
  const scoped = (over: Partial<MintRequest> = {}): MintRequest => ({ region: "eu-west-1", base, policy: POLICY, durationSeconds: 600, description: "s3jit test", ...over });

  beforeAll(async () => {
    logins = await world.loggedIn();
    base = await logins.roleCredentials("corp", "123456789012", "S3JitBase");
  });
  afterAll(async () => {
    minter.destroy();
    await world.close();
  });

  it("SessionTokenUtilization comes back with the session when STS reports it (both modes)", async () => {
    const a = await minter.mint(scoped());
    const b = await minter.mint(scoped({ durationSeconds: 900, roleArn: ROLE_ARN, roleSessionName: "s3jit-audit" }));
    for (const minted of [a, b]) {
      expect(minted.sessionTokenUtilization).toBeGreaterThan(0);
      expect(minted.sessionTokenUtilization).toBeLessThanOrEqual(100);
    }
  });

  it("STS rejects (does not clamp) a scoped duration longer than the parent's remaining life; the whole remaining life is fine", async () => {
    // Base credentials with two minutes and a half left, at the sandbox's clock.
    world.clock.advance(base.expiration - world.clock.now() - 150_000);
    const leftSeconds = Math.floor((base.expiration - world.clock.now()) / 1000);
    const err: unknown = await minter.mint(scoped({ durationSeconds: leftSeconds + 1 })).catch((e: unknown) => e);
    // Retryable: fresh base credentials fix it.
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toContain("InsufficientSessionLifetime");
    const minted = await minter.mint(scoped({ durationSeconds: leftSeconds }));
    expect(minted.expiration).toBeLessThanOrEqual(base.expiration);
  });
});
