import type { ManagedPolicy } from "./managed.js";

/** The validated, defaulted config. Durations are milliseconds. */
export interface Config {
  /** Absolute path of the file this came from (errors name it). */
  file: string;
  daemon: DaemonConfig;
  sso: Record<string, SsoConfig>;
  profiles: Record<string, ProfileConfig>;
  /** The organisation's managed policy this config was held to, where one is installed. */
  managed?: ManagedPolicy;
}

export interface DaemonConfig {
  /** Loopback port of the credentials endpoint; 0 = any free port. Default 17810. */
  port: number;
  /** "os" = keytar, "memory" = nothing survives a restart. Default "os". */
  keychain: "os" | "memory";
}

export interface SsoConfig {
  name: string;
  startUrl: string;
  region: string;
  /** Registration scopes; always includes "sso:account:access". */
  scopes: string[];
  /** Name of the ~/.aws/config [sso-session] this came from, if reused. */
  awsSsoSession?: string;
  /** Whether the daemon may open a browser on its own (default false). */
  autoLogin: boolean;
}

export interface ScopeEntry {
  bucket: string;
  /** "" for the whole bucket, else a prefix (as written, e.g. "2026/" or "reports"). */
  prefix: string;
}

export interface ProfileConfig {
  name: string;
  sso: string;
  accountId: string;
  ssoRole: string;
  /** Set: assume-role mode; unset: scoped mode (GetScopedCredentials). */
  roleArn?: string;
  region: string;
  scope: ScopeEntry[];
  /**
   * Empty (the default): kms:Decrypt of any key, via S3 only, for encryption contexts inside the
   * scope. Set: only these keys (the stricter option).
   */
  kmsKeys: string[];
  window: number;
  maxWindow: number;
  sessionTtl: number;
  grant: "explicit" | "on-demand";
  requireReason: boolean;
  hours?: string;
  timezone?: string;
  /** assume-role only: send SourceIdentity / session tags (the trust policy must allow them). */
  sourceIdentity: boolean;
}

export const MODE_LIMITS = {
  scoped: { minTtl: 60_000, maxTtl: 36 * 3600_000 },
  assumeRole: { minTtl: 15 * 60_000, maxTtl: 3600_000 },
} as const;
