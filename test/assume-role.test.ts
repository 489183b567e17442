import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchCredentials, startStack, type Stack } from "./helpers/stack.js";
import { SANDBOX_USER } from "./sandbox/context.js";
import { profileToml, ROLE_ARN } from "./helpers/config.js";

const ASSUME_ROLE_PROFILE = profileToml("audit", {
  role_arn: ROLE_ARN,
  scope: ["audit-logs/2026/"],
  window: "5m",
  max_window: "1h",
  session_ttl: "1h",
});

describe("assume-role mode: role chaining's 15-minute minimum never outlives a 5-minute window", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ profileToml: ASSUME_ROLE_PROFILE });
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("mints with AssumeRole (900 s, the minimum), serves Expiration = the window's end, and the policy denies from then on", async () => {
    expect((await stack.cli(["grant", "audit", "--for", "5m", "--reason", "short look"])).code).toBe(0);
    const st = JSON.parse((await stack.cli(["status", "--json"])).stdout);
    const windowEnd = Date.parse(st.profiles.audit.window.end);
    expect(st.profiles.audit.mode).toBe("assume-role");
    const env = await stack.clientEnv("audit");
    const { status, body } = await fetchCredentials(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, env.AWS_CONTAINER_AUTHORIZATION_TOKEN!);
    expect(status).toBe(200);
    // Served expiry is the window's end (to the second), although AWS keeps the session 15 minutes.
    // Two instants compared, not a duration measured: Expiration is whole seconds.
    expect(Math.abs(Date.parse(body.Expiration!) - windowEnd)).toBeLessThan(1000);
    expect(Date.parse(body.Expiration!)).toBeLessThanOrEqual(windowEnd);
    expect(body.RoleArn).toContain("s3-readonly-jit");

    const calls = stack.sandbox.requests.filter((r) => r.action === "AssumeRole");
    expect(calls).toHaveLength(1);
    expect(stack.sandbox.count("GetScopedCredentials")).toBe(0);
    const p = calls[0]!.params;
    expect(p.RoleArn).toBe(ROLE_ARN);
    expect(p.DurationSeconds).toBe("900");
    // CloudTrail names the person who logged in (GetCallerIdentity on the SSO role credentials).
    expect(p.RoleSessionName).toBe(SANDBOX_USER);
    const policy = JSON.parse(String(p.Policy)) as { Statement: Array<{ Effect: string; Action?: string; Condition?: Record<string, Record<string, string>> }> };
    const timeDeny = policy.Statement.find((s) => s.Effect === "Deny" && s.Action === "*");
    expect(timeDeny?.Condition?.DateGreaterThanEquals?.["aws:CurrentTime"]).toBe(new Date(Math.floor(windowEnd / 1000) * 1000).toISOString().replace(".000Z", "Z"));
    // Without source_identity = true, no SourceIdentity is sent (the trust policy may not allow it).
    expect(p.SourceIdentity).toBeUndefined();
  });
});
