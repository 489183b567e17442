import { ConfigError } from "../errors.js";
import { PolicyInvalidError, PolicyTooLargeError, buildSessionPolicy } from "../policy/build.js";
import { HoursInvalidError, parseHours } from "../windows/hours.js";
import { formatDuration } from "./duration.js";
import * as read from "./readers.js";
import type { Section } from "./section.js";
import { MODE_LIMITS, type ProfileConfig, type SsoConfig } from "./types.js";

/** A [profile.NAME] table of config.toml: read, defaulted, and checked for what could only fail later. */

/** Defaults, chosen so that a profile with no timing keys is still a short, bounded grant. */
const DEFAULTS = {
  /** One hour of access per grant, unless max_window is shorter (then max_window). */
  window: 3600_000,
  /** A working day: anything longer is standing access and should be a deliberate choice. */
  maxWindow: 8 * 3600_000,
  /** Valid in both modes (assume-role allows at most 1h); the mint also stops at the window's end. */
  sessionTtl: 3600_000,
} as const;

export const PROFILE_KEYS = [
  "sso", "account_id", "sso_role", "role_arn", "region", "scope", "kms_keys", "window", "max_window",
  "session_ttl", "grant", "require_reason", "hours", "timezone", "source_identity",
];

export function readProfile(s: Section, name: string, sso: Record<string, SsoConfig>): ProfileConfig {
  const ssoName = s.required("sso", read.string('the NAME of an [sso.NAME] table'), 'sso = "NAME", naming one of the [sso.NAME] tables');
  if (!Object.hasOwn(sso, ssoName)) {
    const known = Object.keys(sso).join(", ") || "none yet";
    s.fail("sso", `${JSON.stringify(ssoName)} is not defined; add an [sso.${ssoName}] table or name a defined one (${known})`);
  }
  const accountId = s.required("account_id", read.accountId, 'account_id = "123456789012"');
  const ssoRole = s.required("sso_role", read.roleName, 'sso_role = "NAME", the role your permission set gives you in that account');
  const roleArn = s.optional("role_arn", read.roleArn);
  const region = s.required("region", read.region, 'region = "eu-west-1", the region of the buckets (and of the STS endpoint used)');

  const scope = s.array("scope", read.scopeEntry, 'buckets or bucket/prefix paths, like ["reports", "audit-logs/2026/"]');
  if (scope === undefined) s.fail("scope", 'missing; set scope = ["bucket", "bucket/prefix/"], the data this profile may read');
  if (scope.length === 0) s.fail("scope", 'is empty; name at least one bucket or bucket/prefix, like ["reports"]');
  const kmsKeys = s.array("kms_keys", read.kmsKeyArn, "KMS key ARNs") ?? [];

  const maxWindow = s.optional("max_window", read.duration) ?? DEFAULTS.maxWindow;
  const window = s.optional("window", read.duration) ?? Math.min(DEFAULTS.window, maxWindow);
  if (window > maxWindow) {
    const which = s.has("max_window") ? "" : ", the default";
    s.fail("window", `${formatDuration(window)} is longer than max_window (${formatDuration(maxWindow)}${which}); use a window of at most ${formatDuration(maxWindow)}, or raise max_window`);
  }

  const mode = roleArn === undefined ? "scoped" : "assumeRole";
  const limits = MODE_LIMITS[mode];
  const sessionTtl = s.optional("session_ttl", read.duration) ?? DEFAULTS.sessionTtl;
  if (sessionTtl < limits.minTtl || sessionTtl > limits.maxTtl) {
    const why = mode === "scoped"
      ? "scoped mode (no role_arn) allows GetScopedCredentials sessions"
      : "assume-role mode (role_arn is set) is role chaining, which allows sessions";
    s.fail("session_ttl", `${formatDuration(sessionTtl)} is out of range: ${why} from ${formatDuration(limits.minTtl)} to ${formatDuration(limits.maxTtl)}`);
  }

  const hours = s.optional("hours", read.nonEmpty('the allowed hours, like "Mon-Fri 08:00-19:00"'));
  if (hours !== undefined) checkHours(s, hours);
  const timezone = s.optional("timezone", read.timezone);
  if (hours !== undefined && timezone === undefined) {
    s.fail("timezone", `missing; hours = ${JSON.stringify(hours)} needs a timezone, an IANA name like "Europe/Berlin" or "UTC"`);
  }

  const sourceIdentity = s.optional("source_identity", read.boolean) ?? false;
  if (sourceIdentity && roleArn === undefined) {
    s.fail("source_identity", "applies to assume-role mode only; set role_arn (whose trust policy allows sts:SetSourceIdentity and sts:TagSession) or remove source_identity: scoped sessions keep the SSO user's identity anyway");
  }

  const profile: ProfileConfig = {
    name,
    sso: ssoName,
    accountId,
    ssoRole,
    region,
    scope,
    kmsKeys,
    window,
    maxWindow,
    sessionTtl,
    grant: s.optional("grant", read.oneOf(["explicit", "on-demand"] as const)) ?? "explicit",
    requireReason: s.optional("require_reason", read.boolean) ?? false,
    sourceIdentity,
  };
  checkPolicy(s, profile);
  if (roleArn !== undefined) profile.roleArn = roleArn;
  if (hours !== undefined) profile.hours = hours;
  if (timezone !== undefined) profile.timezone = timezone;
  return profile;
}

/** A malformed `hours` would otherwise load and then fail every request of the profile. */
function checkHours(s: Section, hours: string): void {
  try {
    parseHours(hours);
  } catch (err) {
    if (err instanceof HoursInvalidError) s.fail("hours", err.message);
    throw err;
  }
}

/**
 * A trial build of the profile's session policy: whatever the builder refuses (a scope too large
 * for STS's 2048 characters, a key prefix no S3 key can have, a KMS key of another partition, a
 * region s3jit has no partition for) refuses the config now, naming the key, instead of failing
 * every mint later. The window's end is always 20 characters, so any window gives the same size.
 */
function checkPolicy(s: Section, profile: Pick<ProfileConfig, "scope" | "region" | "kmsKeys">): void {
  try {
    buildSessionPolicy({ scope: profile.scope, region: profile.region, kmsKeys: profile.kmsKeys, windowEnd: 0 });
  } catch (err) {
    if (err instanceof PolicyTooLargeError) s.fail("scope", err.message);
    if (err instanceof PolicyInvalidError && err.part) {
      const { key, index } = err.part;
      if (index === undefined) s.fail(key, err.message);
      throw new ConfigError(s.file, `${s.keyPath(key)}[${index}]`, err.message);
    }
    throw err;
  }
}
