import type { Clock } from "../clock.js";
import type { ProfileConfig } from "../config/types.js";
import { WindowClosedError } from "../errors.js";
import type { Minter, Minted } from "../sts/mint.js";
import { assumeRoleDurationSeconds, scopedDescription, scopedDurationSeconds, scopedParentLifeMs, sessionName, sourceIdentityOf } from "../sts/rules.js";
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
  // assume-role, opt-in (the trust policy must allow sts:SetSourceIdentity): CloudTrail names who asked.
  const sourceIdentity = cfg.sourceIdentity && window.who ? sourceIdentityOf(window.who) : undefined;
  const minted = await deps.minter.mint({
    region: cfg.region,
    base,
    policy: policy.policy,
    durationSeconds,
    description: scopedDescription(name, window),
    ...(cfg.roleArn ? { roleArn: cfg.roleArn, roleSessionName: sessionName(name), ...(sourceIdentity ? { sourceIdentity } : {}) } : {}),
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
  return { session, minted, durationSeconds };
}

/** The mint's audit line: what was asked of STS and what it gave (never a secret). */
export function mintAuditFields(name: string, cfg: ProfileConfig, window: Window, outcome: MintOutcome): Record<string, unknown> {
  const { session, minted, durationSeconds } = outcome;
  return {
    profile: name,
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
