import { describe, expect, it } from "vitest";
import type { ScopeEntry } from "../../src/config/types.js";
import { buildSessionPolicy } from "../../src/policy/build.js";
import { SIMULATED_ACCOUNT as ACCOUNT, simulateSessionPolicy } from "../helpers/policy-simulator.js";

/**
 * The session policy, checked with an IAM policy simulator in every partition s3jit supports.
 * The SSO role's own policy allows everything, so whatever is refused is refused by the session
 * policy alone; "ExplicitlyDenied" is asserted wherever the policy must hold even against a
 * resource policy that names the session (an implicit deny would not).
 */

const END = Date.UTC(2026, 10, 28, 12, 0, 0);
const BEFORE = "2026-11-28T11:59:59Z";
const AT = "2026-11-28T12:00:00Z";
const AFTER = "2026-11-28T13:30:00Z";

interface Partition {
  name: string;
  region: string;
  otherRegion: string;
  dns: string;
}

const PARTITIONS: Partition[] = [
  { name: "aws", region: "eu-west-1", otherRegion: "us-east-1", dns: "amazonaws.com" },
  { name: "aws-cn", region: "cn-north-1", otherRegion: "cn-northwest-1", dns: "amazonaws.com.cn" },
  { name: "aws-us-gov", region: "us-gov-west-1", otherRegion: "us-gov-east-1", dns: "amazonaws.com" },
];

const SCOPE: ScopeEntry[] = [
  { bucket: "audit-logs", prefix: "2026/" },
  { bucket: "reports-bucket", prefix: "" },
  // No trailing slash: a plain string prefix, exactly as S3 compares keys.
  { bucket: "shared", prefix: "reports" },
  { bucket: "intl", prefix: "レポート/" },
];

interface Case {
  name: string;
  action: string;
  resource: string;
  context?: Record<string, string>;
}

function cases(p: Partition) {
  const s3 = (path: string) => `arn:${p.name}:s3:::${path}`;
  const key = `arn:${p.name}:kms:${p.region}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const otherKey = `arn:${p.name}:kms:${p.region}:${ACCOUNT}:key/ffffffff-12ab-34cd-56ef-1234567890ab`;
  const keyElsewhere = `arn:${p.name}:kms:${p.otherRegion}:${ACCOUNT}:key/eeeeeeee-12ab-34cd-56ef-1234567890ab`;
  const via = (region = p.region) => ({ "kms:ViaService": `s3.${region}.${p.dns}` });
  const ec = (arn: string) => ({ "kms:EncryptionContext:aws:s3:arn": arn });

  const inScope: Case[] = [
    { name: "GetObject under the prefix", action: "s3:GetObject", resource: s3("audit-logs/2026/01/a.json") },
    { name: "GetObjectVersion under the prefix", action: "s3:GetObjectVersion", resource: s3("audit-logs/2026/01/a.json") },
    { name: "GetObjectAttributes under the prefix", action: "s3:GetObjectAttributes", resource: s3("audit-logs/2026/01/a.json") },
    { name: "GetObjectVersionAttributes under the prefix", action: "s3:GetObjectVersionAttributes", resource: s3("audit-logs/2026/01/a.json") },
    { name: "ListBucket at the prefix", action: "s3:ListBucket", resource: s3("audit-logs"), context: { "s3:prefix": "2026/" } },
    { name: "ListBucket below the prefix", action: "s3:ListBucket", resource: s3("audit-logs"), context: { "s3:prefix": "2026/01/" } },
    { name: "ListBucketVersions at the prefix", action: "s3:ListBucketVersions", resource: s3("audit-logs"), context: { "s3:prefix": "2026/" } },
    { name: "GetBucketLocation of a prefixed bucket", action: "s3:GetBucketLocation", resource: s3("audit-logs") },
    { name: "GetObject anywhere in a whole bucket", action: "s3:GetObject", resource: s3("reports-bucket/any/key.csv") },
    { name: "ListBucket of a whole bucket, no prefix", action: "s3:ListBucket", resource: s3("reports-bucket") },
    { name: "ListBucketVersions of a whole bucket, no prefix", action: "s3:ListBucketVersions", resource: s3("reports-bucket") },
    { name: "ListBucket of a whole bucket, any prefix", action: "s3:ListBucket", resource: s3("reports-bucket"), context: { "s3:prefix": "x/" } },
    { name: '"reports" covers the folder reports/', action: "s3:GetObject", resource: s3("shared/reports/q1.csv") },
    // The documented meaning of a prefix without a slash: S3 prefixes are plain string prefixes.
    { name: '"reports" also covers the sibling reports-old/', action: "s3:GetObject", resource: s3("shared/reports-old/q1.csv") },
    { name: '"reports" also covers reports.csv', action: "s3:GetObject", resource: s3("shared/reports.csv") },
    { name: "GetObject of a Japanese key under a Japanese prefix", action: "s3:GetObject", resource: s3("intl/レポート/2026年.csv") },
    { name: "ListBucket under a Japanese prefix", action: "s3:ListBucket", resource: s3("intl"), context: { "s3:prefix": "レポート/" } },
    { name: "kms:Decrypt via S3 of an in-scope object (any key, no key ARNs configured)", action: "kms:Decrypt", resource: key, context: { ...via(), ...ec(s3("audit-logs/2026/01/a.json")) } },
    { name: "kms:Decrypt via S3 under an S3 Bucket Key (context is the bucket)", action: "kms:Decrypt", resource: otherKey, context: { ...via(), ...ec(s3("audit-logs")) } },
    { name: "kms:Decrypt via S3 in another region (the bucket is elsewhere)", action: "kms:Decrypt", resource: keyElsewhere, context: { ...via(p.otherRegion), ...ec(s3("reports-bucket/q1.csv")) } },
    { name: "kms:Decrypt via S3 of a Japanese key", action: "kms:Decrypt", resource: key, context: { ...via(), ...ec(s3("intl/レポート/a.csv")) } },
  ];

  // Reads outside the scope: each must be denied explicitly, not merely left unallowed.
  const outOfScopeReads: Case[] = [
    { name: "GetObject in another bucket", action: "s3:GetObject", resource: s3("other-bucket/2026/a.json") },
    { name: "GetObject in a bucket whose name starts like a scoped one", action: "s3:GetObject", resource: s3("audit-logs-x/2026/a") },
    { name: "GetObject under another prefix", action: "s3:GetObject", resource: s3("audit-logs/2025/a.json") },
    { name: "GetObjectVersion under another prefix", action: "s3:GetObjectVersion", resource: s3("audit-logs/2025/a.json") },
    { name: "GetObjectAttributes under another prefix", action: "s3:GetObjectAttributes", resource: s3("audit-logs/2025/a.json") },
    { name: "GetObjectVersionAttributes in another bucket", action: "s3:GetObjectVersionAttributes", resource: s3("other-bucket/a") },
    { name: "GetObject of the key that is the prefix without its slash", action: "s3:GetObject", resource: s3("audit-logs/2026") },
    { name: '"レポート/" does not cover the sibling レポート-old/', action: "s3:GetObject", resource: s3("intl/レポート-old/q1.csv") },
    { name: '"reports" does not cover report.csv', action: "s3:GetObject", resource: s3("shared/report.csv") },
    { name: "GetObject beside the Japanese prefix", action: "s3:GetObject", resource: s3("intl/レポ/a.csv") },
    { name: "ListBucket outside the prefix", action: "s3:ListBucket", resource: s3("audit-logs"), context: { "s3:prefix": "2025/" } },
    { name: "ListBucket of the prefix without its slash", action: "s3:ListBucket", resource: s3("audit-logs"), context: { "s3:prefix": "2026" } },
    { name: "ListBucket of a prefixed bucket's root", action: "s3:ListBucket", resource: s3("audit-logs"), context: { "s3:prefix": "" } },
    { name: "ListBucket of a prefixed bucket without a prefix", action: "s3:ListBucket", resource: s3("audit-logs") },
    { name: "ListBucketVersions outside the prefix", action: "s3:ListBucketVersions", resource: s3("audit-logs"), context: { "s3:prefix": "2025/" } },
    { name: "ListBucketVersions of a prefixed bucket without a prefix", action: "s3:ListBucketVersions", resource: s3("audit-logs") },
    { name: "ListBucket of another bucket", action: "s3:ListBucket", resource: s3("other-bucket"), context: { "s3:prefix": "2026/" } },
    { name: "ListBucketVersions of another bucket", action: "s3:ListBucketVersions", resource: s3("other-bucket") },
    { name: "GetBucketLocation of another bucket", action: "s3:GetBucketLocation", resource: s3("other-bucket") },
    { name: "GetObject through an access point", action: "s3:GetObject", resource: `arn:${p.name}:s3:${p.region}:${ACCOUNT}:accesspoint/ap/object/2026/a.json` },
    { name: "ListBucket through an access point", action: "s3:ListBucket", resource: `arn:${p.name}:s3:${p.region}:${ACCOUNT}:accesspoint/ap`, context: { "s3:prefix": "2026/" } },
    { name: "kms:Decrypt via S3 of an out-of-scope object", action: "kms:Decrypt", resource: key, context: { ...via(), ...ec(s3("audit-logs/2025/a.json")) } },
    { name: "kms:Decrypt via S3 of another bucket's Bucket Key", action: "kms:Decrypt", resource: key, context: { ...via(), ...ec(s3("other-bucket")) } },
    { name: "kms:Decrypt via S3 with no S3 encryption context", action: "kms:Decrypt", resource: key, context: via() },
    { name: "kms:Decrypt with an in-scope ARN of another partition", action: "kms:Decrypt", resource: key, context: { ...via(), ...ec(`arn:${p.name === "aws" ? "aws-cn" : "aws"}:s3:::audit-logs/2026/a`) } },
  ];

  // Everything that is not a read at all: denied explicitly by the Deny NotAction.
  const others: Case[] = [
    { name: "PutObject in scope", action: "s3:PutObject", resource: s3("audit-logs/2026/a.json") },
    { name: "DeleteObject in scope", action: "s3:DeleteObject", resource: s3("audit-logs/2026/a.json") },
    { name: "DeleteObjectVersion in scope", action: "s3:DeleteObjectVersion", resource: s3("reports-bucket/a") },
    { name: "PutObjectAcl in scope", action: "s3:PutObjectAcl", resource: s3("reports-bucket/a") },
    { name: "RestoreObject in scope", action: "s3:RestoreObject", resource: s3("reports-bucket/a") },
    { name: "GetObjectAcl in scope", action: "s3:GetObjectAcl", resource: s3("audit-logs/2026/a.json") },
    { name: "GetObjectTagging in scope", action: "s3:GetObjectTagging", resource: s3("reports-bucket/a") },
    { name: "GetObjectVersionForReplication in scope", action: "s3:GetObjectVersionForReplication", resource: s3("reports-bucket/a") },
    { name: "GetBucketPolicy of a scoped bucket", action: "s3:GetBucketPolicy", resource: s3("audit-logs") },
    { name: "PutBucketPolicy of a whole bucket", action: "s3:PutBucketPolicy", resource: s3("reports-bucket") },
    { name: "ListBucketMultipartUploads of a whole bucket", action: "s3:ListBucketMultipartUploads", resource: s3("reports-bucket") },
    { name: "GetDataAccess (Access Grants mint 12 h credentials)", action: "s3:GetDataAccess", resource: `arn:${p.name}:s3:${p.region}:${ACCOUNT}:access-grants/default` },
    { name: "s3express:CreateSession (directory buckets)", action: "s3express:CreateSession", resource: `arn:${p.name}:s3express:${p.region}:${ACCOUNT}:bucket/data--euw1-az1--x-s3` },
    { name: "Object Lambda GetObject", action: "s3-object-lambda:GetObject", resource: `arn:${p.name}:s3-object-lambda:${p.region}:${ACCOUNT}:accesspoint/ol` },
    { name: "CreateAccessPoint", action: "s3:CreateAccessPoint", resource: `arn:${p.name}:s3:${p.region}:${ACCOUNT}:accesspoint/ap` },
    { name: "ListAllMyBuckets", action: "s3:ListAllMyBuckets", resource: "*" },
    { name: "sts:AssumeRole", action: "sts:AssumeRole", resource: `arn:${p.name}:iam::${ACCOUNT}:role/admin` },
    { name: "iam:CreateAccessKey", action: "iam:CreateAccessKey", resource: `arn:${p.name}:iam::${ACCOUNT}:user/alice` },
    { name: "kms:Encrypt of a key via S3", action: "kms:Encrypt", resource: key, context: { ...via(), ...ec(s3("audit-logs/2026/a")) } },
    { name: "kms:GenerateDataKey of a key via S3", action: "kms:GenerateDataKey", resource: key, context: { ...via(), ...ec(s3("audit-logs/2026/a")) } },
    { name: "kms:ReEncryptFrom via S3", action: "kms:ReEncryptFrom", resource: key, context: { ...via(), ...ec(s3("audit-logs/2026/a")) } },
  ];

  // Not reads of data outside the scope, but never allowed: the Allow asks for S3 as the caller.
  const notAllowed: Case[] = [
    { name: "kms:Decrypt directly (not via S3) of an in-scope context", action: "kms:Decrypt", resource: key, context: ec(s3("audit-logs/2026/a")) },
    { name: "kms:Decrypt via another service", action: "kms:Decrypt", resource: key, context: { "kms:ViaService": `secretsmanager.${p.region}.${p.dns}`, ...ec(s3("audit-logs/2026/a")) } },
  ];

  // kms_keys set: the stricter option, only those keys, only via S3 in their own regions.
  const withKeys = { key, otherKey, keyElsewhere, via, ec, s3 };
  return { inScope, outOfScopeReads, others, notAllowed, withKeys };
}

describe.each(PARTITIONS)("session policy in the $name partition ($region)", (p) => {
  const policy = buildSessionPolicy({ scope: SCOPE, region: p.region, windowEnd: END });
  const { inScope, outOfScopeReads, others, notAllowed, withKeys } = cases(p);
  const run = (c: Case, time: string, text = policy) => simulateSessionPolicy(text, c.action, c.resource, { "aws:CurrentTime": time, ...c.context }, p.name);

  describe.each([
    ["before the window end", BEFORE, "Allowed"],
    ["at the window end", AT, "ExplicitlyDenied"],
    ["after the window end", AFTER, "ExplicitlyDenied"],
  ] as const)("reads in scope, %s", (_when, time, expected) => {
    it.each(inScope)("$name", async (c) => {
      expect(await run(c, time)).toBe(expected);
    });
  });

  describe.each([
    ["before the window end", BEFORE],
    ["after the window end", AFTER],
  ] as const)("%s", (_when, time) => {
    it.each(outOfScopeReads)("out of scope, explicitly denied: $name", async (c) => {
      expect(await run(c, time)).toBe("ExplicitlyDenied");
    });
    it.each(others)("not a read, explicitly denied: $name", async (c) => {
      expect(await run(c, time)).toBe("ExplicitlyDenied");
    });
    it.each(notAllowed)("never allowed: $name", async (c) => {
      expect(await run(c, time)).not.toBe("Allowed");
    });
  });

  describe("with kms_keys (the stricter option)", () => {
    const { key, otherKey, keyElsewhere, via, ec, s3 } = withKeys;
    const strict = buildSessionPolicy({ scope: SCOPE.slice(0, 2), region: p.region, kmsKeys: [key, keyElsewhere], windowEnd: END });
    const inside = ec(s3("audit-logs/2026/01/a.json"));
    it.each<[string, string, Record<string, string>, boolean]>([
      ["a listed key via S3, in-scope context", key, { ...via(), ...inside }, true],
      ["a listed key in another region via S3 there", keyElsewhere, { ...via(p.otherRegion), ...inside }, true],
      ["a listed key via S3 in a region of no listed key", key, { ...via(p.region.replace(/\d+$/, "9")), ...inside }, false],
      ["a key not listed, via S3, in-scope context", otherKey, { ...via(), ...inside }, false],
      ["a listed key via S3, out-of-scope context", key, { ...via(), ...ec(s3("audit-logs/2025/a")) }, false],
      ["a listed key directly", key, inside, false],
    ])("kms:Decrypt of %s", async (_what, resource, context, allowed) => {
      const outcome = await run({ name: "", action: "kms:Decrypt", resource, context }, BEFORE, strict);
      expect(outcome === "Allowed").toBe(allowed);
      expect(await run({ name: "", action: "kms:Decrypt", resource, context }, AT, strict)).toBe("ExplicitlyDenied");
    });
  });
});
