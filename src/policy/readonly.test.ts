import { describe, expect, it } from "vitest";
import { assertReadOnly, buildSessionPolicy } from "./build.js";
import { allow, CONTEXT_DENY, DECRYPT_ON_STAR, DENY_LATE, DENY_OTHERS, KEY, policyOf, SCOPE_DENY, type Stmt, withAllow } from "../../test/helpers/session-policies.js";

const GOOD = buildSessionPolicy({
  scope: [
    { bucket: "audit-logs", prefix: "2026/" },
    { bucket: "reports", prefix: "" },
  ],
  region: "eu-west-1",
  kmsKeys: [KEY],
  windowEnd: Date.UTC(2026, 10, 28, 12),
});

const good = (): { Version: string; Statement: Stmt[] } => JSON.parse(GOOD);
const withDenies = (...denies: Stmt[]) => policyOf({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::reports/*" }, ...denies);

describe("assertReadOnly", () => {
  it("accepts what the builder makes", () => {
    expect(() => assertReadOnly(GOOD)).not.toThrow();
  });

  it("accepts a read action spelt in another case (IAM ignores case) and extra Denies (they only take away)", () => {
    expect(() => assertReadOnly(allow("S3:getobject", "arn:aws:s3:::reports/*"))).not.toThrow();
    expect(() => assertReadOnly(withDenies(DENY_OTHERS, DENY_LATE, { Effect: "Deny", Action: "s3:GetObject", Resource: "arn:aws:s3:::reports/secret/*" }))).not.toThrow();
  });

  it.each([
    ["s3:* (every S3 action)", allow("s3:*", "arn:aws:s3:::reports/*")],
    ["s3:Get* (AmazonS3ReadOnlyAccess style)", allow("s3:Get*", "arn:aws:s3:::reports/*")],
    ["s3:GetObjec? (a ? wildcard)", allow("s3:GetObjec?", "arn:aws:s3:::reports/*")],
    ["every action", allow("*", "arn:aws:s3:::reports/*")],
    ["a write", allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::reports/*")],
    ["s3:GetDataAccess (Access Grants credentials)", allow("s3:GetDataAccess", "arn:aws:s3:::reports/*")],
    ["s3:GetBucketPolicy", allow("s3:GetBucketPolicy", "arn:aws:s3:::reports")],
    ["s3:GetObjectAcl", allow("s3:GetObjectAcl", "arn:aws:s3:::reports/*")],
    ["a read on every resource", allow("s3:GetObject", "*")],
    ["a read on a list containing *", allow("s3:GetObject", ["arn:aws:s3:::reports/*", "*"])],
    ["a wildcard bucket", allow("s3:GetObject", "arn:aws:s3:::*/x")],
    ["a bucket pattern", allow("s3:GetObject", "arn:aws:s3:::audit-*/2026/*")],
    ["a ? in the bucket", allow("s3:ListBucket", "arn:aws:s3:::audit-log?")],
    ["a wildcard inside the key", allow("s3:GetObject", "arn:aws:s3:::reports/*/secret")],
    ["a ? at the end of the key", allow("s3:GetObject", "arn:aws:s3:::reports/a?")],
    ["a policy variable", allow("s3:GetObject", "arn:aws:s3:::reports/${aws:username}/*")],
    ["an S3 action on a non-S3 resource", allow("s3:GetObject", "arn:aws:iam::123456789012:role/admin")],
    ["an object action on a bucket", allow("s3:GetObject", "arn:aws:s3:::reports")],
    ["a bucket action on an object", allow("s3:ListBucket", "arn:aws:s3:::reports/*")],
    ["an access point ARN", allow("s3:GetObject", "arn:aws:s3:eu-west-1:123456789012:accesspoint/ap/object/*")],
    ["NotAction in an Allow", withAllow({ Effect: "Allow", NotAction: "s3:PutObject", Resource: "arn:aws:s3:::reports/*" })],
    ["NotResource in an Allow", withAllow({ Effect: "Allow", Action: "s3:GetObject", NotResource: "arn:aws:s3:::other/*" })],
    ["an Allow without Action", withAllow({ Effect: "Allow", Resource: "arn:aws:s3:::reports/*" })],
    ["an empty Action list", allow([], "arn:aws:s3:::reports/*")],
    ["a Principal", withAllow({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::reports/*" })],
    ["an unknown Effect", withAllow({ Effect: "allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::reports/*" })],
    ["kms:Decrypt without ViaService", allow("kms:Decrypt", KEY)],
    ["kms:Decrypt via any service", allow("kms:Decrypt", KEY, { Condition: { StringLike: { "kms:ViaService": "*" } } })],
    ["kms:Decrypt via another service", allow("kms:Decrypt", KEY, { Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } } })],
    ["kms:Decrypt on every key", allow("kms:Decrypt", "*", { Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } } })],
    ["kms:Decrypt on an alias", allow("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:alias/x", { Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } } })],
    ["no Deny at all", JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::reports/*" }] })],
    ["no Deny NotAction", withDenies(DENY_LATE)],
    ["no time Deny", withDenies(DENY_OTHERS)],
    ["a Deny NotAction that spares s3:*", withDenies({ ...DENY_OTHERS, NotAction: ["s3:*"] }, DENY_LATE)],
    ["a Deny NotAction that spares a write", withDenies({ ...DENY_OTHERS, NotAction: ["s3:GetObject", "s3:PutObject"] }, DENY_LATE)],
    ["a Deny NotAction on some resources only", withDenies({ ...DENY_OTHERS, Resource: "arn:aws:s3:::reports/*" }, DENY_LATE)],
    ["a Deny NotAction under a condition", withDenies({ ...DENY_OTHERS, Condition: { Bool: { "aws:SecureTransport": "true" } } }, DENY_LATE)],
    ["a time Deny for some actions only", withDenies(DENY_OTHERS, { ...DENY_LATE, Action: "s3:GetObject" })],
    ["a time Deny with an extra condition", withDenies(DENY_OTHERS, { ...DENY_LATE, Condition: { ...DENY_LATE.Condition, Bool: { "aws:ViaAWSService": "false" } } })],
    ["a time Deny on DateGreaterThan", withDenies(DENY_OTHERS, { ...DENY_LATE, Condition: { DateGreaterThan: { "aws:CurrentTime": "2026-11-28T12:00:00Z" } } })],
    ["a time Deny with an offset time", withDenies(DENY_OTHERS, { ...DENY_LATE, Condition: { DateGreaterThanEquals: { "aws:CurrentTime": "2026-11-28T12:00:00+00:00" } } })],
    ["a time Deny with an impossible date", withDenies(DENY_OTHERS, { ...DENY_LATE, Condition: { DateGreaterThanEquals: { "aws:CurrentTime": "2026-13-45T12:00:00Z" } } })],
    ["Version 2008-10-17", JSON.stringify({ ...good(), Version: "2008-10-17" })],
    ["an empty Statement list", JSON.stringify({ Version: "2012-10-17", Statement: [] })],
    ["an unknown top-level key", JSON.stringify({ ...good(), Extra: 1 })],
    ["pretty-printed JSON", JSON.stringify(good(), null, 2)],
    ["a duplicate key (JSON.parse keeps the last one)", GOOD.replace('{"Effect":"Deny","Action":"*"', '{"Effect":"Allow","Effect":"Deny","Action":"*"')],
    ["text that is not JSON", "not a policy"],
    ["a JSON array", "[]"],
  ])("refuses %s", (_what, policy) => {
    expect(() => assertReadOnly(policy)).toThrow(expect.objectContaining({ code: "PolicyInvalid" }));
  });

  const readsOnStar = { Effect: "Allow", Action: ["s3:GetObject", "s3:ListBucketVersions", "s3:GetObjectAttributes"], Resource: "*" };

  it.each(["eu-west-1", "cn-north-1", "us-gov-west-1"])("accepts what the builder makes for %s, Japanese keys included", (region) => {
    const policy = buildSessionPolicy({ scope: [{ bucket: "intl", prefix: "レポート/" }, { bucket: "reports", prefix: "" }], region, windowEnd: Date.UTC(2026, 10, 28, 12) });
    expect(() => assertReadOnly(policy)).not.toThrow();
  });

  it("accepts reads on * when a Deny of every S3 request outside concrete ARNs confines them, and kms:Decrypt on * via S3 with the context Deny", () => {
    expect(() => assertReadOnly(policyOf(readsOnStar, DECRYPT_ON_STAR, DENY_OTHERS, SCOPE_DENY, CONTEXT_DENY, DENY_LATE))).not.toThrow();
  });

  it.each([
    ["reads on * with no Deny confining them", policyOf(readsOnStar, DENY_OTHERS, DENY_LATE)],
    ["reads on * confined by a Deny with a wildcard bucket", policyOf(readsOnStar, DENY_OTHERS, { ...SCOPE_DENY, NotResource: ["arn:aws:s3:::rep*"] }, DENY_LATE)],
    ["reads on * confined by a Deny with a wildcard inside a key", policyOf(readsOnStar, DENY_OTHERS, { ...SCOPE_DENY, NotResource: ["arn:aws:s3:::reports/*/x"] }, DENY_LATE)],
    ["reads on * confined only under a condition", policyOf(readsOnStar, DENY_OTHERS, { ...SCOPE_DENY, Condition: { Bool: { "aws:SecureTransport": "true" } } }, DENY_LATE)],
    ["reads on * confined for one action only", policyOf(readsOnStar, DENY_OTHERS, { ...SCOPE_DENY, Action: "s3:GetObject" }, DENY_LATE)],
    ["kms:Decrypt on * without the encryption-context Deny", policyOf(DECRYPT_ON_STAR, DENY_OTHERS, DENY_LATE)],
    ["kms:Decrypt with a context Deny that spares every bucket", policyOf(DECRYPT_ON_STAR, DENY_OTHERS, DENY_LATE, { ...CONTEXT_DENY, Condition: { StringNotLike: { "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::*" } } })],
    ["kms:Decrypt with a context Deny on another key", policyOf(DECRYPT_ON_STAR, DENY_OTHERS, DENY_LATE, { ...CONTEXT_DENY, Condition: { StringNotLike: { "kms:EncryptionContext:aws:lambda:arn": "arn:aws:s3:::reports/*" } } })],
    ["kms:Decrypt via S3 of an unknown DNS suffix", policyOf({ ...DECRYPT_ON_STAR, Condition: { StringLike: { "kms:ViaService": "s3.*.example.com" } } }, DENY_OTHERS, CONTEXT_DENY, DENY_LATE)],
    ["kms:Decrypt via any service", policyOf({ ...DECRYPT_ON_STAR, Condition: { StringLike: { "kms:ViaService": "*" } } }, DENY_OTHERS, CONTEXT_DENY, DENY_LATE)],
    ["raw characters STS refuses (not \\u escapes)", GOOD.replace("audit-logs/2026/", "audit-logs/レポート/")],
    ["more than 2048 characters", policyOf(...Array.from({ length: 30 }, () => ({ Effect: "Deny", Action: "s3:PutObject", Resource: "arn:aws:s3:::reports/x" })), DENY_OTHERS, DENY_LATE)],
  ])("refuses %s", (_what, policy) => {
    expect(() => assertReadOnly(policy)).toThrow(expect.objectContaining({ code: "PolicyInvalid" }));
  });

  it("says which statement and what is wrong", () => {
    expect(() => assertReadOnly(allow("s3:PutObject", "arn:aws:s3:::reports/*"))).toThrow(/statement 1 names "s3:PutObject"/);
    expect(() => assertReadOnly(withDenies(DENY_OTHERS))).toThrow(/aws:CurrentTime/);
  });
});
