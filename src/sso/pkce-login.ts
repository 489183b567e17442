import { S3jitError } from "../errors.js";
import { loginExpired, type FlowInput, type LoginFlow } from "./flow.js";
import type { PkceCallback } from "./pkce.js";

/** Opens the loopback listener the browser comes back to (pkce.ts; tests pass their own). */
export type CallbackListener = (timeoutMs: number) => Promise<PkceCallback>;

/** How long a browser login may take before it is given up. */
export const PKCE_TIMEOUT_MS = 10 * 60_000;

/**
 * Authorization code + PKCE (RFC 7636, RFC 8252 loopback redirect): the prompt's URL is the
 * authorize page; the browser comes back to the listener with a code that s3jit exchanges.
 */
export async function startPkceLogin(input: FlowInput, listen: CallbackListener): Promise<LoginFlow> {
  const { api, cfg, registration, name, clock } = input;
  const cb = await listen(PKCE_TIMEOUT_MS);
  const url = new URL(api.authorizationEndpoint(cfg.region, registration));
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: registration.clientId,
    redirect_uri: cb.redirectUri,
    state: cb.state,
    code_challenge: cb.challenge,
    code_challenge_method: "S256",
    scopes: cfg.scopes.join(" "),
  }).toString();
  const done = (async () => {
    try {
      let code: string;
      try {
        code = await cb.code;
      } catch (err) {
        throw (err as Error).message === "timeout"
          ? loginExpired("the browser sign-in did not come back in time")
          : new S3jitError("LoginDenied", "the sign-in was not granted in the browser");
      }
      const token = await api.createTokenFromCode(cfg.region, registration, code, cb.verifier, cb.redirectUri);
      await input.complete(token);
      // The tab says "signed in" only once s3jit really is.
      cb.finish(true);
    } catch (err) {
      cb.finish(false);
      throw err;
    }
  })();
  return { prompt: { sso: name, flow: "pkce", url: url.toString(), expiresAt: new Date(clock.now() + PKCE_TIMEOUT_MS).toISOString() }, done };
}
