/**
 * The errors a user can act on. Each carries a stable `code` (what the endpoint, the control API
 * and `status` show) and a message that says what to do. Mapping to HTTP status happens in one
 * place: server/errors.ts.
 */
export class S3jitError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ConfigError extends S3jitError {
  constructor(
    readonly file: string,
    readonly key: string,
    reason: string,
  ) {
    super("ConfigInvalid", `${file}: ${key}: ${reason}`);
  }
}

export class UsageError extends S3jitError {
  constructor(message: string) {
    super("Usage", message);
  }
}

export class UnknownProfileError extends S3jitError {
  constructor(readonly profile: string, known: string[]) {
    super("UnknownProfile", `no profile "${profile}" in the config (known: ${known.join(", ") || "none"})`);
  }
}

export class WindowClosedError extends S3jitError {
  constructor(readonly profile: string) {
    super("WindowClosed", `no access window is open for profile "${profile}": run \`s3jit grant ${profile} --reason "…"\``);
  }
}

export class OutsideHoursError extends S3jitError {
  constructor(readonly profile: string, hours: string) {
    super("OutsideHours", `profile "${profile}" may only be used during ${hours}`);
  }
}

export class GrantRefusedError extends S3jitError {
  constructor(message: string) {
    super("GrantRefused", message);
  }
}

export class LoginRequiredError extends S3jitError {
  constructor(readonly sso: string) {
    super("LoginRequired", `the IAM Identity Center login "${sso}" is missing or expired: run \`s3jit login ${sso}\``);
  }
}

/** AWS answered with an error, or did not answer in time; the caller may retry. */
export class UpstreamError extends S3jitError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super("UpstreamError", message);
  }
}

/** A mint is under way and took longer than a request may wait; it goes on in the background. */
export class MintPendingError extends S3jitError {
  constructor(readonly profile: string) {
    super("MintPending", `credentials for "${profile}" are being minted; retry in a second`);
  }
}

export class KeychainUnavailableError extends S3jitError {
  constructor(detail: string) {
    super(
      "KeychainUnavailable",
      `the OS keychain is not usable (${detail}). Start or unlock your keyring (on Linux: a D-Bus session with gnome-keyring or another Secret Service), or set \`keychain = "memory"\` in [daemon] to keep secrets in memory only (nothing survives a restart).`,
    );
  }
}

export class DaemonNotRunningError extends S3jitError {
  constructor(socket: string) {
    super("DaemonNotRunning", `the s3jit daemon is not running (no answer on ${socket}): start it with \`s3jit daemon\` or \`s3jit service install\``);
  }
}

/**
 * STS answers these when the request itself is wrong (the session policy too large or malformed,
 * a parameter out of range): asking again changes nothing until the config does.
 */
export const NON_RETRYABLE_STS_CODES: ReadonlySet<string> = new Set(["PackedPolicyTooLarge", "MalformedPolicyDocument", "ValidationError"]);

/**
 * The STS code behind an SDK error name if no retry can change it, else null. The SDK names a
 * modeled error `PackedPolicyTooLargeException`; STS's wire code is `PackedPolicyTooLarge`.
 */
export function nonRetryableStsCode(errorName: string): string | null {
  const code = errorName.replace(/Exception$/, "");
  return NON_RETRYABLE_STS_CODES.has(code) ? code : null;
}

/** STS refused a mint for a reason no retry changes (`awsCode`, one of NON_RETRYABLE_STS_CODES). */
export class MintRefusedError extends S3jitError {
  constructor(readonly awsCode: string) {
    super("MintRefused", `STS refuses to mint credentials for this profile (${awsCode}): its config must change (scope, session_ttl); run \`s3jit doctor\``);
  }
}
