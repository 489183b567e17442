/**
 * The control API between the CLI (and trays) and the daemon: what each request sends and each
 * answer holds. Both sides import these types from here and from nowhere else, so neither depends
 * on the other's transport (the daemon's node:http server, the CLI's socket client).
 * Times are ISO 8601 UTC.
 */

/** What `status --json` prints (DESIGN.md §2). */
export interface StatusReport {
  daemon: {
    pid: number;
    version: string;
    port: number;
    config: string;
    keychain: string;
    startedAt: string;
    warnings: string[];
    /** The organisation's managed policy in force, where one is installed. */
    managedPolicy?: { file: string; control: boolean; notAControl?: string; caps: Record<string, unknown> };
  };
  sso: Record<string, { loggedIn: boolean; expiresAt: string | null; loginPending: boolean }>;
  profiles: Record<string, ProfileStatus>;
}

export interface ProfileStatus {
  mode: "scoped" | "assume-role";
  grant: "explicit" | "on-demand";
  window: { open: boolean; start: string; end: string; reason: string; who?: string } | null;
  session: { expiration: string } | null;
  lastRefusal: { code: string; at: string; reason?: string } | null;
  loginRequired: boolean;
  /** The session policy's size in characters against STS's limit (2048): the room the scope leaves. The daemon always sends it. */
  policy?: { chars: number; limit: number };
}

export interface LoginStarted {
  sso: string;
  alreadyLoggedIn: boolean;
  flow?: "pkce" | "device";
  /** What the user opens in a browser. */
  url?: string;
  verificationUri?: string;
  userCode?: string;
  expiresAt?: string;
}

export interface LoginDone {
  sso: string;
  expiresAt: string | null;
}

export interface GrantRequest {
  /** A duration like "30m"; the profile's `window` when absent. */
  for?: string;
  reason?: string;
  who?: string;
}

export interface GrantAnswer {
  profile: string;
  start: string;
  end: string;
  reason: string;
}

export interface EnvInfo {
  profile: string;
  region: string;
  url: string;
  tokenFile: string;
  token: string;
}

export interface Account {
  accountId: string;
  accountName: string;
  roles: string[];
}

/** The container-credentials JSON the endpoint serves, for credential-process. */
export interface CredentialsJson {
  AccessKeyId: string;
  SecretAccessKey: string;
  Token: string;
  Expiration: string;
}

/** A state change a tray hears on /v1/events (window-opened, minted, window-closed, …). */
export type ControlEvent = { type: string } & Record<string, unknown>;

/** What the daemon offers its owner over the control socket. Refusals are thrown as S3jitError. */
export interface ControlApi {
  status(): StatusReport;
  login(sso: string | undefined, force: boolean, flow: "pkce" | "device"): Promise<LoginStarted>;
  waitLogin(sso: string): Promise<LoginDone>;
  logout(): Promise<void>;
  grant(profile: string, req: GrantRequest): GrantAnswer;
  revoke(profile: string): Promise<void>;
  env(profile: string): EnvInfo;
  accounts(sso: string): Promise<Account[]>;
  credentials(profile: string): Promise<CredentialsJson>;
  /** Subscribe to state changes; returns the unsubscribe function. */
  subscribe(listener: (event: ControlEvent) => void): () => void;
}

/** What a grant's reason may be: one line of printable text (the CLI and the daemon both check). */
export { reasonProblem, MAX_REASON_LENGTH } from "./reason.js";
