/**
 * @cloud-copilot/iam-simulate evaluates kms:ViaService but ignores kms:EncryptionContext:* keys:
 * it reports them as ignored and a condition on one never matches. The session policy's
 * "only for encryption contexts inside the scope" rests on exactly such a key, so the sandbox's
 * KMS path and the policy tests evaluate it under a stand-in name the simulator does compare
 * as a string (a principal tag: global, single-valued, same operators). The policy text and the
 * request context are renamed the same way; nothing else changes.
 */

export const S3_ARN_CONTEXT = "kms:EncryptionContext:aws:s3:arn";
const STAND_IN = "aws:PrincipalTag/s3jit-stand-in-encryption-context-aws-s3-arn";

/** The policy document with every condition on kms:EncryptionContext:aws:s3:arn moved to the stand-in key. */
export function withContextStandIn(policy: unknown): unknown {
  // IAM compares condition keys case-insensitively; the builder writes this one spelling.
  return JSON.parse(JSON.stringify(policy).replace(/"kms:EncryptionContext:aws:s3:arn"/gi, JSON.stringify(STAND_IN)));
}

/** The request context with kms:EncryptionContext:aws:s3:arn under the stand-in key. */
export function contextStandIn(context: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(context)) out[k.toLowerCase() === S3_ARN_CONTEXT.toLowerCase() ? STAND_IN : k] = v;
  return out;
}
