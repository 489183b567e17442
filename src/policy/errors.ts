import { S3jitError } from "../errors.js";

/** Which part of a profile's config a refusal is about, so config load can name the key. */
export interface PolicyInputPart {
  key: "scope" | "region" | "kms_keys";
  /** Index in the list (scope, kms_keys) as the caller passed it. */
  index?: number;
}

/** A scope the builder will not turn into a policy, or a policy the read-only validator refuses. */
export class PolicyInvalidError extends S3jitError {
  constructor(
    message: string,
    readonly part?: PolicyInputPart,
  ) {
    super("PolicyInvalid", message);
  }
}

/** The scope does not fit in one session policy (STS allows 2048 characters, minified). */
export class PolicyTooLargeError extends S3jitError {
  constructor(
    /** Scope entries the policy was built from (after dropping entries another one covers). */
    readonly entries: number,
    /** How many of them must go (dropped, or merged under a shorter common prefix) to fit. */
    readonly excess: number,
    readonly length: number,
    readonly limit: number,
    /** The bucket whose entries take the most characters, and how many. */
    readonly largest: { bucket: string; entries: number; chars: number },
  ) {
    super(
      "PolicyTooLarge",
      `the session policy for these ${entries} scope entries is ${length} characters, over STS's limit of ${limit}; ` +
        `the largest part is bucket "${largest.bucket}" (${largest.entries} ${largest.entries === 1 ? "entry" : "entries"}, ${largest.chars} characters): ` +
        `drop at least ${excess} of them from scope, or merge several into one shorter common prefix ` +
        `(a bucket's prefixes "a/1/" and "a/2/" become "a/")`,
    );
  }
}
