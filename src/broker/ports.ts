import type { Clock, Timers } from "../clock.js";
import type { Config, ProfileConfig } from "../config/types.js";
import type { Audit } from "../audit/audit.js";
import type { Vault } from "../store/secrets.js";
import type { Minter } from "../sts/mint.js";
import type { GrantRequest, Window } from "../windows/windows.js";
import type { RoleCredentials } from "./mint.js";

/** The window rules (src/windows/), as the broker uses them. */
export interface Windows {
  get(profile: string, now: number): Window | null;
  grant(profile: string, req: GrantRequest, cfg: ProfileConfig, now: number): Window;
  revoke(profile: string, now: number): unknown;
  onDemand(profile: string, cfg: ProfileConfig, now: number): Window;
}

/** Where minted sessions survive a restart (the keychain). */
export type SessionVault = Vault;

/** What the broker is built from; daemon/compose.ts picks the concrete parts. */
export interface BrokerDeps {
  config: () => Config;
  clock: Clock;
  /** Default: real (unref'd) timers. */
  timers?: Timers;
  windows: Windows;
  logins: RoleCredentials;
  minter: Minter;
  vault: SessionVault;
  audit: Audit;
  /** Called after any window change so the daemon can persist the window state. */
  windowsChanged?: () => void;
  /** The longest a credentials request waits on AWS before it gets 503 + Retry-After. */
  requestWaitMs?: number;
}

/** The last refusal of a profile, for `status`. */
export interface Refusal {
  code: string;
  at: number;
  /** Why, where the code alone does not say (MintRefused: STS's error code). */
  reason?: string;
}
