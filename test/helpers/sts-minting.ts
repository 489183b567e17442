import { afterAll, beforeAll } from "vitest";
import { AwsMinter, type MintRequest } from "../../src/sts/mint.js";
import type { AwsCredentials } from "../../src/types.js";
import { ssoWorld } from "../sso/sandbox-login.js";

export const READ_AUDIT_LOGS_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::audit-logs/*" }],
});
export const JIT_ROLE_ARN = "arn:aws:iam::123456789012:role/s3-readonly-jit";

/**
 * The real AwsMinter against the sandbox's STS, signing with the base credentials of a user
 * logged in through the sandbox's SSO. Call it inside a describe block: it logs in before the
 * block's first test and closes the sandbox after its last, so the tests share one login (and
 * one sandbox clock, `world.clock`).
 */
export function sandboxMinting() {
  const world = ssoWorld();
  const minter = new AwsMinter();
  let base: AwsCredentials | undefined;
  const currentBase = (): AwsCredentials => {
    if (!base) throw new Error("sandboxMinting: the base credentials exist from beforeAll on");
    return base;
  };

  beforeAll(async () => {
    const logins = await world.loggedIn();
    base = await logins.roleCredentials("corp", "123456789012", "S3JitBase");
  });
  afterAll(async () => {
    minter.destroy();
    await world.close();
  });

  return {
    world,
    minter,
    get base(): AwsCredentials {
      return currentBase();
    },
    /** A scoped mint of the audit-logs reads for ten minutes, with `over` changed. */
    scoped(over: Partial<MintRequest> = {}): MintRequest {
      return { region: "eu-west-1", base: currentBase(), policy: READ_AUDIT_LOGS_POLICY, durationSeconds: 600, description: "s3jit test", ...over };
    },
  };
}
