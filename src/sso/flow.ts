import type { Clock } from "../clock.js";
import type { SsoConfig } from "../config/types.js";
import { S3jitError } from "../errors.js";
import type { Registration, SsoApi, TokenGrant } from "./api.js";

/** What the user must do to finish a login. */
export interface LoginPrompt {
  sso: string;
  flow: "pkce" | "device";
  /** What the user opens: the device verification page (with the code) or the authorize URL. */
  url: string;
  /** Device flow: the page without the code, and the code the user checks. */
  verificationUri?: string;
  userCode?: string;
  /** ISO 8601 UTC: when the code (or the PKCE wait) expires. */
  expiresAt: string;
}

/** A login under way: what to show, and its end. */
export interface LoginFlow {
  prompt: LoginPrompt;
  /** Resolves once the token was stored (`complete` returned); rejects when the login fails. */
  done: Promise<void>;
}

/** What a login flow needs; `complete` stores the token the flow obtained. */
export interface FlowInput {
  api: SsoApi;
  clock: Clock;
  name: string;
  cfg: SsoConfig;
  registration: Registration;
  complete: (token: TokenGrant) => Promise<void>;
  /** True once the login is no longer wanted (a logout came first): the flow stops. */
  cancelled: () => boolean;
}

export function loginExpired(what: string): S3jitError {
  return new S3jitError("LoginExpired", `${what}: run \`s3jit login\` again`);
}

export function loginCancelled(): S3jitError {
  return new S3jitError("LoginCancelled", "`s3jit logout` ended the login that was under way: run `s3jit login` again");
}
