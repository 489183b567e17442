/** Times as s3jit writes them. One place, so status, audit, the endpoint and the policy agree. */

/** ISO 8601 UTC with milliseconds: status, audit lines, the control API. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * AWS's own time form, whole seconds rounded down: `YYYY-MM-DDTHH:MM:SSZ`. A served Expiration
 * must look exactly like this (the JS and Rust SDKs reject `+00:00`, botocore a missing zone), and
 * the session policy's time condition uses it too. Rounding down never moves a time past an end.
 */
export function awsTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19) + "Z";
}
