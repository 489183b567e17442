import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface PkceCallback {
  /** http://127.0.0.1:<port>/oauth/callback */
  redirectUri: string;
  verifier: string;
  challenge: string;
  state: string;
  /** Resolves with the authorization code once the browser comes back with the right state. */
  code: Promise<string>;
  /**
   * Answers the browser's waiting request once the code has been exchanged (or not), so the tab
   * says "signed in" only when s3jit really is; then closes the listener.
   */
  finish(ok: boolean): void;
  close(): void;
}

const PAGE = (title: string, text: string) =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${text}</p></body>`;

/**
 * A one-shot listener for the browser's redirect (RFC 8252 loopback, RFC 7636 PKCE S256). It
 * accepts exactly one request on /oauth/callback that carries our `state`; anything else is
 * answered and ignored, so a stray or forged request cannot complete or break the login. The
 * browser's request is answered only once the code has been exchanged (`finish`).
 */
export async function listenForCallback(timeoutMs: number): Promise<PkceCallback> {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const state = randomBytes(16).toString("base64url");
  let settle!: { resolve: (code: string) => void; reject: (err: Error) => void };
  const code = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  code.catch(() => {});
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method !== "GET" || url.pathname !== "/oauth/callback") {
      res.writeHead(404).end();
      return;
    }
    const got = url.searchParams.get("state") ?? "";
    if (got.length !== state.length || !timingSafeEqual(Buffer.from(got), Buffer.from(state))) {
      res.writeHead(400, { "content-type": "text/html; charset=utf-8" }).end(PAGE("s3jit: login not accepted", "This sign-in answer does not belong to the login s3jit started. Run <code>s3jit login</code> again."));
      return;
    }
    if (waiting) {
      // One shot: the code already arrived; a replay gets nothing.
      res.writeHead(409).end();
      return;
    }
    const error = url.searchParams.get("error");
    const c = url.searchParams.get("code");
    if (error || !c) {
      res.writeHead(400, { "content-type": "text/html; charset=utf-8" }).end(PAGE("s3jit: sign-in failed", "IAM Identity Center did not grant access. You can close this tab."));
      settle.reject(new Error(error ?? "no code"));
      res.on("finish", close);
    } else {
      waiting = res;
      settle.resolve(c);
    }
  });
  let waiting: http.ServerResponse | undefined;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const timer = setTimeout(() => {
    settle.reject(new Error("timeout"));
    close();
  }, timeoutMs);
  timer.unref();
  function finish(ok: boolean) {
    const res = waiting;
    if (res && !res.headersSent) {
      res.on("finish", close);
      if (ok) res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE("s3jit: signed in", "You can close this tab and return to your terminal."));
      else res.writeHead(502, { "content-type": "text/html; charset=utf-8" }).end(PAGE("s3jit: sign-in not completed", "IAM Identity Center did not complete the sign-in. Run <code>s3jit login</code> again."));
    } else close();
  }
  function close() {
    if (waiting && !waiting.headersSent) {
      finish(false);
      return;
    }
    clearTimeout(timer);
    server.close();
    server.closeAllConnections();
  }
  const port = (server.address() as AddressInfo).port;
  return { redirectUri: `http://127.0.0.1:${port}/oauth/callback`, verifier, challenge, state, code, finish, close };
}
