import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MintRefusedError, UpstreamError } from "../../src/errors.js";
import type { SsoLogins } from "../../src/sso/logins.js";
import { AwsMinter, type MintRequest } from "../../src/sts/mint.js";
import type { AwsCredentials } from "../../src/types.js";
import { ssoWorld } from "../sso/sandbox-login.js";

const POLICY = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::audit-logs/*" }] });
const ROLE_ARN = "arn:aws:iam::123456789012:role/s3-readonly-jit";

/**
 * What STS answers reaches the broker as what it means: a refusal no retry can change is a
 * MintRefusedError (the broker stops retrying until the config changes), anything else an
 * UpstreamError to retry (issue 13).
 */
describe("STS answers as the broker sees them (sandbox STS)", () => {
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

  it.each([
    ["a policy over STS's size limit", { policy: POLICY.replace("audit-logs", "a".repeat(2048)) }, "PackedPolicyTooLarge"],
    ["a policy STS cannot parse", { policy: "{not json" }, "MalformedPolicyDocument"],
    ["a duration out of range (scoped)", { durationSeconds: 129_601 }, "ValidationError"],
    ["a duration out of range (assume-role)", { durationSeconds: 600, roleArn: ROLE_ARN, roleSessionName: "s3jit-audit" }, "ValidationError"],
  ])("%s: MintRefusedError naming STS's code, not a retryable UpstreamError", async (_what, over, awsCode) => {
    const err: unknown = await minter.mint(scoped(over)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MintRefusedError);
    expect(err).toMatchObject({ code: "MintRefused", awsCode });
  });

  it("throttling stays an UpstreamError to retry (after the SDK's own retries)", async () => {
    world.sandbox.inject({ action: "GetScopedCredentials", code: "Throttling", times: 3 });
    const err: unknown = await minter.mint(scoped()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).not.toBeInstanceOf(MintRefusedError);
    expect(err).toMatchObject({ retryAfterSeconds: 2 });
  });
});
