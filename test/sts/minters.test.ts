import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import type { SsoLogins } from "../../src/sso/logins.js";
import { AwsMinter } from "../../src/sts/mint.js";
import { startSandbox, type Sandbox } from "../sandbox/server.js";
import { pointSdkAt, sandboxLogins } from "../sso/sandbox-login.js";

const POLICY = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::audit-logs/*" }] });

describe("STS minters over one client per region (sandbox STS)", () => {
  const clock = new ManualClock(Date.now());
  let sandbox: Sandbox;
  let logins: SsoLogins;
  let restore: () => void;
  const minter = new AwsMinter();

  beforeAll(async () => {
    sandbox = await startSandbox({ autoApprove: true, now: () => clock.now() });
    restore = pointSdkAt(sandbox);
    logins = sandboxLogins(clock);
    await logins.startLogin("corp");
    await logins.waitLogin("corp");
  });
  afterAll(async () => {
    minter.destroy();
    restore();
    await sandbox.close();
  });

  it("each mint is signed with its own base credentials, though the region's client is shared", async () => {
    const a = await logins.roleCredentials("corp", "123456789012", "S3JitBase");
    // Other base credentials for the same region (as after a re-login or for a second role).
    clock.advance(58 * 60_000);
    const b = await logins.roleCredentials("corp", "123456789012", "S3JitBase");
    expect(b.accessKeyId).not.toBe(a.accessKeyId);
    const req = { region: "eu-west-1", policy: POLICY, durationSeconds: 60, description: "s3jit test" };
    await minter.mint({ ...req, base: b });
    await minter.mint({ ...req, base: a, durationSeconds: 30 });
    await minter.mint({ ...req, base: b });
    const signers = sandbox.requests.filter((r) => r.action === "GetScopedCredentials").map((r) => [r.accessKeyId, r.status]);
    expect(signers).toEqual([
      [b.accessKeyId, 200],
      [a.accessKeyId, 200],
      [b.accessKeyId, 200],
    ]);
  });

  it("scoped: GetScopedCredentials with the policy, duration and description; the caller's identity", async () => {
    const base = await logins.roleCredentials("corp", "123456789012", "S3JitBase");
    const minted = await minter.mint({ region: "eu-west-1", base, policy: POLICY, durationSeconds: 120, description: "d".repeat(300) });
    const sent = sandbox.requests.filter((r) => r.action === "GetScopedCredentials").at(-1)!;
    expect(sent.params.DurationSeconds).toBe("120");
    expect(String(sent.params.ScopedSessionDescription)).toHaveLength(256);
    expect(minted.arn).toMatch(/^arn:aws:sts::123456789012:assumed-role\/AWSReservedSSO_S3JitBase_/);
    expect(minted.expiration).toBe(Math.floor((clock.now() + 120_000) / 1000) * 1000);
    expect(minted.requestId).toBeTruthy();
    expect(sandbox.sessionPolicy(minted.accessKeyId)).toBe(POLICY);
  });

  it("assume-role: AssumeRole into role_arn with the session name and source identity", async () => {
    const base = await logins.roleCredentials("corp", "123456789012", "S3JitBase");
    const minted = await minter.mint({
      region: "eu-west-1",
      base,
      policy: POLICY,
      durationSeconds: 900,
      description: "unused",
      roleArn: "arn:aws:iam::123456789012:role/s3-readonly-jit",
      roleSessionName: "s3jit-audit",
      sourceIdentity: "alice",
    });
    const sent = sandbox.requests.filter((r) => r.action === "AssumeRole").at(-1)!;
    expect(sent.params).toMatchObject({ RoleSessionName: "s3jit-audit", SourceIdentity: "alice", DurationSeconds: "900" });
    expect(minted.arn).toBe("arn:aws:sts::123456789012:assumed-role/s3-readonly-jit/s3jit-audit");
  });
});
