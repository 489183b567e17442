import { describe, expect, it } from "vitest";
import fc from "fast-check";
// AGPL-3.0: a devDependency used by tests only, never by shipped code (DESIGN.md §3).
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { ScopeEntry } from "../config/types.js";
import { S3jitError } from "../errors.js";
import { MAX_POLICY_CHARS, PolicyTooLargeError, READ_ACTIONS, buildSessionPolicy, policyHash } from "./build.js";

const ACCOUNT = "123456789012";
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/ffffffff-12ab-34cd-56ef-1234567890ab`;
const END = Date.UTC(2026, 10, 28, 12, 0, 0);
const BEFORE = "2026-11-28T11:59:59Z";
const AT = "2026-11-28T12:00:00Z";
const AFTER = "2026-11-28T13:30:00Z";

type Outcome = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

/**
 * The SSO role's own policy allows everything, so whatever is refused is refused by the session
 * policy alone. KMS also needs the key policy to trust the account, as real keys do.
 */
async function simulate(policy: string, action: string, resource: string, context: Record<string, string>): Promise<Outcome> {
  const kms = action.startsWith("kms:");
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/S3JitBase/alice@example.com`,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: context,
      },
      sessionPolicy: JSON.parse(policy),
      identityPolicies: [{ name: "sso-role", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(kms && {
        resourcePolicy: {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" }],
        },
      }),
    },
    {},
  );
  if (result.resultType === "error") throw new Error(`simulation error for ${action} ${resource}: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Outcome;
}

const SCOPE: ScopeEntry[] = [
  { bucket: "audit-logs", prefix: "2026/" },
  { bucket: "reports-bucket", prefix: "" },
  // No trailing slash: a plain string prefix, exactly as S3 compares keys.
  { bucket: "shared", prefix: "reports" },
  { bucket: "shared2", prefix: "reports/" },
];
const POLICY = buildSessionPolicy({ scope: SCOPE, region: "eu-west-1", kmsKeys: [KEY], windowEnd: END });
const S3_VIA = { "kms:ViaService": "s3.eu-west-1.amazonaws.com" };

interface Case {
  name: string;
  action: string;
  resource: string;
  context?: Record<string, string>;
}

const IN_SCOPE: Case[] = [
  { name: "GetObject under the prefix", action: "s3:GetObject", resource: "arn:aws:s3:::audit-logs/2026/01/a.json" },
  { name: "GetObjectVersion under the prefix", action: "s3:GetObjectVersion", resource: "arn:aws:s3:::audit-logs/2026/01/a.json" },
  { name: "ListBucket at the prefix", action: "s3:ListBucket", resource: "arn:aws:s3:::audit-logs", context: { "s3:prefix": "2026/" } },
  { name: "ListBucket below the prefix", action: "s3:ListBucket", resource: "arn:aws:s3:::audit-logs", context: { "s3:prefix": "2026/01/" } },
  { name: "GetBucketLocation of a prefixed bucket", action: "s3:GetBucketLocation", resource: "arn:aws:s3:::audit-logs" },
  { name: "GetObject anywhere in a whole bucket", action: "s3:GetObject", resource: "arn:aws:s3:::reports-bucket/any/key.csv" },
  { name: "ListBucket of a whole bucket, no prefix", action: "s3:ListBucket", resource: "arn:aws:s3:::reports-bucket" },
  { name: "ListBucket of a whole bucket, any prefix", action: "s3:ListBucket", resource: "arn:aws:s3:::reports-bucket", context: { "s3:prefix": "x/" } },
  { name: "kms:Decrypt of the key via S3 in the region", action: "kms:Decrypt", resource: KEY, context: S3_VIA },
  { name: '"reports" covers the folder reports/', action: "s3:GetObject", resource: "arn:aws:s3:::shared/reports/q1.csv" },
  // The documented meaning of a prefix without a slash: S3 prefixes are plain string prefixes.
  { name: '"reports" also covers the sibling reports-old/', action: "s3:GetObject", resource: "arn:aws:s3:::shared/reports-old/q1.csv" },
  { name: '"reports" also covers reports.csv', action: "s3:GetObject", resource: "arn:aws:s3:::shared/reports.csv" },
  { name: '"reports/" covers the folder', action: "s3:GetObject", resource: "arn:aws:s3:::shared2/reports/q1.csv" },
];

const OUT_OF_SCOPE: Case[] = [
  { name: "PutObject in scope", action: "s3:PutObject", resource: "arn:aws:s3:::audit-logs/2026/a.json" },
  { name: "DeleteObject in scope", action: "s3:DeleteObject", resource: "arn:aws:s3:::audit-logs/2026/a.json" },
  { name: "DeleteObjectVersion in scope", action: "s3:DeleteObjectVersion", resource: "arn:aws:s3:::reports-bucket/a" },
  { name: "GetObjectAcl in scope", action: "s3:GetObjectAcl", resource: "arn:aws:s3:::audit-logs/2026/a.json" },
  { name: "GetObjectTagging in scope", action: "s3:GetObjectTagging", resource: "arn:aws:s3:::reports-bucket/a" },
  { name: "GetBucketPolicy of a scoped bucket", action: "s3:GetBucketPolicy", resource: "arn:aws:s3:::audit-logs" },
  { name: "PutBucketPolicy of a whole bucket", action: "s3:PutBucketPolicy", resource: "arn:aws:s3:::reports-bucket" },
  { name: "ListBucketVersions of a whole bucket", action: "s3:ListBucketVersions", resource: "arn:aws:s3:::reports-bucket" },
  {
    name: "GetDataAccess (Access Grants mint 12 h credentials)",
    action: "s3:GetDataAccess",
    resource: `arn:aws:s3:eu-west-1:${ACCOUNT}:access-grants/default`,
  },
  { name: "ListAllMyBuckets", action: "s3:ListAllMyBuckets", resource: "*" },
  { name: "sts:AssumeRole", action: "sts:AssumeRole", resource: `arn:aws:iam::${ACCOUNT}:role/admin` },
  { name: "iam:CreateAccessKey", action: "iam:CreateAccessKey", resource: `arn:aws:iam::${ACCOUNT}:user/alice` },
  { name: "GetObject in another bucket", action: "s3:GetObject", resource: "arn:aws:s3:::other-bucket/2026/a.json" },
  { name: "GetObject in a bucket whose name starts like a scoped one", action: "s3:GetObject", resource: "arn:aws:s3:::audit-logs-x/2026/a" },
  { name: "GetObject under another prefix", action: "s3:GetObject", resource: "arn:aws:s3:::audit-logs/2025/a.json" },
  { name: "GetObject of the key that is the prefix without its slash", action: "s3:GetObject", resource: "arn:aws:s3:::audit-logs/2026" },
  { name: "ListBucket outside the prefix", action: "s3:ListBucket", resource: "arn:aws:s3:::audit-logs", context: { "s3:prefix": "2025/" } },
  { name: "ListBucket of a prefixed bucket's root", action: "s3:ListBucket", resource: "arn:aws:s3:::audit-logs", context: { "s3:prefix": "" } },
  { name: "ListBucket of a prefixed bucket without a prefix", action: "s3:ListBucket", resource: "arn:aws:s3:::audit-logs" },
  { name: "ListBucket of another bucket", action: "s3:ListBucket", resource: "arn:aws:s3:::other-bucket", context: { "s3:prefix": "2026/" } },
  { name: "GetBucketLocation of another bucket", action: "s3:GetBucketLocation", resource: "arn:aws:s3:::other-bucket" },
  { name: '"reports/" does not cover the sibling reports-old/', action: "s3:GetObject", resource: "arn:aws:s3:::shared2/reports-old/q1.csv" },
  { name: '"reports" does not cover report.csv', action: "s3:GetObject", resource: "arn:aws:s3:::shared/report.csv" },
  { name: "kms:Decrypt directly (not via S3)", action: "kms:Decrypt", resource: KEY },
  { name: "kms:Decrypt via S3 in another region", action: "kms:Decrypt", resource: KEY, context: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } },
  { name: "kms:Decrypt of another key", action: "kms:Decrypt", resource: OTHER_KEY, context: S3_VIA },
  { name: "kms:Encrypt of the key", action: "kms:Encrypt", resource: KEY, context: S3_VIA },
  { name: "kms:GenerateDataKey of the key", action: "kms:GenerateDataKey", resource: KEY, context: S3_VIA },
];

describe("buildSessionPolicy, checked with an IAM policy simulator", () => {
  describe.each([
    ["before the window end", BEFORE, "Allowed"],
    ["at the window end", AT, "ExplicitlyDenied"],
    ["after the window end", AFTER, "ExplicitlyDenied"],
  ] as const)("read in scope, %s", (_when, time, expected) => {
    it.each(IN_SCOPE)("$name", async (c) => {
      expect(await simulate(POLICY, c.action, c.resource, { "aws:CurrentTime": time, ...c.context })).toBe(expected);
    });
  });

  describe.each([
    ["before the window end", BEFORE],
    ["after the window end", AFTER],
  ] as const)("everything else, %s", (_when, time) => {
    it.each(OUT_OF_SCOPE)("$name is denied", async (c) => {
      expect(await simulate(POLICY, c.action, c.resource, { "aws:CurrentTime": time, ...c.context })).not.toBe("Allowed");
    });
  });

  it("denies actions outside the read set explicitly, so a resource policy naming the session cannot grant them", async () => {
    expect(await simulate(POLICY, "s3:PutObject", "arn:aws:s3:::audit-logs/2026/a", { "aws:CurrentTime": BEFORE })).toBe("ExplicitlyDenied");
    expect(await simulate(POLICY, "s3:GetDataAccess", `arn:aws:s3:eu-west-1:${ACCOUNT}:access-grants/default`, { "aws:CurrentTime": BEFORE })).toBe(
      "ExplicitlyDenied",
    );
  });

  it("without KMS keys, kms:Decrypt is denied even via S3", async () => {
    const policy = buildSessionPolicy({ scope: SCOPE, region: "eu-west-1", windowEnd: END });
    expect(await simulate(policy, "kms:Decrypt", KEY, { "aws:CurrentTime": BEFORE, ...S3_VIA })).toBe("ExplicitlyDenied");
    expect(JSON.parse(policy).Statement.at(-2)).toEqual({ Effect: "Deny", NotAction: READ_ACTIONS.filter((a) => a !== "kms:Decrypt"), Resource: "*" });
  });
});

describe("buildSessionPolicy output", () => {
  it("is minified JSON with the window end to the second, rounded down so the Deny never starts late", () => {
    const policy = buildSessionPolicy({ scope: [{ bucket: "reports", prefix: "" }], region: "eu-west-1", windowEnd: END + 999 });
    expect(policy).toBe(JSON.stringify(JSON.parse(policy)));
    expect(JSON.parse(policy).Statement.at(-1)).toEqual({
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { DateGreaterThanEquals: { "aws:CurrentTime": "2026-11-28T12:00:00Z" } },
    });
  });

  it("drops scope entries another entry covers, so equivalent scopes give the same policy", () => {
    const lean = buildSessionPolicy({ scope: [{ bucket: "a-bucket", prefix: "x/" }, { bucket: "b-bucket", prefix: "" }], region: "eu-west-1", windowEnd: END });
    const padded = buildSessionPolicy({
      scope: [
        { bucket: "a-bucket", prefix: "x/1/" },
        { bucket: "b-bucket", prefix: "deep/" },
        { bucket: "a-bucket", prefix: "x/" },
        { bucket: "b-bucket", prefix: "" },
        { bucket: "a-bucket", prefix: "x/" },
        { bucket: "b-bucket", prefix: "other/" },
      ],
      region: "eu-west-1",
      windowEnd: END,
    });
    expect(padded).toBe(lean);
  });

  it("keeps sibling prefixes apart: neither of reports/ and reports-old/ covers the other", () => {
    const policy = JSON.parse(
      buildSessionPolicy({ scope: [{ bucket: "shared", prefix: "reports/" }, { bucket: "shared", prefix: "reports-old/" }], region: "eu-west-1", windowEnd: END }),
    );
    expect(policy.Statement[0].Resource).toEqual(["arn:aws:s3:::shared/reports-old/*", "arn:aws:s3:::shared/reports/*"]);
  });

  it("gives buckets with the same prefixes one ListBucket statement, so many buckets fit", () => {
    const scope = Array.from({ length: 15 }, (_, i) => ({ bucket: `data-${i}`, prefix: "2026/" }));
    const policy = JSON.parse(buildSessionPolicy({ scope, region: "eu-west-1", windowEnd: END }));
    const lists = policy.Statement.filter((s: { Action: unknown }) => s.Action === "s3:ListBucket");
    expect(lists).toHaveLength(1);
    expect(lists[0].Resource).toHaveLength(15);
  });

  it("hashes the policy text with sha256", () => {
    expect(policyHash("{}")).toBe("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    expect(policyHash(POLICY)).not.toBe(policyHash(buildSessionPolicy({ scope: SCOPE, region: "eu-west-1", kmsKeys: [KEY], windowEnd: END + 60_000 })));
  });
});

describe("the size limit", () => {
  const many = (n: number): ScopeEntry[] => Array.from({ length: n }, (_, i) => ({ bucket: "big-bucket", prefix: `team-${String(i).padStart(3, "0")}/data/` }));
  const build = (scope: ScopeEntry[]) => buildSessionPolicy({ scope, region: "eu-west-1", windowEnd: END });

  it("refuses a scope that does not fit and says how many entries must go", () => {
    let error: unknown;
    try {
      build(many(80));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyTooLargeError);
    const tooLarge = error as PolicyTooLargeError;
    expect(tooLarge).toBeInstanceOf(S3jitError);
    expect(tooLarge.code).toBe("PolicyTooLarge");
    expect(tooLarge.message).toContain(`drop at least ${tooLarge.excess} of them`);
    expect(tooLarge.message).toContain("80 scope entries");
    // The number is exact: dropping that many fits, one fewer does not.
    expect(build(many(80 - tooLarge.excess)).length).toBeLessThanOrEqual(MAX_POLICY_CHARS);
    expect(() => build(many(80 - tooLarge.excess + 1))).toThrow(PolicyTooLargeError);
  });

  it("counts entries after dropping covered ones: a covering prefix makes the same scope fit", () => {
    expect(() => build(many(80))).toThrow(PolicyTooLargeError);
    expect(() => build([...many(80), { bucket: "big-bucket", prefix: "team-" }])).not.toThrow();
  });
});

describe("input validation", () => {
  const base = { region: "eu-west-1", windowEnd: END };
  it.each([
    ["a too short bucket", "ab", ""],
    ["a too long bucket", "a".repeat(64), ""],
    ["upper case", "Reports", ""],
    ["an underscore", "my_bucket", ""],
    ['".."', "my..bucket", ""],
    ["a leading hyphen", "-bucket", ""],
    ["a trailing dot", "bucket.", ""],
    ["an IP address", "192.168.10.1", ""],
    ["a wildcard bucket", "audit-*", ""],
    ["a ? in the bucket", "audit-?", ""],
    ["a * in the prefix", "audit-logs", "2026/*"],
    ["a ? in the prefix", "audit-logs", "2026/0?/"],
    ["a policy variable in the prefix", "audit-logs", "home/${aws:username}/"],
    ["a control character in the prefix", "audit-logs", "a\nb"],
    ["a prefix longer than any key", "audit-logs", "k".repeat(1025)],
  ])("refuses %s", (_what, bucket, prefix) => {
    expect(() => buildSessionPolicy({ ...base, scope: [{ bucket, prefix }] })).toThrow(expect.objectContaining({ code: "PolicyInvalid" }));
  });

  it("accepts bucket names at the edges of the rules", () => {
    for (const bucket of ["abc", "a".repeat(63), "my.bucket-1", "1.2.3.4.5"]) {
      expect(() => buildSessionPolicy({ ...base, scope: [{ bucket, prefix: "" }] })).not.toThrow();
    }
  });

  it.each([
    ["an empty scope", { ...base, scope: [] }],
    ["a region that is not one", { ...base, region: "eu-west-1*", scope: SCOPE }],
    ["a KMS alias instead of a key", { ...base, scope: SCOPE, kmsKeys: [`arn:aws:kms:eu-west-1:${ACCOUNT}:alias/s3`] }],
    ["a wildcard KMS key", { ...base, scope: SCOPE, kmsKeys: [`arn:aws:kms:eu-west-1:${ACCOUNT}:key/*`] }],
    ["a window end that is no time", { ...base, scope: SCOPE, windowEnd: Number.NaN }],
  ])("refuses %s", (_what, input) => {
    expect(() => buildSessionPolicy(input)).toThrow(expect.objectContaining({ code: "PolicyInvalid" }));
  });
});

// Actions (with a resource of the type each one takes) that no session policy may allow.
const BUCKET_ACTIONS = ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucket", "s3:GetBucketAcl", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads", "s3:PutLifecycleConfiguration", "s3:GetEncryptionConfiguration"];
const OBJECT_ACTIONS = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObjectAcl", "s3:PutObjectAcl", "s3:GetObjectTagging", "s3:RestoreObject", "s3:GetObjectAttributes", "s3:AbortMultipartUpload", "s3:GetObjectRetention"];

const bucketName = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,10}[a-z0-9]$/);
const prefix = fc.oneof(fc.constant(""), fc.stringMatching(/^[a-zA-Z0-9!_.'()\-/ ]{1,12}$/));
const scopeArb = fc.array(fc.record({ bucket: fc.oneof(bucketName, fc.constantFrom("alpha", "beta")), prefix }), { minLength: 1, maxLength: 6 });
const timeArb = fc.integer({ min: END - 3 * 3600_000, max: END + 3 * 3600_000 }).map((ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z"));
const keyArb = fc.oneof(prefix, fc.constantFrom("2026/x", "alpha", "a"));
// An object key cannot be empty; "" stays a valid s3:prefix for ListBucket.
const objectKey = (key: string) => key || "index.html";

function inScope(scope: ScopeEntry[], bucket: string, key: string): boolean {
  return scope.some((s) => s.bucket === bucket && key.startsWith(s.prefix));
}

describe("properties", () => {
  it("never allows an action outside the read set, for any valid scope and time", async () => {
    await fc.assert(
      fc.asyncProperty(scopeArb, timeArb, fc.boolean(), fc.constantFrom(...BUCKET_ACTIONS, ...OBJECT_ACTIONS), keyArb, async (scope, time, scoped, action, key) => {
        const policy = buildSessionPolicy({ scope, region: "eu-west-1", kmsKeys: [KEY], windowEnd: END });
        // Aim at a scoped bucket half the time: that is where a mistake would show.
        const bucket = scoped ? scope[0]!.bucket : "unrelated-bucket";
        const resource = BUCKET_ACTIONS.includes(action) ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${objectKey(key)}`;
        expect(await simulate(policy, action, resource, { "aws:CurrentTime": time })).not.toBe("Allowed");
      }),
      { numRuns: 150 },
    );
  });

  it("allows a read only inside the scope and before the window end", async () => {
    await fc.assert(
      fc.asyncProperty(scopeArb, timeArb, fc.constantFrom("s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"), keyArb, fc.boolean(), async (scope, time, action, key, scoped) => {
        const policy = buildSessionPolicy({ scope, region: "eu-west-1", windowEnd: END });
        const bucket = scoped ? scope[0]!.bucket : "alpha";
        const list = action === "s3:ListBucket";
        const name = list ? key : objectKey(key);
        const resource = list ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${name}`;
        const outcome = await simulate(policy, action, resource, { "aws:CurrentTime": time, ...(list && { "s3:prefix": name }) });
        const expected = inScope(scope, bucket, name) && Date.parse(time) < END;
        expect(outcome === "Allowed").toBe(expected);
      }),
      { numRuns: 150 },
    );
  });
});
