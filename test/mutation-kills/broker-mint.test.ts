import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { mintAuditFields, mintSession, type RoleCredentials } from "../../src/broker/mint.js";
import { policyFor } from "../../src/broker/session-cache.js";
import { WindowClosedError } from "../../src/errors.js";
import type { Minted, MintRequest, Minter } from "../../src/sts/mint.js";
import type { AwsCredentials } from "../../src/types.js";
import type { Window } from "../../src/windows/windows.js";
import { auditProfile, configOf } from "../broker/harness.js";
import { ROLE_ARN } from "../helpers/config.js";

/**
 * One mint, as STS is asked for it (durations, the parent's life, SourceIdentity, the session
 * name, who is named) and what the session and its audit line carry. mintSession is called
 * directly with a recording STS: every request is compared whole.
 */

const MINUTE = 60_000;
const SSO_ARN = (who: string) => `arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_S3JitBase_0123456789abcdef/${who}`;

class RecordingMinter implements Minter {
  readonly asked: MintRequest[] = [];
  readonly whoAsked: string[] = [];
  /** What GetCallerIdentity answers, in turn; an Error rejects. */
  identities: Array<string | Error> = [];
  extra: Partial<Minted> = {};

  constructor(
    private readonly clock: ManualClock,
    withWhoAmI: boolean,
  ) {
    if (!withWhoAmI) this.whoAmI = undefined;
  }

  mint(req: MintRequest): Promise<Minted> {
    this.asked.push(req);
    return Promise.resolve({
      accessKeyId: "ASIAMINTED",
      secretAccessKey: "minted-secret",
      sessionToken: "minted-token",
      expiration: this.clock.now() + req.durationSeconds * 1000,
      arn: req.roleArn ? `${req.roleArn}/session` : SSO_ARN("parent"),
      ...this.extra,
    });
  }

  whoAmI?: (region: string, base: AwsCredentials) => Promise<string> = (_region, base) => {
    this.whoAsked.push(base.accessKeyId);
    const next = this.identities.shift() ?? new Error("no identity scripted");
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
}

class Logins implements RoleCredentials {
  readonly asked: number[] = [];
  baseKey = "ASIABASE1";
  constructor(
    private readonly clock: ManualClock,
    private readonly ttlMs = 60 * MINUTE,
  ) {}
  roleCredentials(_sso: string, _a: string, _r: string, minLifeMs = 0): Promise<AwsCredentials> {
    this.asked.push(minLifeMs);
    return Promise.resolve({ accessKeyId: this.baseKey, secretAccessKey: "b", sessionToken: "b", expiration: this.clock.now() + this.ttlMs });
  }
}

function setup(opts: { roleArn?: boolean; sourceIdentity?: boolean; whoAmI?: boolean; windowMs?: number; who?: string } = {}) {
  const clock = new ManualClock();
  const keys = opts.roleArn ? { role_arn: ROLE_ARN, ...(opts.sourceIdentity ? { source_identity: true } : {}) } : {};
  const cfg = configOf(auditProfile(keys)).profiles.audit!;
  const now = clock.now();
  const window: Window = { profile: "audit", start: now, end: now + (opts.windowMs ?? 30 * MINUTE), reason: "INC-9", grantedAt: now, ...(opts.who ? { who: opts.who } : {}) };
  const minter = new RecordingMinter(clock, opts.whoAmI ?? false);
  const logins = new Logins(clock);
  const policy = policyFor(cfg, window.end);
  const run = () => mintSession({ clock, logins, minter }, "audit", cfg, window, policy);
  return { clock, cfg, window, minter, logins, policy, run };
}

describe("mintSession asks STS for exactly what the window and mode allow", () => {
  it("scoped: asks SSO for a parent that outlives the session by the margin, and STS for the window's rest", async () => {
    const t = setup({ who: "alice" });
    const out = await t.run();
    expect(t.logins.asked).toEqual([30 * MINUTE + 5000]);
    expect(t.minter.asked).toEqual([
      { region: "eu-west-1", base: expect.objectContaining({ accessKeyId: "ASIABASE1" }) as unknown, policy: t.policy.policy, durationSeconds: 1800, description: "s3jit audit for alice: INC-9" },
    ]);
    expect(out.durationSeconds).toBe(1800);
    expect(out.session).toStrictEqual({
      profile: "audit",
      accessKeyId: "ASIAMINTED",
      secretAccessKey: "minted-secret",
      sessionToken: "minted-token",
      expiration: t.window.end,
      accountId: "123456789012",
      roleArn: SSO_ARN("parent"),
      windowEnd: t.window.end,
      policyHash: t.policy.hash,
    });
    expect(out).not.toHaveProperty("person");
  });

  it("assume-role: asks SSO for any parent, STS for the role with the profile's session name; the role is the session's", async () => {
    const t = setup({ roleArn: true, windowMs: 2 * 60 * MINUTE });
    t.minter.extra = { requestId: "req-77" };
    const out = await t.run();
    expect(t.logins.asked).toEqual([0]);
    expect(t.minter.asked[0]).toStrictEqual({
      region: "eu-west-1",
      base: expect.objectContaining({ accessKeyId: "ASIABASE1" }) as unknown,
      policy: t.policy.policy,
      durationSeconds: 3600,
      description: "s3jit audit: INC-9",
      roleArn: ROLE_ARN,
      roleSessionName: "s3jit-audit",
    });
    expect(out.session.roleArn).toBe(ROLE_ARN);
    expect(out.session.requestId).toBe("req-77");
  });

  it("exactly one second of window left is still minted (for 1 s); less is WindowClosed before STS is asked", async () => {
    const t = setup({ windowMs: 1000 });
    expect((await t.run()).durationSeconds).toBe(1);
    const u = setup({ windowMs: 999 });
    await expect(u.run()).rejects.toBeInstanceOf(WindowClosedError);
    expect(u.minter.asked).toEqual([]);
  });

  it("SourceIdentity (assume-role, opted in): the person AWS names, else the OS account that granted; none without either or without opting in", async () => {
    const person = setup({ roleArn: true, sourceIdentity: true, whoAmI: true, who: "osuser" });
    person.minter.identities = [SSO_ARN("bob@example.com")];
    const a = await person.run();
    expect(a.person).toBe("bob@example.com");
    expect(person.minter.asked[0]).toMatchObject({ sourceIdentity: "bob@example.com", roleSessionName: "bob@example.com", description: "s3jit audit for bob@example.com (osuser): INC-9" });

    const os = setup({ roleArn: true, sourceIdentity: true, who: "osuser" });
    await os.run();
    expect(os.minter.asked[0]).toMatchObject({ sourceIdentity: "osuser", roleSessionName: "s3jit-audit" });

    const nobody = setup({ roleArn: true, sourceIdentity: true });
    await nobody.run();
    expect(nobody.minter.asked[0]).not.toHaveProperty("sourceIdentity");

    const optedOut = setup({ roleArn: true, who: "osuser" });
    await optedOut.run();
    expect(optedOut.minter.asked[0]).not.toHaveProperty("sourceIdentity");
  });

  it("who logged in is asked once per set of base credentials; a failed look-up is asked again at the next mint", async () => {
    const t = setup({ whoAmI: true });
    t.minter.identities = [new Error("throttled"), SSO_ARN("carol"), SSO_ARN("dave")];
    expect((await t.run()).person).toBeUndefined();
    expect((await t.run()).person).toBe("carol");
    expect((await t.run()).person).toBe("carol");
    expect(t.minter.whoAsked).toEqual(["ASIABASE1", "ASIABASE1"]);
    t.logins.baseKey = "ASIABASE2";
    expect((await t.run()).person).toBe("dave");
    expect(t.minter.whoAsked).toEqual(["ASIABASE1", "ASIABASE1", "ASIABASE2"]);
  });

  it("remembers at most 16 sets of base credentials: the 17th forgets the first", async () => {
    const t = setup({ whoAmI: true });
    t.minter.identities = Array.from({ length: 18 }, (_, i) => SSO_ARN(`user${i}`));
    for (let i = 1; i <= 2; i++) {
      t.logins.baseKey = `ASIABASEKEY${i}`;
      await t.run();
    }
    // Below the bound, an older set is still remembered.
    t.logins.baseKey = "ASIABASEKEY1";
    expect((await t.run()).person).toBe("user0");
    expect(t.minter.whoAsked).toHaveLength(2);
    for (let i = 3; i <= 17; i++) {
      t.logins.baseKey = `ASIABASEKEY${i}`;
      await t.run();
    }
    t.logins.baseKey = "ASIABASEKEY17";
    await t.run();
    expect(t.minter.whoAsked).toHaveLength(17);
    t.logins.baseKey = "ASIABASEKEY1";
    expect((await t.run()).person).toBe("user17");
    expect(t.minter.whoAsked).toHaveLength(18);
  });

  it("the mint's audit line: exact fields, the person where known, the token's size share only when STS said", async () => {
    const t = setup({ whoAmI: true });
    t.minter.identities = [SSO_ARN("erin")];
    t.minter.extra = { requestId: "req-1" };
    const out = await t.run();
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(mintAuditFields("audit", t.cfg, t.window, out)).toStrictEqual({
      profile: "audit",
      person: "erin",
      accessKeyId: "ASIAMINTED",
      expiration: iso(t.window.end),
      awsExpiration: iso(out.minted.expiration),
      windowEnd: iso(t.window.end),
      policyHash: t.policy.hash,
      mode: "scoped",
      durationSeconds: 1800,
      stsRequestId: "req-1",
    });

    const r = setup({ roleArn: true });
    r.minter.extra = { sessionTokenUtilization: 42 };
    const fields = mintAuditFields("audit", r.cfg, r.window, await r.run());
    expect(fields).toMatchObject({ mode: "assume-role", sessionTokenUtilization: 42 });
    expect(fields).not.toHaveProperty("person");
  });
});
