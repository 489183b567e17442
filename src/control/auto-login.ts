import { S3jitError } from "../errors.js";
import type { Audit } from "../audit/audit.js";
import type { Broker } from "../broker/broker.js";
import type { SsoConfig } from "../config/types.js";
import type { SsoLogins } from "../sso/logins.js";

export interface AutoLoginDeps {
  sso: () => Record<string, SsoConfig>;
  broker: Pick<Broker, "on" | "resume">;
  logins: Pick<SsoLogins, "state" | "startLogin" | "waitLogin">;
  audit: Audit;
  /** Whether a browser can be opened here (a desktop session), and how. */
  canOpenBrowser(): boolean;
  openBrowser(url: string): Promise<unknown>;
}

/**
 * The daemon never opens a browser on its own, unless the user asked for it (`auto_login`): then
 * one login (startLogin joins a running one) when a mint finds the login missing. Returns the
 * unsubscribe function.
 */
export function autoLogin(deps: AutoLoginDeps): () => void {
  const { broker, logins, audit } = deps;
  return broker.on((e) => {
    if (e.type !== "login-required" || !deps.sso()[e.sso]?.autoLogin || !deps.canOpenBrowser()) return;
    // Many requests fail while one login runs: one browser tab, not one per request.
    if (logins.state(e.sso).loginPending) return;
    void logins
      .startLogin(e.sso, "pkce")
      .then(async (p) => {
        await deps.openBrowser(p.url);
        await logins.waitLogin(e.sso);
        broker.resume();
      })
      .catch((err: unknown) => audit.record("error", { what: "auto login failed", sso: e.sso, code: err instanceof S3jitError ? err.code : "Error" }));
  });
}
