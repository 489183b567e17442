/**
 * What the policy builder accepts as a bucket name and a key prefix. The config loader checks
 * these too, but the builder is the last line before AWS and trusts no caller.
 */

const BUCKET_RULE =
  'S3 bucket names are 3 to 63 lowercase letters, digits, dots and hyphens, start and end with a letter or digit, have no ".." and are not IP addresses';

/** Why `name` cannot appear in a session policy as a bucket, or undefined if it can. */
export function bucketProblem(name: string): string | undefined {
  const shown = JSON.stringify(name);
  if (/[*?]/.test(name)) return `bucket ${shown} has a wildcard; ${BUCKET_RULE}`;
  if (name.length < 3 || name.length > 63) return `bucket ${shown} is ${name.length} characters long; ${BUCKET_RULE}`;
  if (!/^[a-z0-9.-]+$/.test(name)) return `bucket ${shown} has characters S3 does not allow; ${BUCKET_RULE}`;
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) return `bucket ${shown} does not start and end with a letter or digit; ${BUCKET_RULE}`;
  if (name.includes("..")) return `bucket ${shown} has ".."; ${BUCKET_RULE}`;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return `bucket ${shown} looks like an IP address; ${BUCKET_RULE}`;
  return undefined;
}

const PREFIX_RULE = 'a key prefix is plain text, like "2026/" or "reports"; no wildcards';
const MAX_KEY_BYTES = 1024;

/** Why `prefix` cannot be a scope's key prefix, or undefined if it can ("" is the whole bucket). */
export function prefixProblem(prefix: string): string | undefined {
  const shown = JSON.stringify(prefix);
  // In a resource ARN and in StringLike both "*" and "?" are wildcards: a scope must name data.
  if (/[*?]/.test(prefix)) return `prefix ${shown} has a wildcard; ${PREFIX_RULE}`;
  // "${...}" is an IAM policy variable ("${*}" is a literal "*", "${aws:username}" is anyone's name).
  if (prefix.includes("${")) return `prefix ${shown} contains "\${", which IAM reads as a policy variable; ${PREFIX_RULE}`;
  if (/\p{Cc}/u.test(prefix)) return `prefix ${shown} contains a control character; ${PREFIX_RULE}`;
  if (Buffer.byteLength(prefix, "utf8") > MAX_KEY_BYTES) return `prefix ${shown} is longer than an S3 key (${MAX_KEY_BYTES} bytes)`;
  return undefined;
}

/** An AWS region name, like "eu-west-1". */
export const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

// Only key ARNs: kms:Decrypt is authorised against the key itself, so an alias ARN would never
// match, and a wildcard would open every key in the account.
export const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:key\/[A-Za-z0-9-]{1,128}$/;
