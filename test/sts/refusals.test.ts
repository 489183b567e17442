import { describe, expect, it } from "vitest";
import { MintRefusedError, UpstreamError } from "../../src/errors.js";
import { JIT_ROLE_ARN, READ_AUDIT_LOGS_POLICY, sandboxMinting } from "../helpers/sts-minting.js";

/**
 * What STS answers reaches the broker as what it means: a refusal no retry can change is a
 * MintRefusedError (the broker stops retrying until the config changes), anything else an
 * UpstreamError to retry (issue 13).
 */
describe("STS answers as the broker sees them (sandbox STS)", () => {
  const { world, minter, scoped } = sandboxMinting();

  it.each([
    ["a policy over STS's size limit", { policy: READ_AUDIT_LOGS_POLICY.replace("audit-logs", "a".repeat(2048)) }, "PackedPolicyTooLarge"],
    ["a policy STS cannot parse", { policy: "{not json" }, "MalformedPolicyDocument"],
    ["a duration out of range (scoped)", { durationSeconds: 129_601 }, "ValidationError"],
    ["a duration out of range (assume-role)", { durationSeconds: 600, roleArn: JIT_ROLE_ARN, roleSessionName: "s3jit-audit" }, "ValidationError"],
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
