import { S3jitError } from "../errors.js";

/** A scope the builder will not turn into a policy, or a policy the read-only validator refuses. */
export class PolicyInvalidError extends S3jitError {
  constructor(message: string) {
    super("PolicyInvalid", message);
  }
}

/** The scope does not fit in one session policy (AWS allows 2048 characters, minified). */
export class PolicyTooLargeError extends S3jitError {
  constructor(
    /** Scope entries the policy was built from (after dropping entries another one covers). */
    readonly entries: number,
    /** How many of them must go (dropped, or merged under a shorter common prefix) to fit. */
    readonly excess: number,
    readonly length: number,
    readonly limit: number,
  ) {
    super(
      "PolicyTooLarge",
      `the session policy for these ${entries} scope entries is ${length} characters, over AWS's limit of ${limit}: ` +
        `drop at least ${excess} of them from scope, or merge several into one shorter common prefix ` +
        `(a bucket's prefixes "a/1/" and "a/2/" become "a/")`,
    );
  }
}
