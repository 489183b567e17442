import { createHash } from "node:crypto";
import type { ScopeEntry } from "../config/types.js";
import { PolicyInvalidError, PolicyTooLargeError } from "./errors.js";
import { KMS_KEY_ARN, bucketProblem, prefixProblem } from "./names.js";
import { arnPartition, arnRegion, partitionOf, type Partition } from "./partition.js";
import { BUCKET_READS, OBJECT_READS, READ_ACTIONS, S3_ARN_CONTEXT, assertReadOnly, stsText } from "./readonly.js";

export { READ_ACTIONS, assertReadOnly } from "./readonly.js";
export { PolicyInvalidError, PolicyTooLargeError } from "./errors.js";

/** STS's limit on a session policy, in characters of minified JSON. */
export const MAX_POLICY_CHARS = 2048;

export interface SessionPolicyInput {
  /**
   * What the session may read. A prefix is a plain string prefix, exactly as S3 compares keys:
   * "reports" also covers "reports-old/…" and "reports.csv"; write "reports/" to mean the folder.
   * "" is the whole bucket.
   */
  scope: ScopeEntry[];
  /** The profile's region: it decides the partition (ARNs, kms:ViaService's DNS suffix). */
  region: string;
  /**
   * Key ARNs whose kms:Decrypt is allowed (via S3 in the key's region only). Empty: any key, via S3,
   * for encryption contexts inside the scope — what SSE-KMS reads need with no key ARNs known.
   */
  kmsKeys?: string[];
  /** Epoch ms: from this second on the policy denies everything. */
  windowEnd: number;
}

type Statement = Record<string, unknown>;
/** The scope grouped by bucket; `null` means the whole bucket. */
type Buckets = Map<string, string[] | null>;

/** One string where IAM accepts one, a list otherwise: every character counts towards 2048. */
const oneOrMany = (list: string[]): string | string[] => (list.length === 1 ? list[0]! : list);

/**
 * The scope with everything another entry already covers removed, grouped by bucket. Prefixes
 * are compared as strings, the way S3 and StringLike do.
 */
function normalise(scope: ScopeEntry[]): Buckets {
  const byBucket: Buckets = new Map();
  scope.forEach(({ bucket, prefix }, index) => {
    const problem = bucketProblem(bucket) ?? prefixProblem(prefix);
    if (problem) throw new PolicyInvalidError(`scope "${bucket}/${prefix}": ${problem}`, { key: "scope", index });
    const known = byBucket.get(bucket);
    if (known === null) return;
    byBucket.set(bucket, prefix === "" ? null : [...(known ?? []), prefix]);
  });
  for (const [bucket, prefixes] of byBucket) {
    if (prefixes === null) continue;
    const sorted = [...new Set(prefixes)].sort();
    // After sorting, a prefix that covers others comes right before them.
    const kept: string[] = [];
    for (const p of sorted) if (!kept.some((k) => p.startsWith(k))) kept.push(p);
    byBucket.set(bucket, kept);
  }
  return byBucket;
}

/** "YYYY-MM-DDTHH:MM:SSZ", rounded down to the second so the Deny never starts late. */
function policyTime(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0 || ms > 253402300799000) {
    throw new PolicyInvalidError(`the window end ${String(ms)} is not a time a policy can carry`);
  }
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

interface Shape {
  partition: Partition;
  /** Listed keys (the stricter option), or empty for "any key, in-scope contexts only". */
  kmsKeys: string[];
  end: string;
}

/**
 * The statements, in DESIGN.md §3's shape, packed for STS's 2048 characters. The scope's ARNs
 * appear in exactly two places: the Deny of every S3 request outside them, and the Deny of every
 * KMS encryption context outside them. Those explicit Denies are what confine a session even
 * against a bucket, access point or key policy that names the session itself (an implicit deny
 * would not), so the Allow names only the read actions and leaves the resources to them —
 * the same permissions as repeating every ARN in the Allow, in a third less text. Denies only
 * take away, so they may use action wildcards ("s3:*", "s3:List*") where that is shorter.
 */
function statements(buckets: Buckets, { partition, kmsKeys, end }: Shape): Statement[] {
  const s3 = (path: string) => `arn:${partition.name}:s3:::${path}`;
  const objects: string[] = [];
  const all: string[] = [];
  // Buckets with the same prefixes share one list Deny.
  const listGroups = new Map<string, { buckets: string[]; prefixes: string[] }>();
  for (const [bucket, prefixes] of buckets) {
    const arn = s3(bucket);
    all.push(arn);
    if (prefixes === null) {
      objects.push(`${arn}/*`);
      continue;
    }
    for (const p of prefixes) objects.push(`${arn}/${p}*`);
    const key = JSON.stringify(prefixes);
    const group = listGroups.get(key) ?? { buckets: [], prefixes };
    group.buckets.push(arn);
    listGroups.set(key, group);
  }
  // S3 passes the object's ARN as aws:s3:arn, or the bucket's with S3 Bucket Keys: a scoped
  // bucket's own ARN is an in-scope context even when only a prefix is in scope (the GET that
  // makes S3 call KMS is still confined to the prefix).
  const scoped = [...objects, ...all];

  const out: Statement[] = [{ Effect: "Allow", Action: [...OBJECT_READS, ...BUCKET_READS], Resource: "*" }];
  // S3 calls kms:Decrypt as the caller only for a GET it has already authorised, so "any key via
  // S3" decrypts nothing the object statements do not allow to be read; the encryption-context
  // Deny pins it to the scope as well, in case a key policy names the session.
  const viaS3 =
    kmsKeys.length > 0 ? [...new Set(kmsKeys.map((k) => `s3.${arnRegion(k) ?? ""}.${partition.dnsSuffix}`))] : [`s3.*.${partition.dnsSuffix}`];
  out.push({
    Effect: "Allow",
    Action: "kms:Decrypt",
    Resource: kmsKeys.length > 0 ? oneOrMany(kmsKeys) : "*",
    Condition: { StringLike: { "kms:ViaService": oneOrMany(viaS3) } },
  });

  out.push({ Effect: "Deny", NotAction: [...READ_ACTIONS], Resource: "*" });
  // Every S3 request outside the scope's ARNs: other buckets and prefixes, access points.
  out.push({ Effect: "Deny", Action: "s3:*", NotResource: oneOrMany(scoped) });
  // A request without s3:prefix matches StringNotLike too, so listing a prefixed bucket's root is denied.
  for (const { buckets: arns, prefixes } of listGroups.values()) {
    out.push({ Effect: "Deny", Action: "s3:List*", Resource: oneOrMany(arns), Condition: { StringNotLike: { "s3:prefix": oneOrMany(prefixes.map((p) => `${p}*`)) } } });
  }
  out.push({ Effect: "Deny", Action: "kms:Decrypt", Resource: "*", Condition: { StringNotLike: { [S3_ARN_CONTEXT]: oneOrMany(scoped) } } });
  out.push({ Effect: "Deny", Action: "*", Resource: "*", Condition: { DateGreaterThanEquals: { "aws:CurrentTime": end } } });
  return out;
}

const render = (buckets: Buckets, shape: Shape): string => stsText(JSON.stringify({ Version: "2012-10-17", Statement: statements(buckets, shape) }));

/** Entries in the normalised scope, one per whole bucket or kept prefix. */
function entries(buckets: Buckets): Array<[string, string | null]> {
  return [...buckets].flatMap(([b, ps]): Array<[string, string | null]> => (ps === null ? [[b, null]] : ps.map((p) => [b, p])));
}

function regroup(list: Array<[string, string | null]>): Buckets {
  const m: Buckets = new Map();
  for (const [b, p] of list) m.set(b, p === null ? null : [...(m.get(b) ?? []), p]);
  return m;
}

function tooLarge(buckets: Buckets, shape: Shape, length: number): PolicyTooLargeError {
  const all = entries(buckets);
  let fit = all.length - 1;
  while (fit > 0 && render(regroup(all.slice(0, fit)), shape).length > MAX_POLICY_CHARS) fit--;
  // The largest part: the bucket whose removal shrinks the policy most.
  let largest = { bucket: "", entries: 0, chars: -1 };
  for (const [bucket, prefixes] of buckets) {
    const rest = new Map(buckets);
    rest.delete(bucket);
    // With no other bucket, what is left is the fixed part: measured with an empty bucket name.
    const chars = length - render(rest.size > 0 ? rest : new Map([["", null]]), shape).length;
    if (chars > largest.chars) largest = { bucket, entries: prefixes?.length ?? 1, chars };
  }
  return new PolicyTooLargeError(all.length, all.length - fit, length, MAX_POLICY_CHARS, largest);
}

function checkKmsKeys(kmsKeys: string[], partition: Partition): void {
  kmsKeys.forEach((k, index) => {
    if (!KMS_KEY_ARN.test(k)) throw new PolicyInvalidError(`${JSON.stringify(k)} is not a KMS key ARN (no aliases, no wildcards)`, { key: "kms_keys", index });
    if (arnPartition(k) !== partition.name) {
      throw new PolicyInvalidError(
        `${JSON.stringify(k)} is in the ${arnPartition(k)} partition, but the profile's region is in ${partition.name}: S3 there can only use keys whose ARN starts "arn:${partition.name}:kms:"`,
        { key: "kms_keys", index },
      );
    }
  });
}

/**
 * The session policy for one window: read-only access to `scope`, nothing once the window ends.
 * Minified JSON in STS's character set, at most 2048 characters, checked by assertReadOnly
 * before it is returned. Throws PolicyInvalidError for a scope, region or key it will not put in
 * a policy, and PolicyTooLargeError when the scope does not fit.
 */
export function buildSessionPolicy(input: SessionPolicyInput): string {
  const partition = partitionOf(input.region);
  const kmsKeys = [...new Set(input.kmsKeys ?? [])];
  checkKmsKeys(input.kmsKeys ?? [], partition);
  if (input.scope.length === 0) throw new PolicyInvalidError("the scope is empty: name at least one bucket or bucket/prefix", { key: "scope" });
  const shape: Shape = { partition, kmsKeys, end: policyTime(input.windowEnd) };
  const buckets = normalise(input.scope);
  const policy = render(buckets, shape);
  if (policy.length > MAX_POLICY_CHARS) throw tooLarge(buckets, shape, policy.length);
  assertReadOnly(policy);
  return policy;
}

/**
 * How many characters the profile's session policy takes, against STS's limit: what `status
 * --json` and `doctor` show. The window's end is always 20 characters, so any window gives the
 * same size. Throws like buildSessionPolicy except for a scope that does not fit, whose size it
 * reports (over the limit).
 */
export function policySize(profile: { scope: ScopeEntry[]; region: string; kmsKeys?: string[] }): { chars: number; limit: number } {
  try {
    return { chars: buildSessionPolicy({ ...profile, windowEnd: 0 }).length, limit: MAX_POLICY_CHARS };
  } catch (err) {
    if (err instanceof PolicyTooLargeError) return { chars: err.length, limit: MAX_POLICY_CHARS };
    throw err;
  }
}

/** sha256 of the policy text (hex): what the audit log and the session cache record. */
export function policyHash(policy: string): string {
  return createHash("sha256").update(policy, "utf8").digest("hex");
}
