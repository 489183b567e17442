import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fault } from "../sandbox/server.js";
import type { Stack } from "../helpers/stack.js";
import { endpointOf, grantedStack, sdkGet, sleep, type Endpoint, type RawResponse } from "./raw.js";

/**
 * Failing AWS, injected by the sandbox, against the real daemon: the endpoint answers 503 with
 * Retry-After (never 500, never a stale or expired credential), keeps serving a cached session
 * while STS fails, and recovers by itself — the first request after the fault mints at once
 * instead of waiting for the broker's 30 s background retry.
 */

interface Scenario {
  name: string;
  fault: Omit<Fault, "times">;
  /** Enough to fail the grant's mint and at least one request's mint (the SDK tries 3 times). */
  times: number;
}

// SSO portal faults are not here: the daemon caches the role credentials for their lifetime, so a
// revoke/grant never calls the portal again; only the cached-session test below meets them.
const SCENARIOS: Scenario[] = [
  { name: "STS Throttling beyond the SDK's retries", fault: { action: "GetScopedCredentials" }, times: 9 },
  { name: "STS 500 InternalFailure", fault: { action: "GetScopedCredentials", status: 500 }, times: 9 },
  { name: "STS 503 ServiceUnavailable", fault: { action: "GetScopedCredentials", status: 503, code: "ServiceUnavailable" }, times: 9 },
  { name: "STS connection reset", fault: { action: "GetScopedCredentials", reset: true }, times: 9 },
  { name: "STS clock skew (RequestExpired)", fault: { action: "GetScopedCredentials", status: 400, code: "RequestExpired", message: "Request has expired" }, times: 9 },
  { name: "STS clock skew (SignatureDoesNotMatch)", fault: { action: "GetScopedCredentials", status: 403, code: "SignatureDoesNotMatch", message: "Signature expired" }, times: 9 },
];

function creds(r: RawResponse): { AccessKeyId: string; Expiration: string } {
  return JSON.parse(r.body) as { AccessKeyId: string; Expiration: string };
}

describe("failing AWS: 503 + Retry-After, cached sessions kept, recovery by itself", () => {
  let stack: Stack;
  let ep: Endpoint;
  const get = () => sdkGet(ep);
  const outcomes: string[] = [];

  beforeAll(async () => {
    ({ stack, ep } = await grantedStack());
  }, 60_000);
  afterAll(async () => {
    console.log(`fault scenarios:\n${outcomes.join("\n")}`);
    await stack?.close();
  });

  for (const s of SCENARIOS) {
    it(`${s.name}: 503 with Retry-After while it lasts, then 200 with a fresh session`, async () => {
      const old = creds(await waitServed());
      expect((await stack.cli(["revoke", "audit"])).code).toBe(0);
      const mintsBefore = stack.sandbox.count("GetScopedCredentials");
      stack.sandbox.inject({ ...s.fault, times: s.times } as Fault);
      const g = await stack.cli(["grant", "audit", "--for", "30m", "--reason", `fault ${s.name}`]);
      expect(g.code, g.stderr).toBe(0);

      const seen = new Map<string, number>();
      const started = Date.now();
      let usedUpAt: number | undefined;
      let ok: RawResponse | undefined;
      // Until the 200; the test's timeout is the only bound.
      for (;;) {
        const sent = Date.now();
        const r = await get();
        // The last faulted call reached STS during this request at the latest: measuring from
        // the request's start can only lengthen what is measured below.
        if (usedUpAt === undefined && stack.sandbox.count("GetScopedCredentials") - mintsBefore >= s.times) usedUpAt = sent;
        if (r.status === 200) {
          ok = r;
          break;
        }
        expect(r.status, `${s.name}: no answer`).not.toBe(0);
        const body = JSON.parse(r.body) as { code: string };
        seen.set(`${r.status} ${body.code}`, (seen.get(`${r.status} ${body.code}`) ?? 0) + 1);
        // Never 500 and never a 4xx for AWS's failure: 503 with a Retry-After the SDK honours.
        expect(r.status, `${s.name}: ${r.status} ${body.code}`).toBe(503);
        expect(Number(r.headers["retry-after"])).toBeGreaterThanOrEqual(1);
        // Pacing only, as an SDK's backoff would; no assertion depends on it.
        await sleep(300);
      }
      // The fault was met: at least one request was answered 503 before the 200.
      expect(seen.size, `${s.name}: the fault never showed`).toBeGreaterThan(0);
      const fresh = creds(ok!);
      // A fresh session, not the revoked one, and not expired.
      expect(fresh.AccessKeyId).not.toBe(old.AccessKeyId);
      expect(Date.parse(fresh.Expiration)).toBeGreaterThan(Date.now() + 60_000);
      const recovered = Date.now() - (usedUpAt ?? started);
      outcomes.push(`  ${s.name}: ${JSON.stringify(Object.fromEntries(seen))} then 200 after ${Date.now() - started} ms (${recovered} ms after the fault was used up)`);
      // The product's promise: recovery does not wait for the broker's 30 s background retry, a
      // request mints at once. Measured from the request during which the fault's last call was
      // made, not from the grant (the SDK's own retries of the fault are load-dependent): a second
      // or so here, so 20 s holds on a
      // machine 10× slower, and a daemon waiting for the retry (≈30 s) still fails it.
      expect(usedUpAt, `${s.name}: the fault was never used up`).toBeDefined();
      expect(recovered).toBeLessThan(20_000);
    }, 120_000);
  }

  it("STS slow to answer (its answer held): 503 with Retry-After while it is held, then 200 with the answer it held", async () => {
    const old = creds(await waitServed());
    expect((await stack.cli(["revoke", "audit"])).code).toBe(0);
    const held = stack.sandbox.hold("GetScopedCredentials");
    const g = await stack.cli(["grant", "audit", "--for", "30m", "--reason", "slow STS"]);
    expect(g.code, g.stderr).toBe(0);
    const call = await held.arrived;
    // STS has not answered (it cannot: the answer is held), so this request cannot be served.
    const waiting = await get();
    // The status only: a wrongly served body would print the credentials.
    expect(waiting.status).toBe(503);
    expect(Number(waiting.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(call.status).toBe(0);
    held.release();
    const fresh = creds(await waitServed());
    expect(fresh.AccessKeyId).not.toBe(old.AccessKeyId);
    outcomes.push(`  STS held: 503 while held, then 200`);
  }, 90_000);

  it("slow SSO portal after a fresh login (GetRoleCredentials held, then answering 500): 503 + Retry-After, then 200", async () => {
    expect((await stack.cli(["revoke", "audit"])).code).toBe(0);
    expect((await stack.cli(["logout"])).code).toBe(0);
    // Logout rotates every endpoint token: the old one is refused at once (401), as DESIGN.md §2 says.
    expect((await get()).status).toBe(401);
    ep = await endpointOf(stack, "audit");
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
    // The portal's first answer is held (slow), and is a 500 once let go.
    const held = stack.sandbox.hold("GetRoleCredentials");
    stack.sandbox.inject({ action: "GetRoleCredentials", status: 500, times: 1 });
    const g = await stack.cli(["grant", "audit", "--for", "30m", "--reason", "slow portal"]);
    expect(g.code, g.stderr).toBe(0);
    await held.arrived;
    const statuses: number[] = [];
    // Until the 200; the test's timeout is the only bound.
    for (let i = 0; ; i++) {
      // A few requests meet the held portal first; then it answers its 500.
      if (i === 2) held.release();
      const r = await get();
      statuses.push(r.status);
      if (r.status === 200) break;
      expect(r.status).toBe(503);
      expect(Number(r.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      // Pacing only, as an SDK's backoff would; no assertion depends on it.
      if (i >= 2) await sleep(300);
    }
    // Served only after the held answer was let go: the first two requests were refused 503.
    expect(statuses.slice(0, 2)).toEqual([503, 503]);
    outcomes.push(`  slow SSO portal: ${statuses.length - 1} × 503 then 200`);
  }, 90_000);

  it("never serves a cached session past its window's end, even while STS fails", async () => {
    expect((await stack.cli(["revoke", "audit"])).code).toBe(0);
    const g = await stack.cli(["grant", "audit", "--for", "6s", "--reason", "short"]);
    expect(g.code, g.stderr).toBe(0);
    const first = await waitServed();
    expect(first.status).toBe(200);
    // The window's real end, from the daemon: a served Expiration can be up to 2 s earlier (STS
    // counts whole seconds), and between the two a request finds no session to serve.
    const st = JSON.parse((await stack.cli(["status", "--json"])).stdout) as { profiles: { audit: { window: { end: string } } } };
    const windowEnd = Date.parse(st.profiles.audit.window.end);
    expect(Date.parse(creds(first).Expiration)).toBeLessThanOrEqual(windowEnd);
    // Few enough that the next test's mints use them up (the sandbox cannot disarm a fault).
    stack.sandbox.inject({ action: "GetScopedCredentials", times: 6 });
    while (Date.now() < windowEnd) {
      const sent = Date.now();
      const r = await get();
      if (r.status === 200) {
        const exp = Date.parse(creds(r).Expiration);
        expect(exp).toBeLessThanOrEqual(windowEnd);
        // Never an expired session (Expiration is whole seconds, so up to 1 s before the instant asked).
        expect(exp).toBeGreaterThan(sent - 1_000);
      } else if (Date.now() < windowEnd) {
        // The cached session has ended but the window has not: a mint is tried and STS fails (503),
        // or, in the window's last 2 s, nothing as short can be minted (STS counts whole seconds).
        const code = (JSON.parse(r.body) as { code: string }).code;
        if (windowEnd - sent > 2_000 || code !== "WindowClosed") expect(r.status, r.body).toBe(503);
      }
      // Pacing only: each answer is judged against the instant its request was sent (shared clock).
      await sleep(250);
    }
    // The daemon shares this clock: a request sent now is past the window's end.
    const after = await get();
    expect(after.status, after.body).toBe(403);
    expect((JSON.parse(after.body) as { code: string }).code).toBe("WindowClosed");
    outcomes.push(`  window ended during an STS outage: ${after.status} ${(JSON.parse(after.body) as { code: string }).code}, never the expired session`);
  }, 60_000);

  // Last: the faults it arms stay armed (the sandbox has no way to disarm them).
  it("keeps serving the cached session while STS and the SSO portal fail, without calling them", async () => {
    expect((await stack.cli(["grant", "audit", "--for", "30m", "--reason", "cached"])).code).toBe(0);
    const before = creds(await waitServed());
    const mints = stack.sandbox.count("GetScopedCredentials");
    stack.sandbox.inject({ action: "GetScopedCredentials", times: 50 });
    stack.sandbox.inject({ action: "GetRoleCredentials", status: 500, times: 50 });
    for (let i = 0; i < 20; i++) {
      const r = await get();
      expect(r.status).toBe(200);
      expect(creds(r).AccessKeyId).toBe(before.AccessKeyId);
    }
    expect(stack.sandbox.count("GetScopedCredentials")).toBe(mints);
  });

  async function waitServed(): Promise<RawResponse> {
    // A failure bound only: what comes back is then asserted (a status, not a duration).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await get();
      if (r.status === 200 || Date.now() > deadline) return r;
      await sleep(200);
    }
  }
});
