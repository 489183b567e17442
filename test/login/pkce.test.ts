import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import path from "node:path";
import { fetchCredentials, startStack, type Stack } from "../helpers/stack.js";
import { controlClient, type ControlClient } from "../../src/control/client.js";
import type { LoginStarted, StatusReport } from "../../src/control/contract.js";

/**
 * The test plays the browser against a real daemon (child process): it opens the authorize URL the
 * daemon hands out, reads the sandbox's 302 and delivers it to the daemon's loopback callback.
 */
describe("authorization code + PKCE over real HTTP (the test is the browser)", () => {
  let stack: Stack;
  let control: ControlClient;
  beforeAll(async () => {
    stack = await startStack();
    control = controlClient(path.join(stack.env.XDG_RUNTIME_DIR!, "s3jit", "control.sock"));
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("S256 challenge, state checked, one-shot callback; requests meanwhile get 403 LoginRequired; one login at a time", async () => {
    const started = await control.post<LoginStarted>("/v1/login", { flow: "pkce" });
    expect(started.flow).toBe("pkce");
    const authorize = new URL(started.url!);
    // The authorize page is on the SDK's SSO-OIDC endpoint (AWS_ENDPOINT_URL_SSO_OIDC = the sandbox).
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${stack.sandbox.url}/authorize`);
    const q = authorize.searchParams;
    expect(q.get("response_type")).toBe("code");
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get("state")!.length).toBeGreaterThanOrEqual(16);
    const redirect = new URL(q.get("redirect_uri")!);
    expect(redirect.hostname).toBe("127.0.0.1");
    expect(redirect.pathname).toBe("/oauth/callback");
    expect(Number(redirect.port)).toBeGreaterThan(0);
    const reg = stack.sandbox.requests.find((r) => r.action === "RegisterClient")!;
    expect(reg.params.grantTypes).toEqual(["authorization_code", "refresh_token"]);
    expect(reg.params.redirectUris).toEqual(["http://127.0.0.1/oauth/callback"]);
    expect(reg.params.scopes).toContain("sso:account:access");

    // A second login request (any flow) joins the one under way: same URL, same state.
    const again = await control.post<LoginStarted>("/v1/login", { flow: "device" });
    expect(again.url).toBe(started.url);
    expect(stack.sandbox.count("StartDeviceAuthorization")).toBe(0);
    expect(stack.sandbox.count("RegisterClient")).toBe(1);

    // While the login waits for the browser, the endpoint refuses at once: no waiting on the user.
    expect((await stack.cli(["grant", "audit", "--for", "20m", "--reason", "pkce"])).code).toBe(0);
    const env = await stack.clientEnv("audit");
    // Not a duration: the browser is visited only after this answer, so an endpoint that waited
    // on the user would never answer and the test's own timeout would fail it.
    const refused = await fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, { headers: { authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN! } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe("LoginRequired");
    let st = JSON.parse((await stack.cli(["status", "--json"])).stdout) as StatusReport;
    expect(st.sso.corp).toMatchObject({ loggedIn: false, loginPending: true });
    expect(st.profiles.audit!.loginRequired).toBe(true);

    // The browser: the identity provider answers 302 to the loopback callback with code and state.
    const idp = await fetch(started.url!, { redirect: "manual" });
    expect(idp.status).toBe(302);
    const location = new URL(idp.headers.get("location")!);
    expect(location.origin + location.pathname).toBe(redirect.toString());
    expect(location.searchParams.get("state")).toBe(q.get("state"));

    // A redirect carrying another state (a forged or stale one) is refused and does not end the login.
    const forged = new URL(location);
    forged.searchParams.set("state", "x".repeat(q.get("state")!.length));
    const bad = await fetch(forged);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("does not belong");
    const noState = new URL(location);
    noState.searchParams.delete("state");
    expect((await fetch(noState)).status).toBe(400);
    expect((await fetch(new URL("/elsewhere", location))).status).toBe(404);
    st = JSON.parse((await stack.cli(["status", "--json"])).stdout) as StatusReport;
    expect(st.sso.corp!.loginPending).toBe(true);
    expect(stack.sandbox.count("CreateToken")).toBe(0);

    const back = await fetch(location);
    expect(back.status).toBe(200);
    expect(await back.text()).toContain("You can close this tab");
    // The tab says "signed in" only once the code has been exchanged and the token kept.
    expect((JSON.parse((await stack.cli(["status", "--json"])).stdout) as StatusReport).sso.corp!.loggedIn).toBe(true);
    const done = await control.post<{ sso: string; expiresAt: string | null }>("/v1/login/wait", { sso: "corp" });
    expect(done.sso).toBe("corp");

    // The code was exchanged with the verifier whose S256 is the challenge the browser carried.
    const token = stack.sandbox.requests.filter((r) => r.action === "CreateToken");
    expect(token).toHaveLength(1);
    expect(token[0]!.params.grantType).toBe("authorization_code");
    expect(token[0]!.params.redirectUri).toBe(redirect.toString());
    expect(createHash("sha256").update(String(token[0]!.params.codeVerifier)).digest("base64url")).toBe(q.get("code_challenge"));

    // One shot: the listener is gone, a replayed redirect reaches nothing.
    await expect(fetch(location)).rejects.toThrow();
    st = JSON.parse((await stack.cli(["status", "--json"])).stdout) as StatusReport;
    expect(st.sso.corp).toMatchObject({ loggedIn: true, loginPending: false });
    const served = await fetchCredentials(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, env.AWS_CONTAINER_AUTHORIZATION_TOKEN!);
    expect(served.status).toBe(200);
    expect(stack.sandbox.count("Authorize")).toBe(1);
  }, 90_000);
});
