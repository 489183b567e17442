import type { CredentialRegistry } from "./iam.js";
import type { SecretLedger } from "./secrets.js";

export type Accounts = Record<string, { roles: string[] }>;

/** The state every service of the sandbox shares. */
export interface SandboxContext {
  /** Sandbox clock, epoch ms. */
  now(): number;
  /** Base URL once listening, e.g. http://127.0.0.1:41234 */
  url(): string;
  ledger: SecretLedger;
  registry: CredentialRegistry;
  accounts: Accounts;
  autoApprove: boolean;
  accessTokenTtlSeconds: number;
  roleCredentialsTtlSeconds: number;
}

/** The user every login in the sandbox signs in as. */
export const SANDBOX_USER = "sandbox-user";
