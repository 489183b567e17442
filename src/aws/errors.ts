import { MintRefusedError, NON_RETRYABLE_STS_CODES, S3jitError, UpstreamError } from "../errors.js";

/**
 * What an AWS SDK error means to s3jit, in one place for sso/ and sts/. Only the error's name and
 * HTTP status are kept: SDK messages can echo request fields (tokens, policies).
 */

/** The SDK's name for an error (`PackedPolicyTooLargeException`), or "" when it has none. */
export function errorName(err: unknown): string {
  return typeof err === "object" && err !== null && "name" in err ? String((err as { name: unknown }).name) : "";
}

/** An AWS answer s3jit must retry later (throttling, a network failure, a 5xx…). */
export function upstream(err: unknown): S3jitError {
  if (err instanceof S3jitError) return err;
  const name = errorName(err) || "NetworkError";
  const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const throttled = /Throttl|TooManyRequests|SlowDown/i.test(name);
  return new UpstreamError(`AWS call failed: ${name}${status ? ` (HTTP ${status})` : ""}`, throttled ? 2 : 1);
}

/**
 * STS's answers: a refusal no retry changes (the policy too large or malformed, a parameter out of
 * range) is a MintRefusedError naming STS's code; anything else is `upstream`.
 */
export function fromSts(err: unknown): S3jitError {
  // The SDK names modelled errors `<Code>Exception` (PackedPolicyTooLargeException); the wire code has no suffix.
  const code = errorName(err).replace(/Exception$/, "");
  return NON_RETRYABLE_STS_CODES.has(code) ? new MintRefusedError(code) : upstream(err);
}

/** Runs one SDK call; whatever it throws comes back as an S3jitError. */
export async function call<T>(fn: () => Promise<T>, translate: (err: unknown) => S3jitError = upstream): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translate(err);
  }
}
