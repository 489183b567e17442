import { S3jitError } from "../errors.js";

/** What the credentials endpoint answers for a failure. */
export interface HttpError {
  status: number;
  code: string;
  message: string;
  /** Seconds, for the Retry-After header (503 and 429). */
  retryAfter?: number;
}

/** SDKs read either spelling (botocore `Code`/`Message`, others `code`/`message`). */
export interface ErrorBody {
  code: string;
  message: string;
  Code: string;
  Message: string;
}

/** The code SDKs retry on a 429 (DESIGN.md §2): botocore, JS v3, Go and Java all know this one. */
export const THROTTLING = "ThrottlingException";

const KEYCHAIN_MESSAGE = "the OS keychain is not usable (locked, or no Secret Service): run `s3jit doctor`";

/**
 * The one error → HTTP status table, for the credentials endpoint and the control API alike.
 * 4xx: the request (or the profile's config) is refused and retrying will not help; 503: the
 * daemon cannot answer now and a retry may succeed. A code not listed here is a bug: 500.
 * `endpoint` replaces the message on the credentials endpoint where the error's own text carries
 * detail from outside s3jit (a keychain's error text) that an SDK would copy into its logs.
 */
const TABLE: Readonly<Record<string, { status: number; endpoint?: string }>> = {
  Usage: { status: 400 },
  Malformed: { status: 400 },
  InvalidProfileName: { status: 400 },
  UnknownProfile: { status: 400 },
  Unauthorized: { status: 401 },
  LoginExpired: { status: 401 },
  LoginDenied: { status: 401 },
  WindowClosed: { status: 403 },
  OutsideHours: { status: 403 },
  LoginRequired: { status: 403 },
  GrantRefused: { status: 403 },
  RequestRefused: { status: 403 },
  // The profile's config cannot be served (caught at load where possible; never a 500).
  ConfigInvalid: { status: 403 },
  PolicyInvalid: { status: 403 },
  PolicyTooLarge: { status: 403 },
  HoursInvalid: { status: 403 },
  // STS refused the session policy for good (PackedPolicyTooLarge…): the config must change.
  MintRefused: { status: 403 },
  NotFound: { status: 404 },
  MethodNotAllowed: { status: 405 },
  BodyTooLarge: { status: 413 },
  [THROTTLING]: { status: 429 },
  UpstreamError: { status: 503 },
  MintPending: { status: 503 },
  KeychainUnavailable: { status: 503, endpoint: KEYCHAIN_MESSAGE },
  StateWriteFailed: { status: 503 },
};

/** An error's code for a log only when it looks like one (EPIPE, KeychainUnavailable), never free text. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[A-Za-z0-9_]{1,40}$/.test(code) ? code : undefined;
}

/** The HTTP status of an S3jitError code: the same on the endpoint and the control socket. */
export function statusOf(code: string): number {
  return TABLE[code]?.status ?? 500;
}

const UNAUTHORIZED_MESSAGE =
  "the Authorization header is missing or does not hold this profile's token: point the SDK at the daemon with `s3jit env PROFILE` or `s3jit exec PROFILE -- CMD`";
/** Built directly, not through toHttp, which itself answers an HTTP layer's 4xx with it. */
export const MALFORMED: HttpError = { status: 400, code: "Malformed", message: "malformed request: expected GET /v1/credentials/PROFILE (letters, digits, _ . -; at most 64)" };
const INTERNAL: HttpError = { status: 500, code: "InternalError", message: "internal error in the s3jit daemon: see its log, or run `s3jit doctor`" };

/**
 * What the credentials endpoint answers for an error. Only our own S3jitError messages reach the
 * body: they are written to say what to run and never carry a secret. Anything else becomes a
 * generic 500, because a foreign error's text may quote a request, a token or a key (and botocore
 * copies the body into its exception, and from there into logs).
 */
export function toHttp(err: unknown): HttpError {
  if (err instanceof S3jitError) {
    // A profile the daemon no longer serves looks exactly like a wrong token: no oracle for names.
    if (err.code === "UnknownProfile" || err.code === "Unauthorized") return { status: 401, code: "Unauthorized", message: UNAUTHORIZED_MESSAGE };
    const row = TABLE[err.code];
    if (row === undefined) return INTERNAL;
    const out: HttpError = { status: row.status, code: err.code, message: row.endpoint ?? err.message };
    if (row.status === 503 || row.status === 429) out.retryAfter = retryAfterOf(err);
    return out;
  }
  // An HTTP layer's own 4xx (an error carrying statusCode: a bad URL encoding, a body it will not
  // parse): the client sent something malformed; its text may echo the request, so drop it.
  const statusCode = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) return MALFORMED;
  return INTERNAL;
}

function retryAfterOf(err: S3jitError): number {
  const s = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  return typeof s === "number" && Number.isFinite(s) && s >= 1 ? Math.ceil(s) : 1;
}

export function errorBody(e: HttpError): ErrorBody {
  return { code: e.code, message: e.message, Code: e.code, Message: e.message };
}

/** Refusals the endpoint itself makes, built once: the refusal path must stay cheap under a flood. */
export const REQUEST_REFUSED = toHttp(
  new S3jitError(
    "RequestRefused",
    "request refused: the credentials endpoint answers only local SDKs (Host 127.0.0.1:PORT or localhost:PORT, no Origin, Sec-Fetch-Site or X-Forwarded-For)",
  ),
);
export const UNAUTHORIZED = toHttp(new S3jitError("Unauthorized", UNAUTHORIZED_MESSAGE));
export const METHOD_NOT_ALLOWED = toHttp(new S3jitError("MethodNotAllowed", "only GET is allowed here"));
export const NOT_FOUND = toHttp(new S3jitError("NotFound", "not found: the credentials endpoint is GET /v1/credentials/PROFILE"));

export function rateLimited(retryAfterSeconds: number): HttpError {
  return {
    status: statusOf(THROTTLING),
    code: THROTTLING,
    message: "too many refused requests: the endpoint refuses everything but a valid token for a moment",
    retryAfter: Math.max(1, Math.ceil(retryAfterSeconds)),
  };
}
