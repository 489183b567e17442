import { describe, expect, it } from "vitest";
import { buildSessionPolicy, MAX_POLICY_CHARS, policyHash, policySize, PolicyInvalidError, PolicyTooLargeError } from "./build.js";
import { bucketProblem, prefixProblem } from "./names.js";
import { arnPartition, arnRegion, partitionOf } from "./partition.js";

/**
 * What the builder refuses, with the words and the config key the user is shown (config load
 * names the key and the entry's index from PolicyInvalidError.part), and the exact statements it
 * writes for the cases a looser test let drift: listed KMS keys, whole buckets, the too-large
 * report.
 */

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY2 = "arn:aws:kms:eu-central-1:123456789012:key/5678";
const END = Date.UTC(2026, 10, 28, 12);
const BUCKET_RULE =
  'S3 bucket names are 3 to 63 lowercase letters, digits, dots and hyphens, start and end with a letter or digit, have no ".." and are not IP addresses';
const PREFIX_RULE = 'a key prefix is plain text, like "2026/" or "reports"; no wildcards';

function refusal(f: () => unknown): { message: string; part: unknown } {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyInvalidError);
    return { message: (err as PolicyInvalidError).message, part: (err as PolicyInvalidError).part };
  }
  throw new Error("not refused");
}

const build = (over: Partial<Parameters<typeof buildSessionPolicy>[0]> = {}) =>
  buildSessionPolicy({ scope: [{ bucket: "reports", prefix: "2026/" }], region: "eu-west-1", windowEnd: END, ...over });
type Stmt = { Effect: string; Action?: unknown; Resource?: unknown; Condition?: unknown };
const statementsOf = (policy: string) => (JSON.parse(policy) as { Statement: Stmt[] }).Statement;

describe("bucketProblem and prefixProblem name the rule broken", () => {
  it.each([
    ["rep*", `bucket "rep*" has a wildcard; ${BUCKET_RULE}`],
    ["re?orts", `bucket "re?orts" has a wildcard; ${BUCKET_RULE}`],
    ["ab", `bucket "ab" is 2 characters long; ${BUCKET_RULE}`],
    ["a".repeat(64), `bucket "${"a".repeat(64)}" is 64 characters long; ${BUCKET_RULE}`],
    ["Reports", `bucket "Reports" has characters S3 does not allow; ${BUCKET_RULE}`],
    ["-reports", `bucket "-reports" does not start and end with a letter or digit; ${BUCKET_RULE}`],
    ["reports.", `bucket "reports." does not start and end with a letter or digit; ${BUCKET_RULE}`],
    ["re..ports", `bucket "re..ports" has ".."; ${BUCKET_RULE}`],
    ["192.168.10.10", `bucket "192.168.10.10" looks like an IP address; ${BUCKET_RULE}`],
    ["192.168.1.1", `bucket "192.168.1.1" looks like an IP address; ${BUCKET_RULE}`],
  ])("bucket %s", (name, why) => {
    expect(bucketProblem(name)).toBe(why);
  });

  it.each(["abc", "a".repeat(63), "reports.2026", "192.168.1.1x", "a-b"])("bucket %s is fine", (name) => {
    expect(bucketProblem(name)).toBeUndefined();
  });

  it.each([
    ["2026/*", `prefix "2026/*" has a wildcard; ${PREFIX_RULE}`],
    ["a?", `prefix "a?" has a wildcard; ${PREFIX_RULE}`],
    ["${aws:username}/", `prefix "\${aws:username}/" contains "\${", which IAM reads as a policy variable; ${PREFIX_RULE}`],
    ["a\nb", `prefix "a\\nb" contains a control character; ${PREFIX_RULE}`],
    ["x".repeat(1025), `prefix "${"x".repeat(1025)}" is longer than an S3 key (1024 bytes)`],
  ])("prefix %j", (prefix, why) => {
    expect(prefixProblem(prefix)).toBe(why);
  });

  it.each(["", "2026/", "x".repeat(1024), "$/", "レポート/"])("prefix %j is fine", (prefix) => {
    expect(prefixProblem(prefix)).toBeUndefined();
  });
});

describe("partitions", () => {
  it.each([
    ["eu-west-1", { name: "aws", dnsSuffix: "amazonaws.com" }],
    ["cn-north-1", { name: "aws-cn", dnsSuffix: "amazonaws.com.cn" }],
    ["us-gov-west-1", { name: "aws-us-gov", dnsSuffix: "amazonaws.com" }],
  ])("%s", (region, partition) => {
    expect(partitionOf(region)).toEqual(partition);
  });

  it.each([
    ["eu-west", 'region "eu-west" is not an AWS region like "eu-west-1"'],
    ["us-iso-east-1", 'region "us-iso-east-1" is in an isolated partition; s3jit writes policies for the aws, aws-cn and aws-us-gov partitions only'],
    ["us-isob-east-1", 'region "us-isob-east-1" is in an isolated partition; s3jit writes policies for the aws, aws-cn and aws-us-gov partitions only'],
  ])("refuses %s, naming the region key", (region, why) => {
    expect(refusal(() => partitionOf(region))).toEqual({ message: why, part: { key: "region" } });
  });

  it("reads the partition and region of an ARN, and nothing from text that is not one", () => {
    expect(arnPartition("arn:aws-cn:kms:cn-north-1:123456789012:key/1")).toBe("aws-cn");
    expect(arnRegion("arn:aws-cn:kms:cn-north-1:123456789012:key/1")).toBe("cn-north-1");
    expect(arnPartition("xarn:aws-cn:kms:cn-north-1:123456789012:key/1")).toBeUndefined();
    expect(arnRegion("xarn:aws:kms:eu-west-1:123456789012:key/1")).toBeUndefined();
    expect(arnPartition("alias/x")).toBeUndefined();
    expect(arnRegion("alias/x")).toBeUndefined();
  });
});

describe("buildSessionPolicy refuses, naming the key and entry", () => {
  it("an empty scope", () => {
    expect(refusal(() => build({ scope: [] }))).toEqual({ message: "the scope is empty: name at least one bucket or bucket/prefix", part: { key: "scope" } });
  });

  it("a bad scope entry, by its index", () => {
    expect(refusal(() => build({ scope: [{ bucket: "reports", prefix: "" }, { bucket: "Bad", prefix: "2026/" }] }))).toEqual({
      message: `scope "Bad/2026/": bucket "Bad" has characters S3 does not allow; ${BUCKET_RULE}`,
      part: { key: "scope", index: 1 },
    });
    expect(refusal(() => build({ scope: [{ bucket: "reports", prefix: "a*" }] }))).toEqual({ message: `scope "reports/a*": prefix "a*" has a wildcard; ${PREFIX_RULE}`, part: { key: "scope", index: 0 } });
  });

  it("a KMS key that is no key ARN, or of another partition, by its index", () => {
    expect(refusal(() => build({ kmsKeys: [KEY, "arn:aws:kms:eu-west-1:123456789012:alias/x"] }))).toEqual({
      message: '"arn:aws:kms:eu-west-1:123456789012:alias/x" is not a KMS key ARN (no aliases, no wildcards)',
      part: { key: "kms_keys", index: 1 },
    });
    const cn = "arn:aws-cn:kms:cn-north-1:123456789012:key/1";
    expect(refusal(() => build({ kmsKeys: [cn] }))).toEqual({
      message: `"${cn}" is in the aws-cn partition, but the profile's region is in aws: S3 there can only use keys whose ARN starts "arn:aws:kms:"`,
      part: { key: "kms_keys", index: 0 },
    });
  });

  it.each([Number.NaN, -1, 253402300799001, Number.POSITIVE_INFINITY])("a window end of %d", (windowEnd) => {
    expect(refusal(() => build({ windowEnd }))).toEqual({ message: `the window end ${String(windowEnd)} is not a time a policy can carry`, part: undefined });
  });

  it("takes the first and last instants a policy can carry, rounded down to the second", () => {
    const late = (p: string) => (statementsOf(p).at(-1)!.Condition as { DateGreaterThanEquals: { "aws:CurrentTime": string } }).DateGreaterThanEquals["aws:CurrentTime"];
    expect(late(build({ windowEnd: 0 }))).toBe("1970-01-01T00:00:00Z");
    expect(late(build({ windowEnd: 253402300799000 }))).toBe("9999-12-31T23:59:59Z");
    expect(late(build({ windowEnd: END + 999 }))).toBe("2026-11-28T12:00:00Z");
  });
});

describe("buildSessionPolicy's statements", () => {
  it("listed KMS keys (duplicates once): kms:Decrypt on those keys, via S3 in their regions only", () => {
    const decrypt = (p: string) => statementsOf(p).find((s) => s.Effect === "Allow" && s.Action === "kms:Decrypt");
    expect(decrypt(build({ kmsKeys: [KEY, KEY] }))).toEqual({ Effect: "Allow", Action: "kms:Decrypt", Resource: KEY, Condition: { StringLike: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } } });
    expect(decrypt(build({ kmsKeys: [KEY, KEY2] }))).toEqual({
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: [KEY, KEY2],
      Condition: { StringLike: { "kms:ViaService": ["s3.eu-west-1.amazonaws.com", "s3.eu-central-1.amazonaws.com"] } },
    });
    expect(decrypt(build({ kmsKeys: [] }))).toEqual({ Effect: "Allow", Action: "kms:Decrypt", Resource: "*", Condition: { StringLike: { "kms:ViaService": "s3.*.amazonaws.com" } } });
    expect(decrypt(build())).toEqual(decrypt(build({ kmsKeys: [] })));
  });

  it("a prefixed bucket gets the listing Deny; a whole bucket none", () => {
    const lists = (p: string) => statementsOf(p).filter((s) => s.Action === "s3:List*");
    expect(lists(build())).toEqual([{ Effect: "Deny", Action: "s3:List*", Resource: "arn:aws:s3:::reports", Condition: { StringNotLike: { "s3:prefix": "2026/*" } } }]);
    expect(lists(build({ scope: [{ bucket: "reports", prefix: "" }] }))).toEqual([]);
    // A prefix and the whole bucket: the whole bucket wins, in any order.
    expect(lists(build({ scope: [{ bucket: "reports", prefix: "2026/" }, { bucket: "reports", prefix: "" }, { bucket: "reports", prefix: "2025/" }] }))).toEqual([]);
  });

  it("policyHash is the sha256 of the text", () => {
    expect(policyHash("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(policyHash("レ")).toBe("7ca522a92e77cc2f50744f4e5d1415d1ed31de930c5d4de5d2932d4ce426e2cb");
  });
});

describe("STS's 2048 characters, exactly", () => {
  /** A scope whose policy is exactly `n` characters (bucket name and prefix lengths varied). */
  function scopeOfLength(n: number) {
    for (let b = 3; b <= 63; b++) {
      for (let p = 1; p <= 400; p++) {
        const scope = [{ bucket: "b".repeat(b), prefix: `${"p".repeat(p)}/` }];
        const size = policySize({ scope, region: "eu-west-1" }).chars;
        if (size === n) return scope;
        if (size > n) break;
      }
    }
    throw new Error(`no scope of ${n} characters`);
  }

  it("a policy of exactly 2048 characters is built; 2049 is too large", () => {
    expect(buildSessionPolicy({ scope: scopeOfLength(2048), region: "eu-west-1", windowEnd: END })).toHaveLength(2048);
    expect(() => buildSessionPolicy({ scope: scopeOfLength(2049), region: "eu-west-1", windowEnd: END })).toThrow(PolicyTooLargeError);
  });
});

describe("a scope too large for one session policy", () => {
  const prefixes = (n: number) => Array.from({ length: n }, (_, i) => ({ bucket: "big-bucket", prefix: `a-long-prefix-for-entry-${String(i).padStart(3, "0")}/` }));
  const scope = [...prefixes(70), { bucket: "small", prefix: "x/" }];
  const err = (() => {
    try {
      build({ scope });
    } catch (e) {
      return e as PolicyTooLargeError;
    }
    throw new Error("fitted");
  })();
  const fits = (n: number) => {
    try {
      build({ scope: scope.slice(0, n) });
      return true;
    } catch (e) {
      if (e instanceof PolicyTooLargeError) return false;
      throw e;
    }
  };

  it("says how many entries must go: the fewest that make it fit", () => {
    expect(err).toBeInstanceOf(PolicyTooLargeError);
    expect(err.entries).toBe(71);
    expect(err.limit).toBe(MAX_POLICY_CHARS);
    expect(err.length).toBeGreaterThan(MAX_POLICY_CHARS);
    expect(err.excess).toBeGreaterThan(0);
    expect(fits(71 - err.excess)).toBe(true);
    expect(fits(71 - err.excess + 1)).toBe(false);
  });

  it("names the bucket that takes the most characters, its entries, and what removing it saves", () => {
    const withoutBig = build({ scope: [{ bucket: "small", prefix: "x/" }] }).length;
    expect(err.largest).toEqual({ bucket: "big-bucket", entries: 70, chars: err.length - withoutBig });
    expect(err.message).toBe(
      `the session policy for these 71 scope entries is ${err.length} characters, over STS's limit of 2048; ` +
        `the largest part is bucket "big-bucket" (70 entries, ${err.length - withoutBig} characters): ` +
        `drop at least ${err.excess} of them from scope, or merge several into one shorter common prefix ` +
        `(a bucket's prefixes "a/1/" and "a/2/" become "a/")`,
    );
  });

  it("one bucket alone: its share is the policy less the fixed part, and one whole bucket is one entry", () => {
    let one: PolicyTooLargeError | undefined;
    try {
      build({ scope: prefixes(70) });
    } catch (e) {
      one = e as PolicyTooLargeError;
    }
    expect(one?.largest.bucket).toBe("big-bucket");
    expect(one?.largest.entries).toBe(70);
    expect(one!.largest.chars).toBeGreaterThan(0);
    expect(one!.largest.chars).toBeLessThan(one!.length);
    const single = new PolicyTooLargeError(1, 1, 2100, 2048, { bucket: "b", entries: 1, chars: 50 });
    expect(single.message).toContain('bucket "b" (1 entry, 50 characters)');
  });

  it("policySize reports the size, over the limit for this scope, and refuses like the builder otherwise", () => {
    expect(policySize({ scope, region: "eu-west-1" })).toEqual({ chars: err.length, limit: 2048 });
    expect(policySize({ scope: [{ bucket: "reports", prefix: "2026/" }], region: "eu-west-1" })).toEqual({ chars: build({ windowEnd: 0 }).length, limit: 2048 });
    expect(() => policySize({ scope: [], region: "eu-west-1" })).toThrow(PolicyInvalidError);
  });
});
