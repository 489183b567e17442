import { describe, expect, it } from "vitest";
import { assertReadOnly, buildSessionPolicy, READ_ACTIONS } from "./build.js";
import { PolicyInvalidError } from "./errors.js";
import {
  allow,
  CONTEXT_DENY,
  DECRYPT_ON_STAR,
  DENY_LATE,
  DENY_OTHERS,
  KEY,
  policyOf,
  SCOPE_DENY,
  type Stmt,
  VIA_S3,
  withAllow,
} from "../../test/helpers/session-policies.js";

/**
 * Each refusal of the read-only validator for the reason the case is about, named in the message
 * (readonly.test.ts checks the code only, so a case refused for another reason — an Allow with
 * NotAction and no Action, say — passed even with its own check gone). And the Deny statements the
 * validator must recognise, varied one key at a time: a Deny it no longer recognises is refused as
 * missing.
 */

const READS_ON_STAR = { Effect: "Allow", Action: ["s3:GetObject", "s3:ListBucket"], Resource: "*" };
const OBJ = "arn:aws:s3:::reports/*";

/** A read on *, confined by `scopeDeny`. */
const confinedBy = (scopeDeny: Stmt) => policyOf(READS_ON_STAR, DENY_OTHERS, DENY_LATE, scopeDeny);
/** kms:Decrypt on * via S3, its contexts limited by `contextDeny`. */
const contextsLimitedBy = (contextDeny: Stmt) => policyOf(DECRYPT_ON_STAR, DENY_OTHERS, DENY_LATE, contextDeny);
const othersDeniedBy = (denyOthers: Stmt) => policyOf({ Effect: "Allow", Action: "s3:GetObject", Resource: OBJ }, denyOthers, DENY_LATE);
const lateDeniedBy = (denyLate: Stmt) => policyOf({ Effect: "Allow", Action: "s3:GetObject", Resource: OBJ }, DENY_OTHERS, denyLate);

const MISSING_SCOPE_DENY = 'an S3 read is allowed on every resource ("*") without the "Deny s3:* NotResource <scoped ARNs>" statement that confines it';
const MISSING_CONTEXT_DENY = 'kms:Decrypt is allowed, but the "Deny kms:Decrypt when StringNotLike kms:EncryptionContext:aws:s3:arn <scoped ARNs>" statement is missing';
const MISSING_DENY_OTHERS = 'the "Deny NotAction [read actions] on *" statement is missing';
const MISSING_DENY_LATE = 'the "Deny * when DateGreaterThanEquals aws:CurrentTime <window end>" statement is missing';
const KMS_CONDITION = "statement 1 allows kms:Decrypt without exactly StringLike kms:ViaService = s3.<region or *>.<partition's DNS suffix>";

function refusal(policy: string): string {
  try {
    assertReadOnly(policy);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyInvalidError);
    return (err as Error).message;
  }
  return "accepted";
}

/** A valid policy padded (with a harmless Deny) to exactly `n` characters. */
function policyOfLength(n: number): string {
  const base = (pad: string) => policyOf({ Effect: "Allow", Action: "s3:GetObject", Resource: OBJ }, DENY_OTHERS, DENY_LATE, { Effect: "Deny", Action: "s3:GetObject", Resource: `arn:aws:s3:::reports/${pad}` });
  const p = base("x".repeat(n - base("").length));
  expect(p).toHaveLength(n);
  return p;
}

describe("assertReadOnly refuses for the reason at hand", () => {
  it.each([
    // The document
    ["text that is not JSON", "not a policy", "it is not JSON"],
    ["raw characters STS refuses", policyOf({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::reports/レ*" }, DENY_OTHERS, DENY_LATE), "it has characters STS refuses (outside \\u0009, \\u000A, \\u000D, \\u0020-\\u00FF); write them as \\uXXXX escapes"],
    ["2049 characters", policyOfLength(2049), "it is 2049 characters, over STS's limit of 2048"],
    ["pretty-printed JSON", JSON.stringify(JSON.parse(allow("s3:GetObject", OBJ)), null, 1), "it is not minified JSON without duplicate keys"],
    ["a JSON array", "[]", "it is not a JSON object"],
    ["a JSON string", '"x"', "it is not a JSON object"],
    ["an unknown top-level key", JSON.stringify({ Version: "2012-10-17", Statement: [DENY_OTHERS], Id: "x" }), 'unexpected top-level key "Id"'],
    ["Version 2008-10-17", JSON.stringify({ Version: "2008-10-17", Statement: [DENY_OTHERS] }), 'Version must be "2012-10-17"'],
    ["an empty Statement list", JSON.stringify({ Version: "2012-10-17", Statement: [] }), "Statement must be a non-empty list"],
    ["a Statement that is an object", JSON.stringify({ Version: "2012-10-17", Statement: DENY_OTHERS }), "Statement must be a non-empty list"],
    // A statement
    ["a statement that is a string", policyOf("x", DENY_OTHERS, DENY_LATE), "statement 1 is not an object"],
    ["a statement that is null", policyOf(DENY_OTHERS, null, DENY_LATE), "statement 2 is not an object"],
    ["a statement that is a list", policyOf([DENY_OTHERS], DENY_OTHERS, DENY_LATE), "statement 1 is not an object"],
    ["a Principal", withAllow({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: OBJ }), 'statement 1 has "Principal", which a session policy may not use'],
    ["an Effect in lower case", withAllow({ Effect: "allow", Action: "s3:GetObject", Resource: OBJ }), 'statement 1 has Effect "allow"'],
    ["no Effect", withAllow({ Action: "s3:GetObject", Resource: OBJ }), "statement 1 has Effect null"],
    // An Allow
    ["NotAction in an Allow (with an Action too)", withAllow({ Effect: "Allow", Action: "s3:GetObject", NotAction: "s3:PutObject", Resource: OBJ }), "statement 1 is an Allow with NotAction"],
    ["NotResource in an Allow (with a Resource too)", withAllow({ Effect: "Allow", Action: "s3:GetObject", Resource: OBJ, NotResource: "arn:aws:s3:::other/*" }), "statement 1 is an Allow with NotResource"],
    ["an empty Action list", allow([], OBJ), "statement 1 Action must be a string or a non-empty list of strings"],
    ["an Action list with a number", allow(["s3:GetObject", 5], OBJ), "statement 1 Action must be a string or a non-empty list of strings"],
    ["no Resource", withAllow({ Effect: "Allow", Action: "s3:GetObject" }), "statement 1 Resource must be a string or a non-empty list of strings"],
    ["a Resource list with null", allow("s3:GetObject", [OBJ, null]), "statement 1 Resource must be a string or a non-empty list of strings"],
    ["a wildcard action", allow("s3:Get*", OBJ), 'statement 1 has a wildcard action "s3:Get*"'],
    ["a ? action", allow("s3:GetObjec?", OBJ), 'statement 1 has a wildcard action "s3:GetObjec?"'],
    ["a write", allow(["s3:GetObject", "s3:PutObject"], OBJ), `statement 1 names "s3:PutObject", which is not one of ${READ_ACTIONS.join(", ")}`],
    ["a policy variable", allow("s3:GetObject", "arn:aws:s3:::reports/${aws:username}/*"), 'statement 1 has a policy variable in "arn:aws:s3:::reports/${aws:username}/*"'],
    ["kms:Decrypt on an alias", allow("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:alias/x", { Condition: VIA_S3 }), 'statement 1 allows kms:Decrypt on "arn:aws:kms:eu-west-1:123456789012:alias/x", which is not one KMS key\'s ARN'],
    ["a non-S3 resource", allow("s3:GetObject", "arn:aws:iam::123456789012:role/admin"), 'statement 1 allows s3:GetObject on "arn:aws:iam::123456789012:role/admin", which is not an S3 bucket or object ARN'],
    ["a wildcard bucket", allow("s3:GetObject", "arn:aws:s3:::audit-*/2026/*"), 'statement 1: bucket "audit-*" has a wildcard; S3 bucket names are 3 to 63 lowercase letters, digits, dots and hyphens, start and end with a letter or digit, have no ".." and are not IP addresses'],
    ["a bucket action on an object", allow("s3:ListBucket", OBJ), 'statement 1 allows bucket action s3:ListBucket on object ARN "arn:aws:s3:::reports/*"'],
    ["an object action on a bucket", allow("s3:GetObject", "arn:aws:s3:::reports"), 'statement 1 allows object action s3:GetObject on bucket ARN "arn:aws:s3:::reports"'],
    ["a wildcard inside the key", allow("s3:GetObject", "arn:aws:s3:::reports/*/secret*"), 'statement 1 has a wildcard inside the key of "arn:aws:s3:::reports/*/secret*"'],
    ["a ? at the end of the key", allow("s3:GetObject", "arn:aws:s3:::reports/a?"), 'statement 1 has a wildcard inside the key of "arn:aws:s3:::reports/a?"'],
    // kms:Decrypt's condition
    ["kms:Decrypt without a condition", allow("kms:Decrypt", KEY), KMS_CONDITION],
    ["kms:Decrypt with a second condition operator", allow("kms:Decrypt", KEY, { Condition: { ...VIA_S3, Bool: { "aws:SecureTransport": "true" } } }), KMS_CONDITION],
    ["kms:Decrypt with a second condition key", allow("kms:Decrypt", KEY, { Condition: { StringLike: { "kms:ViaService": "s3.*.amazonaws.com", "aws:SourceIp": "10.0.0.1" } } }), KMS_CONDITION],
    ["kms:Decrypt via S3 or another service", allow("kms:Decrypt", KEY, { Condition: { StringLike: { "kms:ViaService": ["s3.*.amazonaws.com", "sqs.*.amazonaws.com"] } } }), KMS_CONDITION],
    ["kms:Decrypt with a ViaService that is a number", allow("kms:Decrypt", KEY, { Condition: { StringLike: { "kms:ViaService": 5 } } }), KMS_CONDITION],
    ["kms:Decrypt with the condition on another key", allow("kms:Decrypt", KEY, { Condition: { StringLike: { "kms:CallerAccount": "123456789012" } } }), KMS_CONDITION],
    ["kms:Decrypt with a condition that is a string", allow("kms:Decrypt", KEY, { Condition: "s3" }), KMS_CONDITION],
    // The Denies that must be there
    ["no Deny of other actions", policyOf({ Effect: "Allow", Action: "s3:GetObject", Resource: OBJ }, DENY_LATE), MISSING_DENY_OTHERS],
    ["no time Deny", policyOf({ Effect: "Allow", Action: "s3:GetObject", Resource: OBJ }, DENY_OTHERS), MISSING_DENY_LATE],
    ["reads on * with no Deny confining them", policyOf(READS_ON_STAR, DENY_OTHERS, DENY_LATE), MISSING_SCOPE_DENY],
    ["kms:Decrypt on * without the context Deny", policyOf(DECRYPT_ON_STAR, DENY_OTHERS, DENY_LATE), MISSING_CONTEXT_DENY],
    ["a read and kms:Decrypt on * in one statement, with no S3 scope Deny", policyOf({ ...DECRYPT_ON_STAR, Action: ["s3:GetObject", "kms:Decrypt"] }, DENY_OTHERS, DENY_LATE, CONTEXT_DENY), MISSING_SCOPE_DENY],
  ])("%s", (_what, policy, why) => {
    expect(refusal(policy)).toBe(`session policy refused: ${why}`);
  });

  it("takes exactly 2048 characters", () => {
    expect(refusal(policyOfLength(2048))).toBe("accepted");
  });

  it.each([
    ["an object ARN with a prefix and a trailing *", allow("s3:GetObject", "arn:aws:s3:::reports/2026/q1/*")],
    ["an object ARN without a wildcard", allow("s3:GetObject", "arn:aws:s3:::reports/2026/q1.csv")],
    ["kms:Decrypt on one key via S3 in one region (StringEquals)", contextsLimitedBy(CONTEXT_DENY).replace(JSON.stringify(DECRYPT_ON_STAR), JSON.stringify({ ...DECRYPT_ON_STAR, Resource: KEY, Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } } }))],
    ["kms:Decrypt via S3 in two regions", contextsLimitedBy(CONTEXT_DENY).replace(JSON.stringify(DECRYPT_ON_STAR), JSON.stringify({ ...DECRYPT_ON_STAR, Condition: { StringLike: { "kms:ViaService": ["s3.eu-west-1.amazonaws.com", "s3.eu-central-1.amazonaws.com"] } } }))],
    ["kms:Decrypt alone on *, with the context Deny and no S3 Deny (it reads no S3)", contextsLimitedBy(CONTEXT_DENY)],
    ["a Sid", withAllow({ Sid: "Reads", Effect: "Allow", Action: "s3:GetObject", Resource: OBJ })],
    ["a bucket action on a bucket ARN", allow(["s3:ListBucket", "s3:GetBucketLocation"], "arn:aws:s3:::reports")],
  ])("accepts %s", (_what, policy) => {
    expect(refusal(policy)).toBe("accepted");
  });

  it("accepts what the builder makes with and without key ARNs", () => {
    for (const kmsKeys of [[], [KEY]]) {
      const policy = buildSessionPolicy({ scope: [{ bucket: "reports", prefix: "2026/" }], region: "eu-west-1", kmsKeys, windowEnd: Date.UTC(2026, 10, 28, 12) });
      expect(refusal(policy)).toBe("accepted");
    }
  });
});

describe("assertReadOnly recognises each Deny only in its exact shape", () => {
  it.each([
    ["s3:* NotResource concrete ARNs", SCOPE_DENY, true],
    ['Action "*"', { ...SCOPE_DENY, Action: "*" }, true],
    ["Action S3:* in another case", { ...SCOPE_DENY, Action: "S3:*" }, true],
    ["Action [s3:GetObject, s3:*]", { ...SCOPE_DENY, Action: ["s3:GetObject", "s3:*"] }, true],
    ["a NotResource that is one ARN", { ...SCOPE_DENY, NotResource: "arn:aws:s3:::reports/2026/*" }, true],
    ["Action s3:GetObject only", { ...SCOPE_DENY, Action: "s3:GetObject" }, false],
    ["no Action", { Effect: "Deny", NotResource: SCOPE_DENY.NotResource }, false],
    ["a NotAction beside", { ...SCOPE_DENY, NotAction: "s3:GetObject" }, false],
    ["a Resource beside", { ...SCOPE_DENY, Resource: "*" }, false],
    ["a Condition", { ...SCOPE_DENY, Condition: { Bool: { "aws:SecureTransport": "true" } } }, false],
    ["an empty NotResource list", { ...SCOPE_DENY, NotResource: [] }, false],
    ["a NotResource with one wildcard bucket among concrete ARNs", { ...SCOPE_DENY, NotResource: ["arn:aws:s3:::reports/*", "arn:aws:s3:::rep*"] }, false],
    ["a NotResource with a policy variable", { ...SCOPE_DENY, NotResource: ["arn:aws:s3:::reports/${aws:username}/*"] }, false],
    ["a NotResource with a ? at a key's end", { ...SCOPE_DENY, NotResource: ["arn:aws:s3:::reports/a?"] }, false],
    ["a NotResource that is not an S3 ARN", { ...SCOPE_DENY, NotResource: ["arn:aws:iam::123456789012:role/x"] }, false],
    ["a NotResource with a bad bucket name", { ...SCOPE_DENY, NotResource: ["arn:aws:s3:::Reports/*"] }, false],
  ])("the S3 scope Deny: %s", (_what, deny, recognised) => {
    expect(refusal(confinedBy(deny))).toBe(recognised ? "accepted" : `session policy refused: ${MISSING_SCOPE_DENY}`);
  });

  it.each([
    ["kms:Decrypt on * StringNotLike the context", CONTEXT_DENY, true],
    ["Action KMS:Decrypt in another case", { ...CONTEXT_DENY, Action: "KMS:Decrypt" }, true],
    ['Resource ["*"]', { ...CONTEXT_DENY, Resource: ["*"] }, true],
    ["one concrete ARN", { ...CONTEXT_DENY, Condition: { StringNotLike: { "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::reports/*" } } }, true],
    ["Action [kms:Decrypt, kms:Encrypt]", { ...CONTEXT_DENY, Action: ["kms:Decrypt", "kms:Encrypt"] }, false],
    ["Action kms:Encrypt", { ...CONTEXT_DENY, Action: "kms:Encrypt" }, false],
    ["a NotResource beside", { ...CONTEXT_DENY, NotResource: "arn:aws:s3:::x" }, false],
    ["Resource one key", { ...CONTEXT_DENY, Resource: KEY }, false],
    ["Resource [*, a key]", { ...CONTEXT_DENY, Resource: ["*", KEY] }, false],
    ["no Condition", { Effect: "Deny", Action: "kms:Decrypt", Resource: "*" }, false],
    ["a second condition operator", { ...CONTEXT_DENY, Condition: { ...CONTEXT_DENY.Condition, Bool: { "aws:SecureTransport": "true" } } }, false],
    ["StringLike instead of StringNotLike", { ...CONTEXT_DENY, Condition: { StringLike: CONTEXT_DENY.Condition.StringNotLike } }, false],
    ["a StringNotLike that is a string", { ...CONTEXT_DENY, Condition: { StringNotLike: "arn:aws:s3:::reports/*" } }, false],
    ["a second condition key", { ...CONTEXT_DENY, Condition: { StringNotLike: { ...CONTEXT_DENY.Condition.StringNotLike, "aws:SourceIp": "10.0.0.1" } } }, false],
    ["a wildcard bucket among concrete ARNs", { ...CONTEXT_DENY, Condition: { StringNotLike: { "kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::reports/*", "arn:aws:s3:::*"] } } }, false],
    ["a policy variable", { ...CONTEXT_DENY, Condition: { StringNotLike: { "kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::reports/${aws:username}"] } } }, false],
    ["an empty list", { ...CONTEXT_DENY, Condition: { StringNotLike: { "kms:EncryptionContext:aws:s3:arn": [] } } }, false],
  ])("the encryption-context Deny: %s", (_what, deny, recognised) => {
    expect(refusal(contextsLimitedBy(deny))).toBe(recognised ? "accepted" : `session policy refused: ${MISSING_CONTEXT_DENY}`);
  });

  it.each([
    ["NotAction the read set on *", DENY_OTHERS, true],
    ["NotAction in another case", { ...DENY_OTHERS, NotAction: ["S3:GETOBJECT"] }, true],
    ['Resource ["*"]', { ...DENY_OTHERS, Resource: ["*"] }, true],
    ["an Action beside", { ...DENY_OTHERS, Action: "s3:PutObject" }, false],
    ["a NotResource beside", { ...DENY_OTHERS, NotResource: "arn:aws:s3:::x" }, false],
    ["a NotAction with a wildcard read", { ...DENY_OTHERS, NotAction: ["s3:GetObject*"] }, false],
    ["a NotAction that spares a write", { ...DENY_OTHERS, NotAction: ["s3:GetObject", "s3:PutObject"] }, false],
    ["a NotAction list with a number", { ...DENY_OTHERS, NotAction: ["s3:GetObject", 5] }, false],
    ["Resource [*, a bucket]", { ...DENY_OTHERS, Resource: ["*", "arn:aws:s3:::reports"] }, false],
  ])("the Deny of other actions: %s", (_what, deny, recognised) => {
    expect(refusal(othersDeniedBy(deny))).toBe(recognised ? "accepted" : `session policy refused: ${MISSING_DENY_OTHERS}`);
  });

  it.each([
    ["* on * from the window's end", DENY_LATE, true],
    ['Action ["*"]', { ...DENY_LATE, Action: ["*"] }, true],
    ['Action ["*", "s3:GetObject"]', { ...DENY_LATE, Action: ["*", "s3:GetObject"] }, false],
    ["a NotAction beside", { ...DENY_LATE, NotAction: "s3:PutObject" }, false],
    ["a NotResource beside", { ...DENY_LATE, NotResource: "arn:aws:s3:::x" }, false],
    ["Resource a bucket", { ...DENY_LATE, Resource: "arn:aws:s3:::reports" }, false],
    ["a second condition key", { ...DENY_LATE, Condition: { DateGreaterThanEquals: { "aws:CurrentTime": "2026-11-28T12:00:00Z", "aws:EpochTime": "1" } } }, false],
    ["a time that is a number", { ...DENY_LATE, Condition: { DateGreaterThanEquals: { "aws:CurrentTime": 1795867200 } } }, false],
    ["a condition that is a string", { ...DENY_LATE, Condition: "late" }, false],
    ["a DateGreaterThanEquals that is a string", { ...DENY_LATE, Condition: { DateGreaterThanEquals: "2026-11-28T12:00:00Z" } }, false],
  ])("the time Deny: %s", (_what, deny, recognised) => {
    expect(refusal(lateDeniedBy(deny))).toBe(recognised ? "accepted" : `session policy refused: ${MISSING_DENY_LATE}`);
  });
});
