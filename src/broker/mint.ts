import type { Clock } from "../clock.js";
import type { ProfileConfig } from "../config/types.js";
import { WindowClosedError } from "../errors.js";
import type { Minter, Minted } from "../sts/mint.js";
import { assumeRoleDurationSeconds, personOf, scopedDescription, scopedDurationSeconds, scopedParentLifeMs, sessionName, sourceIdentityOf } from "../sts/rules.js";
import type { AwsCredentials, Session } from "../types.js";
import { iso } from "../time.js";
import type { Window } from "../windows/windows.js";
import type { SessionPolicy } from "./session-cache.js";

/** What a mint needs of the SSO side: the permission set's role credentials (the parent session). */
export interface RoleCredentials {
  roleCredentials(sso: string, accountId: string, roleName: string, minLifeMs?: number): Promise<AwsCredentials>;
}

export interface MintDeps {
  clock: Clock;
  logins: RoleCredentials;
  minter: Minter;
}

export interface MintOutcome {
  session: Session;
  minted: Minted;
  durationSeconds: number;
  /** The IAM Identity Center user the session acts for, where AWS said. */
  person?: string;
}

/**
 * One mint for one window: base credentials from SSO, then STS in the profile's mode. It stores
 * nothing and decides nothing: the broker checks that the outcome still fits the state.
 */
export async function mintSession(deps: MintDeps, name: string, cfg: ProfileConfig, window: Window, policy: SessionPolicy): Promise<MintOutcome> {
  let now = deps.clock.now();
  // Scoped sessions end with their parent: ask for base credentials that outlive the session wanted.
  const wanted = cfg.roleArn ? 0 : scopedParentLifeMs(cfg.sessionTtl, window.end - now);
  const base = await deps.logins.roleCredentials(cfg.sso, cfg.accountId, cfg.ssoRole, wanted);
  now = deps.clock.now();
  const left = window.end - now;
  const durationSeconds = cfg.roleArn ? assumeRoleDurationSeconds(cfg.sessionTtl, left) : scopedDurationSeconds(cfg.sessionTtl, left, base.expiration - now);
  if (durationSeconds < 1) throw new WindowClosedError(name);
  const person = await personFor(deps.minter, cfg.region, base);
  // assume-role, opt-in (the trust policy must allow sts:SetSourceIdentity): CloudTrail names who asked.
  const asker = person ?? window.who;
  const sourceIdentity = cfg.sourceIdentity && asker ? sourceIdentityOf(asker) : undefined;
  const minted = await deps.minter.mint({
    region: cfg.region,
    base,
    policy: policy.policy,
    durationSeconds,
    description: scopedDescription(name, window, person),
    ...(cfg.roleArn ? { roleArn: cfg.roleArn, roleSessionName: sessionName(name, person), ...(sourceIdentity ? { sourceIdentity } : {}) } : {}),
  });
  const session: Session = {
    profile: name,
    accessKeyId: minted.accessKeyId,
    secretAccessKey: minted.secretAccessKey,
    sessionToken: minted.sessionToken,
    expiration: Math.min(minted.expiration, window.end),
    accountId: cfg.accountId,
    roleArn: cfg.roleArn ?? minted.arn,
    windowEnd: window.end,
    policyHash: policy.hash,
    ...(minted.requestId ? { requestId: minted.requestId } : {}),
  };
  return { session, minted, durationSeconds, ...(person ? { person } : {}) };
}

/**
 * Who logged in, from AWS: one GetCallerIdentity per set of base credentials (they change at each
 * login and role-credential refresh), remembered per minter. Not knowing is no reason to refuse a
 * mint: the trail then names the OS account alone, as before.
 */
const people = new WeakMap<Minter, Map<string, Promise<string | undefined>>>();

function personFor(minter: Minter, region: string, base: AwsCredentials): Promise<string | undefined> {
  if (!minter.whoAmI) return Promise.resolve(undefined);
  let known = people.get(minter);
  if (!known) people.set(minter, (known = new Map()));
  let p = known.get(base.accessKeyId);
  if (!p) {
    if (known.size >= 16) known.clear();
    p = minter.whoAmI(region, base).then(personOf, () => undefined);
    // A failed look-up is tried again with the next mint.
    void p.then((who) => who ?? known.delete(base.accessKeyId));
    known.set(base.accessKeyId, p);
  }
  return p;
}

/** The mint's audit line: what was asked of STS and what it gave (never a secret). */
export function mintAuditFields(name: string, cfg: ProfileConfig, window: Window, outcome: MintOutcome): Record<string, unknown> {
  const { session, minted, durationSeconds } = outcome;
  return {
    profile: name,
    ...(outcome.person ? { person: outcome.person } : {}),
    accessKeyId: session.accessKeyId,
    expiration: iso(session.expiration),
    awsExpiration: iso(minted.expiration),
    windowEnd: iso(window.end),
    policyHash: session.policyHash,
    mode: cfg.roleArn ? "assume-role" : "scoped",
    durationSeconds,
    stsRequestId: minted.requestId,
    // How close the session token is to STS's size limit (the policy and tags count), in percent.
    ...(minted.sessionTokenUtilization !== undefined ? { sessionTokenUtilization: minted.sessionTokenUtilization } : {}),
  };
}
