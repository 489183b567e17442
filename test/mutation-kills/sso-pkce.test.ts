import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import http from "node:http";
import { ManualClock } from "../../src/clock.js";
import type { SsoConfig } from "../../src/config/types.js";
import type { Registration, SsoApi, TokenGrant } from "../../src/sso/api.js";
import { listenForCallback, type PkceCallback } from "../../src/sso/pkce.js";
import { PKCE_TIMEOUT_MS, startPkceLogin } from "../../src/sso/pkce-login.js";
import type { S3jitError } from "../../src/errors.js";

/**
 * The browser's way back in a PKCE login, over real loopback HTTP: only our state on our path is
 * accepted, once; the tab hears "signed in" only after the code was exchanged; a denial, a
 * timeout and a close each end it. The flow around it, with a held listener and IAM Identity
 * Center answering from the test.
 */

interface Answer {
  status: number;
  body: string;
  type: string | undefined;
}

const HTML = "text/html; charset=utf-8";

/** One GET (or other method) to the listener, on its own connection. */
function request(url: string, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, type: res.headers["content-type"] }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Resolves once the listener holds the browser's request (the code arrived). */
function codeArrived(cb: PkceCallback): Promise<string> {
  return cb.code;
}

const callback = (cb: PkceCallback, query: Record<string, string>) => `${cb.redirectUri}?${new URLSearchParams(query).toString()}`;

describe("the loopback listener", () => {
  it("a verifier with its S256 challenge, a fresh state, a loopback redirect", async () => {
    const cb = await listenForCallback(PKCE_TIMEOUT_MS);
    try {
      expect(cb.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback$/);
      expect(cb.challenge).toBe(createHash("sha256").update(cb.verifier).digest("base64url"));
      expect(cb.verifier).toMatch(/^[\w-]{43}$/);
      expect(cb.state).toMatch(/^[\w-]{22}$/);
      const other = await listenForCallback(PKCE_TIMEOUT_MS);
      expect(other.state).not.toBe(cb.state);
      other.close();
    } finally {
      cb.close();
    }
  });

  it("listens on the IPv4 loopback only: not on ::1 or any other address", async () => {
    const cb = await listenForCallback(PKCE_TIMEOUT_MS);
    try {
      const port = new URL(cb.redirectUri).port;
      await expect(request(`http://[::1]:${port}/`)).rejects.toThrow(/ECONNREFUSED|EADDRNOTAVAIL|ENETUNREACH/);
    } finally {
      cb.close();
    }
  });

  it("another path or method: 404; another state (of any length): 400; the login goes on", async () => {
    const cb = await listenForCallback(PKCE_TIMEOUT_MS);
    try {
      const base = cb.redirectUri.replace("/oauth/callback", "");
      expect((await request(`${base}/`)).status).toBe(404);
      expect((await request(`${base}/oauth/callbackx?state=${cb.state}&code=c`)).status).toBe(404);
      expect((await request(callback(cb, { state: cb.state, code: "c" }), "POST")).status).toBe(404);
      const forged = await request(callback(cb, { state: cb.state.replace(/^./, (c) => (c === "A" ? "B" : "A")), code: "c" }));
      expect(forged.status).toBe(400);
      expect(forged.body).toContain("s3jit: login not accepted");
      expect(forged.body).toContain("This sign-in answer does not belong to the login s3jit started.");
      expect(forged.type).toBe(HTML);
      expect((await request(callback(cb, { state: cb.state + "x", code: "c" }))).status).toBe(400);
      expect((await request(callback(cb, { code: "c" }))).status).toBe(400);
      // Still waiting for the real answer.
      const real = request(callback(cb, { state: cb.state, code: "the-code" }));
      expect(await codeArrived(cb)).toBe("the-code");
      cb.finish(true);
      expect((await real).status).toBe(200);
    } finally {
      cb.close();
    }
  });

  it("the browser hears 'signed in' only at finish(true); a replay meanwhile gets 409; then the listener is closed", async () => {
    const cb = await listenForCallback(PKCE_TIMEOUT_MS);
    const url = callback(cb, { state: cb.state, code: "the-code" });
    let answered: Answer | undefined;
    const browser = request(url).then((a) => (answered = a));
    expect(await codeArrived(cb)).toBe("the-code");
    expect((await request(url)).status).toBe(409);
    expect(answered).toBeUndefined();
    cb.finish(true);
    await browser;
    expect(answered!.status).toBe(200);
    expect(answered!.body).toContain("s3jit: signed in");
    expect(answered!.body).toContain("You can close this tab and return to your terminal.");
    expect(answered!.type).toBe(HTML);
    await expect(request(url)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("finish(false): the browser hears the sign-in was not completed (502)", async () => {
    const cb = await listenForCallback(PKCE_TIMEOUT_MS);
    const browser = request(callback(cb, { state: cb.state, code: "the-code" }));
    await codeArrived(cb);
    cb.finish(false);
    const a = await browser;
    expect(a.status).toBe(502);
    expect(a.body).toContain("s3jit: sign-in not completed");
    expect(a.body).toContain("IAM Identity Center did not complete the sign-in.");
    expect(a.type).toBe(HTML);
  });

  it("close() while the browser waits answers it (502) and stops listening", async () => {
    const cb = await listenForCallback(PKCE_TIMEOUT_MS);
    const url = callback(cb, { state: cb.state, code: "the-code" });
    const browser = request(url);
    await codeArrived(cb);
    cb.close();
    expect((await browser).status).toBe(502);
    await expect(request(url)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("a denial in the browser: 400, the code rejects with IAM Identity Center's error, the listener closes", async () => {
    const cb = await listenForCallback(PKCE_TIMEOUT_MS);
    const a = await request(callback(cb, { state: cb.state, error: "access_denied" }));
    expect(a.status).toBe(400);
    expect(a.body).toContain("s3jit: sign-in failed");
    expect(a.body).toContain("IAM Identity Center did not grant access.");
    expect(a.type).toBe(HTML);
    await expect(cb.code).rejects.toThrow("access_denied");
    await expect(request(callback(cb, { state: cb.state, code: "late" }))).rejects.toThrow(/ECONNREFUSED/);
  });

  it("our state without a code: the code rejects with 'no code'", async () => {
    const cb = await listenForCallback(PKCE_TIMEOUT_MS);
    expect((await request(callback(cb, { state: cb.state }))).status).toBe(400);
    await expect(cb.code).rejects.toThrow("no code");
  });

  it("nobody comes back in time: the code rejects with 'timeout' and the listener closes", async () => {
    const cb = await listenForCallback(1);
    await expect(cb.code).rejects.toThrow("timeout");
    // The flow then tells the (absent) browser it failed: nothing waits, nothing throws.
    expect(() => cb.finish(false)).not.toThrow();
    await expect(request(callback(cb, { state: cb.state, code: "late" }))).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe("startPkceLogin", () => {
  const CFG: SsoConfig = { name: "corp", startUrl: "https://corp.awsapps.com/start", region: "eu-west-1", scopes: ["sso:account:access", "openid"], autoLogin: false };
  const REG: Registration = { clientId: "client-1", clientSecret: "cs", expiresAt: 0, flow: "pkce" };

  function held() {
    let resolveCode!: (c: string) => void;
    let rejectCode!: (e: Error) => void;
    const code = new Promise<string>((res, rej) => ((resolveCode = res), (rejectCode = rej)));
    code.catch(() => {});
    const finished: boolean[] = [];
    const cb: PkceCallback = { redirectUri: "http://127.0.0.1:5555/oauth/callback", verifier: "v".repeat(43), challenge: "ch", state: "st", code, finish: (ok) => finished.push(ok), close: () => {} };
    const exchanged: unknown[][] = [];
    let tokenAnswer: Promise<TokenGrant> = Promise.resolve({ accessToken: "at", expiresAt: 1 });
    const api = {
      authorizationEndpoint: () => "https://oidc.eu-west-1.amazonaws.com/authorize",
      createTokenFromCode: (...args: unknown[]) => {
        exchanged.push(args);
        return tokenAnswer;
      },
    } as unknown as SsoApi;
    const completed: TokenGrant[] = [];
    const clock = new ManualClock();
    const asked: number[] = [];
    const start = () =>
      startPkceLogin(
        { api, clock, name: "corp", cfg: CFG, registration: REG, complete: async (t) => void completed.push(t), cancelled: () => false },
        async (ms) => {
          asked.push(ms);
          return cb;
        },
      );
    return { start, resolveCode, rejectCode, finished, exchanged, completed, clock, asked, setTokenAnswer: (p: Promise<TokenGrant>) => (tokenAnswer = p) };
  }

  it("prompts with the authorize URL carrying every PKCE parameter, and the wait's end", async () => {
    const h = held();
    const flow = await h.start();
    expect(h.asked).toEqual([10 * 60_000]);
    const url = new URL(flow.prompt.url);
    expect(url.origin + url.pathname).toBe("https://oidc.eu-west-1.amazonaws.com/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: "code",
      client_id: "client-1",
      redirect_uri: "http://127.0.0.1:5555/oauth/callback",
      state: "st",
      code_challenge: "ch",
      code_challenge_method: "S256",
      scopes: "sso:account:access openid",
    });
    expect(flow.prompt).toMatchObject({ sso: "corp", flow: "pkce", expiresAt: new Date(h.clock.now() + 10 * 60_000).toISOString() });
    h.resolveCode("the-code");
    await flow.done;
    expect(h.exchanged).toEqual([["eu-west-1", REG, "the-code", "v".repeat(43), "http://127.0.0.1:5555/oauth/callback"]]);
    expect(h.completed).toEqual([{ accessToken: "at", expiresAt: 1 }]);
    expect(h.finished).toEqual([true]);
  });

  it("a timeout is LoginExpired, a denial LoginDenied; the tab hears failure", async () => {
    const t = held();
    const timedOut = await t.start();
    t.rejectCode(new Error("timeout"));
    const e1 = (await timedOut.done.catch((e: unknown) => e)) as S3jitError;
    expect(e1.code).toBe("LoginExpired");
    expect(e1.message).toBe("the browser sign-in did not come back in time: run `s3jit login` again");
    expect(t.finished).toEqual([false]);

    const d = held();
    const denied = await d.start();
    d.rejectCode(new Error("access_denied"));
    const e2 = (await denied.done.catch((e: unknown) => e)) as S3jitError;
    expect(e2.code).toBe("LoginDenied");
    expect(e2.message).toBe("the sign-in was not granted in the browser");
    expect(d.completed).toEqual([]);
  });

  it("an exchange IAM Identity Center refuses: nothing stored, the tab hears failure", async () => {
    const h = held();
    h.setTokenAnswer(Promise.reject(new Error("InvalidGrantException")));
    const flow = await h.start();
    h.resolveCode("the-code");
    await expect(flow.done).rejects.toThrow("InvalidGrantException");
    expect(h.completed).toEqual([]);
    expect(h.finished).toEqual([false]);
  });
});
