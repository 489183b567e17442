import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { ScopeEntry } from "../config/types.js";
import { S3jitError } from "../errors.js";
import { MAX_POLICY_CHARS, PolicyTooLargeError, buildSessionPolicy, policyHash } from "./build.js";
import { SIMULATED_ACCOUNT as ACCOUNT, simulateSessionPolicy as simulate } from "../../test/helpers/policy-simulator.js";

const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/ffffffff-12ab-34cd-56ef-1234567890ab`;
const END = Date.UTC(2026, 10, 28, 12, 0, 0);
const BEFORE = "2026-11-28T11:59:59Z";

const SCOPE: ScopeEntry[] = [
  { bucket: "audit-logs", prefix: "2026/" },
  { bucket: "reports-bucket", prefix: "" },
  { bucket: "shared", prefix: "reports" },
];
const POLICY = buildSessionPolicy({ scope: SCOPE, region: "eu-west-1", kmsKeys: [KEY], windowEnd: END });

// The full table, in every partition, is test/policy/simulator.test.ts.
describe("buildSessionPolicy, checked with an IAM policy simulator", () => {
  it("denies actions outside the read set explicitly, so a resource policy naming the session cannot grant them", async () => {
    expect(await simulate(POLICY, "s3:PutObject", "arn:aws:s3:::audit-logs/2026/a", { "aws:CurrentTime": BEFORE })).toBe("ExplicitlyDenied");
    expect(await simulate(POLICY, "s3:GetDataAccess", `arn:aws:s3:eu-west-1:${ACCOUNT}:access-grants/default`, { "aws:CurrentTime": BEFORE })).toBe(
      "ExplicitlyDenied",
    );
  });

  it("denies reads outside the scope explicitly too, not only by leaving them out", async () => {
    expect(await simulate(POLICY, "s3:GetObject", "arn:aws:s3:::audit-logs/2025/a", { "aws:CurrentTime": BEFORE })).toBe("ExplicitlyDenied");
    expect(await simulate(POLICY, "s3:ListBucket", "arn:aws:s3:::audit-logs", { "aws:CurrentTime": BEFORE, "s3:prefix": "2025/" })).toBe("ExplicitlyDenied");
  });

  it("with kms_keys, kms:Decrypt of another key is not allowed even via S3", async () => {
    expect(await simulate(POLICY, "kms:Decrypt", OTHER_KEY, { "aws:CurrentTime": BEFORE, "kms:ViaService": "s3.eu-west-1.amazonaws.com" })).not.toBe("Allowed");
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
    const outside = policy.Statement.find((s: { Action: unknown }) => s.Action === "s3:*");
    expect(outside.NotResource).toEqual(["arn:aws:s3:::shared/reports-old/*", "arn:aws:s3:::shared/reports/*", "arn:aws:s3:::shared"]);
  });

  it("gives buckets with the same prefixes one list Deny, so more buckets fit", () => {
    const scope = Array.from({ length: 5 }, (_, i) => ({ bucket: `data-${i}`, prefix: "2026/" }));
    const policy = JSON.parse(buildSessionPolicy({ scope, region: "eu-west-1", windowEnd: END }));
    const lists = policy.Statement.filter((s: { Action: unknown }) => s.Action === "s3:List*");
    expect(lists).toHaveLength(1);
    expect(lists[0].Resource).toHaveLength(5);
  });

  it.each([
    ["eu-west-1", "aws", "s3.*.amazonaws.com"],
    ["cn-north-1", "aws-cn", "s3.*.amazonaws.com.cn"],
    ["us-gov-west-1", "aws-us-gov", "s3.*.amazonaws.com"],
  ])("writes ARNs and kms:ViaService for the partition of %s", (region, partition, via) => {
    const policy = buildSessionPolicy({ scope: [{ bucket: "audit-logs", prefix: "2026/" }], region, windowEnd: END });
    const arns = policy.match(/arn:[a-z-]+:/g) ?? [];
    expect(arns.length).toBeGreaterThan(0);
    expect(new Set(arns)).toEqual(new Set([`arn:${partition}:`]));
    expect(policy).toContain(`"kms:ViaService":"${via}"`);
  });

  it("writes characters outside Latin-1 as JSON \\u escapes, the only form STS accepts; the document is the same", () => {
    const policy = buildSessionPolicy({ scope: [{ bucket: "intl", prefix: "レポート/😀/" }], region: "eu-west-1", windowEnd: END });
    // eslint-disable-next-line no-control-regex -- STS's rule names tab, LF and CR
    expect(policy).toMatch(/^[\u0009\u000A\u000D\u0020-\u00FF]+$/);
    expect(policy).toContain("arn:aws:s3:::intl/\\u30ec\\u30dd\\u30fc\\u30c8/\\ud83d\\ude00/*");
    expect(JSON.stringify(JSON.parse(policy))).toContain("arn:aws:s3:::intl/レポート/😀/*");
    // Latin-1 itself is accepted as it is.
    expect(buildSessionPolicy({ scope: [{ bucket: "intl", prefix: "café/" }], region: "eu-west-1", windowEnd: END })).toContain("intl/café/*");
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
    expect(tooLarge.message).toMatch(/is \d+ characters, over STS's limit of 2048; the largest part is bucket "big-bucket" \(80 entries, \d+ characters\)/);
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
    ["a region in an isolated partition", { ...base, region: "us-isob-east-1", scope: SCOPE }],
    ["a KMS key of another partition", { ...base, region: "cn-north-1", scope: SCOPE, kmsKeys: [KEY] }],
    ["a KMS alias instead of a key", { ...base, scope: SCOPE, kmsKeys: [`arn:aws:kms:eu-west-1:${ACCOUNT}:alias/s3`] }],
    ["a wildcard KMS key", { ...base, scope: SCOPE, kmsKeys: [`arn:aws:kms:eu-west-1:${ACCOUNT}:key/*`] }],
    ["a window end that is no time", { ...base, scope: SCOPE, windowEnd: Number.NaN }],
  ])("refuses %s", (_what, input) => {
    expect(() => buildSessionPolicy(input)).toThrow(expect.objectContaining({ code: "PolicyInvalid" }));
  });
});

// Actions (with a resource of the type each one takes) that no session policy may allow.
const BUCKET_ACTIONS = ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucket", "s3:GetBucketAcl", "s3:ListBucketMultipartUploads", "s3:PutLifecycleConfiguration", "s3:GetEncryptionConfiguration"];
const OBJECT_ACTIONS = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObjectAcl", "s3:PutObjectAcl", "s3:GetObjectTagging", "s3:RestoreObject", "s3:GetObjectVersionForReplication", "s3:AbortMultipartUpload", "s3:GetObjectRetention"];

const bucketName = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,10}[a-z0-9]$/);
const prefix = fc.oneof(fc.constant(""), fc.stringMatching(/^[a-zA-Z0-9!_.'()\-/ ]{1,12}$/));
const scopeArb = fc.array(fc.record({ bucket: fc.oneof(bucketName, fc.constantFrom("alpha", "beta")), prefix }), { minLength: 1, maxLength: 4 });
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
      fc.asyncProperty(scopeArb, timeArb, fc.constantFrom("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes", "s3:ListBucket", "s3:ListBucketVersions"), keyArb, fc.boolean(), async (scope, time, action, key, scoped) => {
        const policy = buildSessionPolicy({ scope, region: "eu-west-1", windowEnd: END });
        const bucket = scoped ? scope[0]!.bucket : "alpha";
        const list = action.startsWith("s3:List");
        const name = list ? key : objectKey(key);
        const resource = list ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${name}`;
        const outcome = await simulate(policy, action, resource, { "aws:CurrentTime": time, ...(list && { "s3:prefix": name }) });
        // Outside the scope or the window, denied explicitly: a resource policy cannot undo it.
        expect(outcome).toBe(inScope(scope, bucket, name) && Date.parse(time) < END ? "Allowed" : "ExplicitlyDenied");
      }),
      { numRuns: 150 },
    );
  });
});
