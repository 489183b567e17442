/**
 * The duration and naming rules of a mint, per mode (DESIGN.md §3): what the broker asks STS for.
 * Plain functions of their inputs, so the limits are tested without STS.
 */

/** AssumeRole with SSO credentials is role chaining: DurationSeconds 900..3600. */
export const ROLE_CHAINING_MS = { min: 900_000, max: 3600_000 } as const;

/** STS rejects a ScopedSessionDescription longer than this. */
const MAX_DESCRIPTION = 256;

/**
 * assume-role: min(session_ttl, window left) within 900..3600 s. A session minted near the
 * window's end outlives it at AWS, which is why the policy denies everything from the window's end on.
 */
export function assumeRoleDurationSeconds(sessionTtlMs: number, windowLeftMs: number): number {
  return Math.floor(Math.min(ROLE_CHAINING_MS.max, Math.max(ROLE_CHAINING_MS.min, Math.min(sessionTtlMs, windowLeftMs))) / 1000);
}

/**
 * Scoped sessions stay this far inside their parent's life. STS rejects (does not clamp) a
 * DurationSeconds longer than the parent's remaining life, and it counts from its own clock and
 * from when the request arrives: a local clock a second behind AWS would otherwise fail every mint.
 */
export const PARENT_MARGIN_MS = 5000;

/**
 * scoped: GetScopedCredentials can never outlive its parent; ask for no more than all three allow,
 * and end a margin before the parent does.
 */
export function scopedDurationSeconds(sessionTtlMs: number, windowLeftMs: number, parentLeftMs: number): number {
  return Math.floor(Math.min(sessionTtlMs, windowLeftMs, parentLeftMs - PARENT_MARGIN_MS) / 1000);
}

/** scoped: how long the parent (the SSO role credentials) must still live for the session wanted. */
export function scopedParentLifeMs(sessionTtlMs: number, windowLeftMs: number): number {
  return Math.min(sessionTtlMs, windowLeftMs) + PARENT_MARGIN_MS;
}

/**
 * The person an IAM Identity Center session belongs to: the role session name of its ARN
 * (`arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_<set>_<id>/alice@example.com`).
 * Undefined for anything else: s3jit names no one it cannot read from AWS's own answer.
 */
export function personOf(arn: string): string | undefined {
  const m = /^arn:aws[\w-]*:sts::\d{12}:assumed-role\/AWSReservedSSO_[^/]+\/(.+)$/.exec(arn);
  return m?.[1];
}

/**
 * CloudTrail shows this (scoped mode): the person who logged in, the OS account that opened the
 * window and why, as the audit log does.
 */
export function scopedDescription(profile: string, window: { who?: string; reason: string }, person?: string): string {
  const who = person ? `${person}${window.who ? ` (${window.who})` : ""}` : window.who;
  return `s3jit ${profile}${who ? ` for ${who}` : ""}: ${window.reason}`.slice(0, MAX_DESCRIPTION);
}

/**
 * SourceIdentity allows [\w+=,.@-]{2,64}; `who` is a login name from the user's environment, so a
 * name AWS would refuse (a space, an umlaut) is made acceptable instead of failing every mint.
 */
export function sourceIdentityOf(who: string): string | undefined {
  const id = who.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
  return id.length >= 2 ? id : undefined;
}

/**
 * RoleSessionName allows [\w+=,.@-]{2,64}. CloudTrail shows it on every call the session makes,
 * so it names the person who logged in where AWS told us who that is.
 */
export function sessionName(profile: string, person?: string): string {
  const id = person ? sourceIdentityOf(person) : undefined;
  return id ?? `s3jit-${profile}`.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
}
