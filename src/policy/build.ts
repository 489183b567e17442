import { createHash } from "node:crypto";
import type { ScopeEntry } from "../config/types.js";
import { PolicyInvalidError, PolicyTooLargeError } from "./errors.js";
import { KMS_KEY_ARN, REGION, bucketProblem, prefixProblem } from "./names.js";
import { assertReadOnly, type ReadAction } from "./readonly.js";

export { READ_ACTIONS, assertReadOnly } from "./readonly.js";
export { PolicyInvalidError, PolicyTooLargeError } from "./errors.js";

/** AWS's limit on a session policy, in characters of minified JSON. */
export const MAX_POLICY_CHARS = 2048;

export interface SessionPolicyInput {
  /**
   * What the session may read. A prefix is a plain string prefix, exactly as S3 compares keys:
   * "reports" also covers "reports-old/…" and "reports.csv"; write "reports/" to mean the folder.
   * "" is the whole bucket.
   */
  scope: ScopeEntry[];
  /** The buckets' region: kms:Decrypt is allowed only via S3 in this region. */
  region: string;
  /** Key ARNs whose kms:Decrypt is allowed (via S3 only). */
  kmsKeys?: string[];
  /** Epoch ms: from this second on the policy denies everything. */
  windowEnd: number;
}

type Statement = Record<string, unknown>;

/** One string where IAM accepts one, a list otherwise: every character counts towards 2048. */
const oneOrMany = (list: string[]): string | string[] => (list.length === 1 ? list[0]! : list);

/**
 * The scope with everything another entry already covers removed, grouped by bucket. `null`
 * means the whole bucket. Prefixes are compared as strings, the way S3 and StringLike do.
 */
function normalise(scope: ScopeEntry[]): Map<string, string[] | null> {
  const byBucket = new Map<string, string[] | null>();
  for (const { bucket, prefix } of scope) {
    const problem = bucketProblem(bucket) ?? prefixProblem(prefix);
    if (problem) throw new PolicyInvalidError(`scope "${bucket}/${prefix}": ${problem}`);
    const known = byBucket.get(bucket);
    if (known === null) continue;
    byBucket.set(bucket, prefix === "" ? null : [...(known ?? []), prefix]);
  }
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

function statements(buckets: Map<string, string[] | null>, region: string, kmsKeys: string[], end: string): Statement[] {
  const objects: string[] = [];
  const whole: string[] = [];
  const partial: string[] = [];
  // Buckets with the same prefixes share one ListBucket statement.
  const listGroups = new Map<string, { buckets: string[]; prefixes: string[] }>();
  for (const [bucket, prefixes] of buckets) {
    const arn = `arn:aws:s3:::${bucket}`;
    if (prefixes === null) {
      objects.push(`${arn}/*`);
      whole.push(arn);
      continue;
    }
    for (const p of prefixes) objects.push(`${arn}/${p}*`);
    partial.push(arn);
    const key = JSON.stringify(prefixes);
    const group = listGroups.get(key) ?? { buckets: [], prefixes };
    group.buckets.push(arn);
    listGroups.set(key, group);
  }

  const actions: ReadAction[] = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"];
  const out: Statement[] = [{ Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: oneOrMany(objects) }];
  if (whole.length > 0) out.push({ Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: oneOrMany(whole) });
  if (partial.length > 0) out.push({ Effect: "Allow", Action: "s3:GetBucketLocation", Resource: oneOrMany(partial) });
  for (const { buckets: arns, prefixes } of listGroups.values()) {
    out.push({
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: oneOrMany(arns),
      Condition: { StringLike: { "s3:prefix": oneOrMany(prefixes.map((p) => `${p}*`)) } },
    });
  }
  if (kmsKeys.length > 0) {
    actions.push("kms:Decrypt");
    out.push({
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: oneOrMany(kmsKeys),
      Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
    });
  }
  // Explicit Denies, because a resource policy naming this session (a bucket or key policy) could
  // otherwise grant what the Allows leave out, or keep working after the window.
  out.push({ Effect: "Deny", NotAction: actions, Resource: "*" });
  out.push({ Effect: "Deny", Action: "*", Resource: "*", Condition: { DateGreaterThanEquals: { "aws:CurrentTime": end } } });
  return out;
}

const render = (buckets: Map<string, string[] | null>, region: string, kmsKeys: string[], end: string): string =>
  JSON.stringify({ Version: "2012-10-17", Statement: statements(buckets, region, kmsKeys, end) });

/** Entries in the normalised scope, one per whole bucket or kept prefix. */
function entries(buckets: Map<string, string[] | null>): Array<[string, string | null]> {
  return [...buckets].flatMap(([b, ps]): Array<[string, string | null]> => (ps === null ? [[b, null]] : ps.map((p) => [b, p])));
}

function regroup(list: Array<[string, string | null]>): Map<string, string[] | null> {
  const m = new Map<string, string[] | null>();
  for (const [b, p] of list) m.set(b, p === null ? null : [...(m.get(b) ?? []), p]);
  return m;
}

/**
 * The session policy for one window: read-only access to `scope`, nothing once the window ends.
 * Minified JSON, at most 2048 characters, checked by assertReadOnly before it is returned.
 * Throws PolicyInvalidError for a scope, region or key it will not put in a policy, and
 * PolicyTooLargeError when the scope does not fit.
 */
export function buildSessionPolicy(input: SessionPolicyInput): string {
  const kmsKeys = [...new Set(input.kmsKeys ?? [])];
  if (!REGION.test(input.region)) throw new PolicyInvalidError(`region ${JSON.stringify(input.region)} is not an AWS region like "eu-west-1"`);
  const badKey = kmsKeys.find((k) => !KMS_KEY_ARN.test(k));
  if (badKey !== undefined) throw new PolicyInvalidError(`${JSON.stringify(badKey)} is not a KMS key ARN (no aliases, no wildcards)`);
  if (input.scope.length === 0) throw new PolicyInvalidError("the scope is empty: name at least one bucket or bucket/prefix");
  const end = policyTime(input.windowEnd);
  const buckets = normalise(input.scope);

  const policy = render(buckets, input.region, kmsKeys, end);
  if (policy.length > MAX_POLICY_CHARS) {
    const all = entries(buckets);
    let fit = all.length - 1;
    while (fit > 0 && render(regroup(all.slice(0, fit)), input.region, kmsKeys, end).length > MAX_POLICY_CHARS) fit--;
    throw new PolicyTooLargeError(all.length, all.length - fit, policy.length, MAX_POLICY_CHARS);
  }
  assertReadOnly(policy);
  return policy;
}

/** sha256 of the policy text (hex): what the audit log and the session cache record. */
export function policyHash(policy: string): string {
  return createHash("sha256").update(policy, "utf8").digest("hex");
}
