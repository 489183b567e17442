/**
 * Session-policy pieces for the read-only validator's tests (src/policy/readonly*.test.ts): the
 * statements it requires, in the exact shapes the builder writes, and small ways to assemble a
 * policy around the one statement a case is about.
 */

export type Stmt = Record<string, unknown>;

export const KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/** The Deny of every action but the reads. */
export const DENY_OTHERS = { Effect: "Deny", NotAction: ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation", "kms:Decrypt"], Resource: "*" };
/** The Deny of everything from the window's end. */
export const DENY_LATE = { Effect: "Deny", Action: "*", Resource: "*", Condition: { DateGreaterThanEquals: { "aws:CurrentTime": "2026-11-28T12:00:00Z" } } };
/** The Deny that confines reads allowed on "*" to the scope. */
export const SCOPE_DENY = { Effect: "Deny", Action: "s3:*", NotResource: ["arn:aws:s3:::reports/*", "arn:aws:s3:::reports"] };
/** The Deny that confines kms:Decrypt to encryption contexts inside the scope. */
export const CONTEXT_DENY = {
  Effect: "Deny",
  Action: "kms:Decrypt",
  Resource: "*",
  Condition: { StringNotLike: { "kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::reports/*", "arn:aws:s3:::reports"] } },
};
/** kms:Decrypt only through S3, in any region of the aws partition. */
export const VIA_S3 = { StringLike: { "kms:ViaService": "s3.*.amazonaws.com" } };
export const DECRYPT_ON_STAR = { Effect: "Allow", Action: "kms:Decrypt", Resource: "*", Condition: VIA_S3 };

export const policyOf = (...statements: unknown[]): string => JSON.stringify({ Version: "2012-10-17", Statement: statements });
/** `allow` with the two Denies every policy needs. */
export const withAllow = (allow: Stmt): string => policyOf(allow, DENY_OTHERS, DENY_LATE);
export const allow = (Action: unknown, Resource: unknown, extra: Stmt = {}): string => withAllow({ Effect: "Allow", Action, Resource, ...extra });
