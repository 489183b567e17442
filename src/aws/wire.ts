import { MintRefusedError, S3jitError, UpstreamError } from "../errors.js";
import { TokenPollFailure, type TokenPollError } from "../sso/api.js";

/**
 * What crosses the pipe between the daemon and its AWS helper process (aws/worker.ts,
 * aws/worker-main.ts): one request per SDK call, one answer per request. Errors cross as data
 * and are built again on this side as the very classes the SDK adapters throw, so the broker and
 * the login flow cannot tell where the call ran.
 */

/** The SDK adapters' methods the helper runs; nothing else can be asked of it. */
export const SSO_CALLS = [
  "registerClient",
  "createTokenFromCode",
  "startDeviceAuthorization",
  "createTokenFromDeviceCode",
  "refreshToken",
  "getRoleCredentials",
  "logout",
  "listAccounts",
] as const;
export const STS_CALLS = ["mint", "whoAmI"] as const;

export type SsoCall = (typeof SSO_CALLS)[number];
export type StsCall = (typeof STS_CALLS)[number];

export interface WireRequest {
  id: number;
  /** The daemon's clock at the call (a test's manual clock too): token lifetimes are counted from it. */
  now: number;
  service: "sso" | "sts";
  method: SsoCall | StsCall;
  args: unknown[];
}

export type WireError =
  | { kind: "poll"; reason: TokenPollError }
  | { kind: "mintRefused"; awsCode: string }
  | { kind: "upstream"; message: string; retryAfterSeconds: number }
  | { kind: "s3jit"; code: string; message: string }
  | { kind: "error"; message: string };

export type WireAnswer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

export function toWire(err: unknown): WireError {
  if (err instanceof TokenPollFailure) return { kind: "poll", reason: err.reason };
  if (err instanceof MintRefusedError) return { kind: "mintRefused", awsCode: err.awsCode };
  if (err instanceof UpstreamError) return { kind: "upstream", message: err.message, retryAfterSeconds: err.retryAfterSeconds };
  if (err instanceof S3jitError) return { kind: "s3jit", code: err.code, message: err.message };
  return { kind: "error", message: err instanceof Error ? err.message : String(err) };
}

export function fromWire(e: WireError): Error {
  switch (e.kind) {
    case "poll":
      return new TokenPollFailure(e.reason);
    case "mintRefused":
      return new MintRefusedError(e.awsCode);
    case "upstream":
      return new UpstreamError(e.message, e.retryAfterSeconds);
    case "s3jit":
      return new S3jitError(e.code, e.message);
    case "error":
      return new Error(e.message);
  }
}
