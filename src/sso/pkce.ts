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
  close(): void;
}

const PAGE = (title: string, text: string) =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${text}</p></body>`;

/**
 * A one-shot listener for the browser's redirect (RFC 8252 loopback, RFC 7636 PKCE S256). It
 * accepts exactly one request on /oauth/callback that carries our `state`; anything else is
 * answered and ignored, so a stray or forged request cannot complete or break the login.
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
    const error = url.searchParams.get("error");
    const c = url.searchParams.get("code");
    if (error || !c) {
      res.writeHead(400, { "content-type": "text/html; charset=utf-8" }).end(PAGE("s3jit: sign-in failed", "IAM Identity Center did not grant access. You can close this tab."));
      settle.reject(new Error(error ?? "no code"));
    } else {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE("s3jit: signed in", "You can close this tab and return to your terminal."));
      settle.resolve(c);
    }
    res.on("finish", close);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const timer = setTimeout(() => {
    settle.reject(new Error("timeout"));
    close();
  }, timeoutMs);
  timer.unref();
  function close() {
    clearTimeout(timer);
    server.close();
    server.closeAllConnections();
  }
  const port = (server.address() as AddressInfo).port;
  return { redirectUri: `http://127.0.0.1:${port}/oauth/callback`, verifier, challenge, state, code, close };
}
