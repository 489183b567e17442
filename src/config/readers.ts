import type { ScopeEntry } from "./types.js";
import { parseDuration } from "./duration.js";
import { Invalid, describe, type Reader } from "./section.js";

// The value readers config.toml is checked with; each error says what was wrong and what is allowed.

export function string(allowed: string): Reader<string> {
  return (v) => {
    if (typeof v !== "string") throw new Invalid(`must be ${allowed}, not ${describe(v)}`);
    return v;
  };
}

/** A string that must match `pattern`; `allowed` describes it with an example. */
export function matching(pattern: RegExp, allowed: string): Reader<string> {
  const read = string(allowed);
  return (v) => {
    const s = read(v);
    if (!pattern.test(s)) throw new Invalid(`${JSON.stringify(s)} is not valid; use ${allowed}`);
    return s;
  };
}

export function oneOf<T extends string>(choices: readonly T[]): Reader<T> {
  const allowed = choices.map((c) => JSON.stringify(c)).join(" or ");
  return (v) => {
    if (typeof v !== "string" || !(choices as readonly string[]).includes(v)) {
      throw new Invalid(`must be ${allowed}, not ${describe(v)}`);
    }
    return v as T;
  };
}

export const boolean: Reader<boolean> = (v) => {
  if (typeof v !== "boolean") throw new Invalid(`must be true or false (without quotes), not ${describe(v)}`);
  return v;
};

export function integer(min: number, max: number, meaning: string): Reader<number> {
  return (v) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw new Invalid(`must be an integer from ${min} to ${max} (${meaning}), not ${describe(v)}`);
    }
    return v;
  };
}

export const duration: Reader<number> = (v) => {
  if (typeof v !== "string") {
    throw new Invalid(`must be a duration in quotes, like "30m", "2h" or "1h30m", not ${describe(v)}`);
  }
  try {
    return parseDuration(v);
  } catch (err) {
    if (err instanceof RangeError) throw new Invalid(err.message);
    throw err;
  }
};

/** Names of profiles and SSO instances: they appear in URLs, keychain entries and CLI arguments. */
export const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
export const NAME_RULE = "1 to 64 letters, digits, '_', '.' or '-'";

// Commercial, China and GovCloud regions all share this shape: us-east-1, cn-north-1,
// us-gov-west-1, eu-central-2, us-isob-east-1.
export const region = matching(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'an AWS region name, like "eu-west-1" or "us-east-1"');

export const accountId = matching(/^\d{12}$/, 'the 12-digit AWS account ID in quotes, like "123456789012"');

// IAM role names: up to 64 of [\w+=,.@-]. Permission sets yield roles named after them.
export const roleName = matching(/^[\w+=,.@-]{1,64}$/, 'an IAM role name (the permission set\'s name), like "S3JitBase"');

export const roleArn = matching(
  /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/,
  'an IAM role ARN, like "arn:aws:iam::123456789012:role/s3-readonly-jit" (no wildcards)',
);

// Only key ARNs: kms:Decrypt is authorised against the key, so an alias ARN in the policy would
// never match, and a wildcard would open every key in the account.
export const kmsKeyArn = matching(
  /^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d{1,2}:\d{12}:key\/[A-Za-z0-9-]{1,128}$/,
  'a KMS key ARN, like "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" (no aliases, no wildcards)',
);

export const httpsUrl: Reader<string> = (v) => {
  const allowed = 'the https:// URL of the AWS access portal, like "https://corp.awsapps.com/start"';
  const s = string(allowed)(v);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new Invalid(`${JSON.stringify(s)} is not a URL; use ${allowed}`);
  }
  if (url.protocol !== "https:") throw new Invalid(`${JSON.stringify(s)} is not an https:// URL; use ${allowed}`);
  if (url.username || url.password) throw new Invalid(`must not carry a user name or password; use ${allowed}`);
  return s;
};

export const registrationScope = matching(/^[^\s,]+$/, 'an OAuth scope without spaces or commas, like "sso:account:access"');

export const timezone: Reader<string> = (v) => {
  const allowed = 'an IANA time zone name, like "Europe/Berlin", "America/New_York" or "UTC"';
  const s = string(allowed)(v);
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: s });
  } catch {
    throw new Invalid(`${JSON.stringify(s)} is not a time zone; use ${allowed}`);
  }
  return s;
};

export const nonEmpty = (allowed: string): Reader<string> => matching(/\S/, allowed);

const BUCKET_RULE =
  "S3 bucket names are 3 to 63 lowercase letters, digits, dots and hyphens, start and end with a letter or digit, have no \"..\" and are not IP addresses";

// Prefixes and suffixes S3 reserves (access point aliases, Object Lambda, directory and table
// buckets); none of them can be read with the plain s3:GetObject policy s3jit builds.
const RESERVED_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/** Why `name` is not a usable S3 bucket name, or undefined if it is one. */
export function bucketNameProblem(name: string): string | undefined {
  const shown = JSON.stringify(name);
  if (name.length < 3 || name.length > 63) return `${shown} is not a valid bucket name (${name.length} characters); ${BUCKET_RULE}`;
  if (!/^[a-z0-9.-]+$/.test(name)) return `${shown} is not a valid bucket name (it has characters S3 does not allow); ${BUCKET_RULE}`;
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) return `${shown} is not a valid bucket name (it must start and end with a letter or digit); ${BUCKET_RULE}`;
  if (name.includes("..")) return `${shown} is not a valid bucket name (it has ".."); ${BUCKET_RULE}`;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return `${shown} is not a valid bucket name (it looks like an IP address); ${BUCKET_RULE}`;
  const reserved = RESERVED_PREFIXES.find((p) => name.startsWith(p)) ?? RESERVED_SUFFIXES.find((s) => name.endsWith(s));
  if (reserved) return `${shown} is not a general purpose bucket name ("${reserved}" is reserved by S3); ${BUCKET_RULE}`;
  return undefined;
}

const SCOPE_RULE = 'name a bucket ("reports") or a bucket and a key prefix ("audit-logs/2026/"); every object under it is included';

/**
 * "bucket" or "bucket/prefix". Scopes name data, never patterns or actions: the policy builder
 * decides the (read-only) actions, and a wildcard here would quietly widen what a window opens.
 */
export const scopeEntry: Reader<ScopeEntry> = (v) => {
  const s = string(`a string; ${SCOPE_RULE}`)(v);
  if (/[*?]/.test(s)) {
    throw new Invalid(`${JSON.stringify(s)} has a wildcard; scopes name data, not patterns: ${SCOPE_RULE}`);
  }
  // "${...}" is an IAM policy variable: "${*}" in a resource ARN means a literal "*" to IAM, so a
  // prefix containing it would smuggle a wildcard past the check above.
  if (s.includes("${")) {
    throw new Invalid(`${JSON.stringify(s)} contains "\${", which IAM reads as a policy variable; ${SCOPE_RULE}`);
  }
  if (/\p{Cc}/u.test(s)) throw new Invalid(`${JSON.stringify(s)} contains a control character; ${SCOPE_RULE}`);
  const slash = s.indexOf("/");
  const bucket = slash === -1 ? s : s.slice(0, slash);
  const prefix = slash === -1 ? "" : s.slice(slash + 1);
  if (bucket === "") throw new Invalid(`${JSON.stringify(s)} names no bucket; ${SCOPE_RULE}`);
  const problem = bucketNameProblem(bucket);
  if (problem) throw new Invalid(problem);
  return { bucket, prefix };
};
