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

const STATUS: Readonly<Record<string, number>> = {
  Malformed: 400,
  Unauthorized: 401,
  WindowClosed: 403,
  OutsideHours: 403,
  LoginRequired: 403,
  GrantRefused: 403,
  RequestRefused: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  RateLimited: 429,
  UpstreamError: 503,
  MintPending: 503,
};

const UNAUTHORIZED_MESSAGE =
  "the Authorization header is missing or does not hold this profile's token: point the SDK at the daemon with `s3jit env PROFILE` or `s3jit exec PROFILE -- CMD`";
/** Built directly, not through toHttp, which itself answers fastify's 4xx with it. */
export const MALFORMED: HttpError = { status: 400, code: "Malformed", message: "malformed request: expected GET /v1/credentials/PROFILE (letters, digits, _ . -; at most 64)" };
const INTERNAL: HttpError = { status: 500, code: "InternalError", message: "internal error in the s3jit daemon: see its log, or run `s3jit doctor`" };

/**
 * The one place that maps an error to what the endpoint answers. Only our own S3jitError messages
 * reach the body: they are written to say what to run and never carry a secret. Anything else
 * becomes a generic 500, because a foreign error's text may quote a request, a token or a key
 * (and botocore copies the body into its exception, and from there into logs).
 */
export function toHttp(err: unknown): HttpError {
  if (err instanceof S3jitError) {
    // A profile the daemon no longer serves looks exactly like a wrong token: no oracle for names.
    if (err.code === "UnknownProfile" || err.code === "Unauthorized") return { status: 401, code: "Unauthorized", message: UNAUTHORIZED_MESSAGE };
    const status = STATUS[err.code];
    if (status === undefined) return INTERNAL;
    const out: HttpError = { status, code: err.code, message: err.message };
    if (status === 503 || status === 429) out.retryAfter = retryAfterOf(err);
    return out;
  }
  // fastify's own 4xx (a bad URL encoding, a parameter too long, a body it will not parse): the
  // client sent something malformed; its text is fastify's and may echo the request, so drop it.
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
    status: 429,
    code: "RateLimited",
    message: "too many refused requests: the endpoint refuses everything but a valid token for a moment",
    retryAfter: Math.max(1, Math.ceil(retryAfterSeconds)),
  };
}
