import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { waitForFile } from "./helpers/wait.js";
import { SANDBOX_USER } from "./sandbox/context.js";
import { AUDIT, PROFILE_TOML, ROLE_ARN, profileToml } from "./helpers/config.js";
import { fetchCredentials, startStack, type Stack } from "./helpers/stack.js";

/**
 * The person in every trail: the IAM Identity Center user who logged in (as AWS names them, from
 * GetCallerIdentity on the SSO role credentials) is in the audit line of each mint and in what
 * CloudTrail records of it: ScopedSessionDescription in scoped mode, RoleSessionName and (opt-in)
 * SourceIdentity in assume-role mode. The sandbox records the STS request as AWS received it.
 */
describe("the person who logged in, in the audit log and in CloudTrail's view of the mint", () => {
  let stack: Stack;
  beforeAll(async () => {
    const chained = profileToml("chained", { ...AUDIT, role_arn: ROLE_ARN, source_identity: true });
    stack = await startStack({ profileToml: PROFILE_TOML + chained });
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function mintLine(profile: string): Promise<Record<string, unknown>> {
    expect((await stack.cli(["grant", profile, "--for", "10m", "--reason", "INC-9 person trail"])).code).toBe(0);
    const env = await stack.clientEnv(profile);
    const r = await fetchCredentials(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, env.AWS_CONTAINER_AUTHORIZATION_TOKEN!);
    expect(r.status).toBe(200);
    // The audit writes asynchronously: wait for the mint's line to reach the file.
    return waitForFile(
      path.join(stack.env.XDG_STATE_HOME!, "s3jit", "audit.log"),
      (text) =>
        text
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((l) => l.event === "mint" && l.profile === profile && l.accessKeyId === r.body.AccessKeyId),
      `the mint line of ${profile}`,
    );
  }

  /** The STS request that minted `accessKeyId`, as the sandbox received it (its Policy is the session's). */
  function stsRequestFor(action: string, accessKeyId: string) {
    const policy = stack.sandbox.sessionPolicy(accessKeyId);
    expect(policy, "the sandbox issued the key the audit line names").toBeDefined();
    const reqs = stack.sandbox.requests.filter((q) => q.action === action && q.status === 200 && q.params.Policy === policy);
    expect(reqs).toHaveLength(1);
    return reqs[0]!;
  }

  it("scoped: the mint line names the person; STS received them in ScopedSessionDescription, with the OS account and the reason", async () => {
    const line = await mintLine("audit");
    expect(line.person).toBe(SANDBOX_USER);
    const req = stsRequestFor("GetScopedCredentials", String(line.accessKeyId));
    expect(String(req!.params.ScopedSessionDescription)).toMatch(new RegExp(`^s3jit audit for ${SANDBOX_USER} \\(\\S+\\): INC-9 person trail$`));
  });

  it("assume-role: RoleSessionName and SourceIdentity carry the person, as the mint line does", async () => {
    const line = await mintLine("chained");
    expect(line.person).toBe(SANDBOX_USER);
    const req = stsRequestFor("AssumeRole", String(line.accessKeyId));
    expect(req!.params.RoleSessionName).toBe(SANDBOX_USER);
    expect(req!.params.SourceIdentity).toBe(SANDBOX_USER);
  });

  it("asks AWS who the person is once per set of role credentials, not once per mint", () => {
    // Two profiles, one login, one set of role credentials for the permission set: one look-up.
    expect(stack.sandbox.count("GetCallerIdentity")).toBe(1);
  });
});
