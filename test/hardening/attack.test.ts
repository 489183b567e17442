import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { OTHER_PROFILE_TOML, type Stack } from "../helpers/stack.js";
import { endpointOf, grantedStack, rawRequest, sdkRequest, sleep, type Endpoint, type RawResponse } from "./raw.js";

/**
 * The endpoint under attack, driven over raw TCP against the real daemon (a child process) with a
 * window open, so every refusal below is made while a 200 is one correct request away.
 * src/server/credentials.test.ts covers the same refusals in process with a fake source; this
 * suite proves them on the wire, where Node's HTTP parser sits in front.
 */


interface Case {
  name: string;
  /** Built once the port and tokens are known. */
  request: (ep: Endpoint, other: Endpoint) => string | Buffer;
  /** Acceptable statuses; every case must be a refusal unless it lists 200. */
  status: number[];
  /** The refusal code in the JSON body, where the daemon (not Node's parser) answers. */
  code?: string;
}

const P = "/v1/credentials/audit";
const host = (ep: Endpoint) => `127.0.0.1:${ep.port}`;
const get = sdkRequest;

const TOKEN_CASES: Case[] = [
  { name: "no Authorization header", request: (ep) => get(ep, { token: null }), status: [401], code: "Unauthorized" },
  { name: "empty Authorization", request: (ep) => get(ep, { token: "" }), status: [401], code: "Unauthorized" },
  { name: "wrong token", request: (ep) => get(ep, { token: "letmein" }), status: [401], code: "Unauthorized" },
  {
    name: "right length, wrong token",
    request: (ep) => get(ep, { token: randomBytes(ep.token.length).toString("base64url").slice(0, ep.token.length) }),
    status: [401],
    code: "Unauthorized",
  },
  {
    name: "right token with its last character changed",
    request: (ep) => get(ep, { token: ep.token.slice(0, -1) + (ep.token.endsWith("A") ? "B" : "A") }),
    status: [401],
    code: "Unauthorized",
  },
  { name: "right token upper-cased", request: (ep) => get(ep, { token: ep.token.toUpperCase() }), status: [401], code: "Unauthorized" },
  { name: "right token, truncated", request: (ep) => get(ep, { token: ep.token.slice(0, 20) }), status: [401], code: "Unauthorized" },
  { name: "right token twice", request: (ep) => get(ep, { token: ep.token + ep.token }), status: [401], code: "Unauthorized" },
  { name: "another profile's token", request: (ep, other) => get(ep, { token: other.token }), status: [401], code: "Unauthorized" },
  { name: "this token on another profile", request: (ep) => get(ep, { path: "/v1/credentials/other" }), status: [401], code: "Unauthorized" },
  { name: "this token on an unknown profile", request: (ep) => get(ep, { path: "/v1/credentials/nosuch" }), status: [401], code: "Unauthorized" },
  { name: '"Bearer " prefix', request: (ep) => get(ep, { token: `Bearer ${ep.token}` }), status: [401], code: "Unauthorized" },
  { name: "percent-encoded CR/LF after the token", request: (ep) => get(ep, { token: `${ep.token}%0D%0A` }), status: [401], code: "Unauthorized" },
  // A raw CR or LF inside a header value is a framing error for Node's parser: 400 before any route.
  { name: "bare CR inside the token", request: (ep) => get(ep, { token: `${ep.token.slice(0, 10)}\r${ep.token.slice(10)}` }), status: [400] },
  { name: "bare LF inside the token", request: (ep) => get(ep, { token: `${ep.token.slice(0, 10)}\n${ep.token.slice(10)}` }), status: [400, 401] },
  { name: "CR/LF injecting a second header into the token", request: (ep) => get(ep, { token: `wrong\r\nX-Injected: 1` }), status: [401], code: "Unauthorized" },
  { name: "wrong token first, right token in a second header", request: (ep) => get(ep, { token: "wrong", extra: [`Authorization: ${ep.token}`] }), status: [401], code: "Unauthorized" },
  { name: "token in the query string instead of the header", request: (ep) => get(ep, { token: null, path: `${P}?token=${ep.token}` }), status: [401], code: "Unauthorized" },
  // Node's header limit (4 KiB here) answers before the daemon does.
  { name: "64 KiB token", request: (ep) => get(ep, { token: "A".repeat(64 * 1024) }), status: [431] },
  { name: "4 KiB token", request: (ep) => get(ep, { token: "A".repeat(4000) }), status: [401, 431] },
];

const HOST_CASES: Case[] = [
  { name: "Host evil.example", request: (ep) => get(ep, { host: "evil.example" }), status: [403], code: "RequestRefused" },
  { name: "Host 127.0.0.1.evil.example:PORT", request: (ep) => get(ep, { host: `127.0.0.1.evil.example:${ep.port}` }), status: [403], code: "RequestRefused" },
  { name: "Host evil.example:PORT", request: (ep) => get(ep, { host: `evil.example:${ep.port}` }), status: [403], code: "RequestRefused" },
  { name: "Host 127.0.0.1:other port", request: (ep) => get(ep, { host: `127.0.0.1:${ep.port === 80 ? 81 : ep.port + 1}` }), status: [403], code: "RequestRefused" },
  { name: "Host 127.0.0.1 without a port", request: (ep) => get(ep, { host: "127.0.0.1" }), status: [403], code: "RequestRefused" },
  { name: "Host localhost without a port", request: (ep) => get(ep, { host: "localhost" }), status: [403], code: "RequestRefused" },
  { name: "Host [::1]:PORT", request: (ep) => get(ep, { host: `[::1]:${ep.port}` }), status: [403], code: "RequestRefused" },
  { name: "Host 0.0.0.0:PORT", request: (ep) => get(ep, { host: `0.0.0.0:${ep.port}` }), status: [403], code: "RequestRefused" },
  { name: "Host 127.1:PORT", request: (ep) => get(ep, { host: `127.1:${ep.port}` }), status: [403], code: "RequestRefused" },
  { name: "Host with a trailing dot", request: (ep) => get(ep, { host: `localhost.:${ep.port}` }), status: [403], code: "RequestRefused" },
  { name: "Host empty", request: (ep) => get(ep, { host: "" }), status: [400, 403] },
  { name: "no Host, HTTP/1.0", request: (ep) => get(ep, { host: null, version: "1.0" }), status: [403], code: "RequestRefused" },
  { name: "no Host, HTTP/1.1", request: (ep) => get(ep, { host: null }), status: [400, 403] },
  { name: "two Host headers, the right one first", request: (ep) => get(ep, { extra: ["Host: evil.example"] }), status: [400, 403] },
  { name: "two Host headers, the right one second", request: (ep) => get(ep, { host: "evil.example", extra: [`Host: ${host(ep)}`] }), status: [400, 403] },
  { name: "absolute-form target naming evil.example", request: (ep) => get(ep, { path: `http://evil.example${P}` }), status: [400, 403, 404] },
];

const BROWSER_CASES: Case[] = [
  { name: "Origin http://evil.example", request: (ep) => get(ep, { extra: ["Origin: http://evil.example"] }), status: [403], code: "RequestRefused" },
  { name: "Origin null (sandboxed frame)", request: (ep) => get(ep, { extra: ["Origin: null"] }), status: [403], code: "RequestRefused" },
  { name: "Origin of the endpoint itself", request: (ep) => get(ep, { extra: [`Origin: http://${host(ep)}`] }), status: [403], code: "RequestRefused" },
  { name: "Origin empty", request: (ep) => get(ep, { extra: ["Origin: "] }), status: [403], code: "RequestRefused" },
  { name: "Sec-Fetch-Site: cross-site", request: (ep) => get(ep, { extra: ["Sec-Fetch-Site: cross-site"] }), status: [403], code: "RequestRefused" },
  { name: "Sec-Fetch-Site: same-origin", request: (ep) => get(ep, { extra: ["Sec-Fetch-Site: same-origin"] }), status: [403], code: "RequestRefused" },
  { name: "Sec-Fetch-Site: none", request: (ep) => get(ep, { extra: ["Sec-Fetch-Site: none"] }), status: [403], code: "RequestRefused" },
  { name: "X-Forwarded-For", request: (ep) => get(ep, { extra: ["X-Forwarded-For: 203.0.113.9"] }), status: [403], code: "RequestRefused" },
  { name: "X-Forwarded-For 127.0.0.1", request: (ep) => get(ep, { extra: ["X-Forwarded-For: 127.0.0.1"] }), status: [403], code: "RequestRefused" },
  {
    name: "CORS preflight",
    request: (ep) => get(ep, { method: "OPTIONS", token: null, extra: ["Origin: http://evil.example", "Access-Control-Request-Method: GET", "Access-Control-Request-Headers: authorization"] }),
    status: [403, 405],
  },
];

const PATH_CASES: Case[] = [
  { name: "..", request: (ep) => get(ep, { path: "/v1/credentials/.." }), status: [400, 404] },
  { name: ".", request: (ep) => get(ep, { path: "/v1/credentials/." }), status: [400, 404] },
  { name: "../ to another path", request: (ep) => get(ep, { path: "/v1/credentials/../../etc/passwd" }), status: [400, 404] },
  { name: "%2e%2e", request: (ep) => get(ep, { path: "/v1/credentials/%2e%2e" }), status: [400, 404] },
  { name: "%2F-encoded traversal", request: (ep) => get(ep, { path: "/v1/credentials/..%2F..%2Fetc%2Fpasswd" }), status: [400, 404] },
  { name: "%2F inside the name", request: (ep) => get(ep, { path: "/v1/credentials/audit%2Fx" }), status: [400, 404] },
  { name: "%5C (backslash)", request: (ep) => get(ep, { path: "/v1/credentials/..%5Caudit" }), status: [400, 404] },
  { name: "trailing slash", request: (ep) => get(ep, { path: `${P}/` }), status: [400, 404] },
  { name: "extra segment", request: (ep) => get(ep, { path: `${P}/x` }), status: [400, 404] },
  { name: "empty name", request: (ep) => get(ep, { path: "/v1/credentials/" }), status: [400, 404] },
  { name: "NUL byte", request: (ep) => get(ep, { path: "/v1/credentials/audit%00" }), status: [400, 404] },
  { name: "space in the name", request: (ep) => get(ep, { path: "/v1/credentials/au%20dit" }), status: [400, 404] },
  { name: "non-ASCII name", request: (ep) => get(ep, { path: "/v1/credentials/%C3%A4udit" }), status: [400, 404] },
  { name: "bad percent-encoding", request: (ep) => get(ep, { path: "/v1/credentials/%zz" }), status: [400, 404] },
  { name: "overlong UTF-8", request: (ep) => get(ep, { path: "/v1/credentials/%C0%AE%C0%AE" }), status: [400, 404] },
  { name: "65-character name", request: (ep) => get(ep, { path: `/v1/credentials/${"a".repeat(65)}` }), status: [400, 404] },
  { name: "other route", request: (ep) => get(ep, { path: "/v1/credentials" }), status: [404] },
  { name: "root", request: (ep) => get(ep, { path: "/" }), status: [404] },
  { name: "asterisk target", request: (ep) => get(ep, { path: "*" }), status: [400, 404] },
  { name: "8 KiB URL", request: (ep) => get(ep, { path: `/v1/credentials/${"a".repeat(8 * 1024)}` }), status: [400, 404, 414, 431] },
  { name: "8 KiB query string", request: (ep) => get(ep, { path: `${P}?${"a".repeat(8 * 1024)}` }), status: [400, 404, 414, 431] },
  { name: "query naming another profile, wrong token", request: (ep, other) => get(ep, { path: `${P}?profile=other`, token: other.token }), status: [401], code: "Unauthorized" },
];

const METHOD_CASES: Case[] = [
  ...["POST", "PUT", "DELETE", "OPTIONS", "PATCH"].map<Case>((method) => ({
    name: `${method} with the right token`,
    request: (ep) => get(ep, { method, extra: ["Content-Type: application/json", "Content-Length: 2"] }) + "{}",
    status: [405],
    code: "MethodNotAllowed",
  })),
  { name: "HEAD", request: (ep) => get(ep, { method: "HEAD" }), status: [405] },
  { name: "TRACE", request: (ep) => get(ep, { method: "TRACE" }), status: [400, 404, 405] },
  { name: "unknown method", request: (ep) => get(ep, { method: "FOO" }), status: [400, 404, 405] },
  { name: "lower-case get", request: (ep) => get(ep, { method: "get" }), status: [400, 404, 405] },
  { name: "CONNECT", request: (ep) => `CONNECT 127.0.0.1:${ep.port} HTTP/1.1\r\nHost: ${host(ep)}\r\n\r\n`, status: [0, 400, 404, 405] },
  { name: "HTTP/2 preface", request: () => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", status: [0, 400, 505] },
  { name: "HTTP/0.9", request: () => `GET ${P}\r\n`, status: [0, 400] },
  { name: "HTTP/1.2", request: (ep) => get(ep, { version: "1.2" }), status: [0, 400, 505] },
  { name: "chunked body on POST", request: (ep) => get(ep, { method: "POST", extra: ["Transfer-Encoding: chunked"] }) + "5\r\nhello\r\n0\r\n\r\n", status: [405] },
  { name: "Content-Length and Transfer-Encoding (smuggling)", request: (ep) => get(ep, { method: "POST", extra: ["Content-Length: 4", "Transfer-Encoding: chunked"] }) + "0\r\n\r\n", status: [0, 400, 405] },
];

const GROUPS: Record<string, Case[]> = { token: TOKEN_CASES, host: HOST_CASES, browser: BROWSER_CASES, path: PATH_CASES, method: METHOD_CASES };
const ALL = Object.values(GROUPS).flat();

describe("credentials endpoint under attack (raw TCP, real daemon, window open)", () => {
  let stack: Stack;
  let ep: Endpoint;
  let other: Endpoint;
  const results = new Map<string, RawResponse>();

  beforeAll(async () => {
    ({ stack, ep } = await grantedStack({ extraToml: OTHER_PROFILE_TOML }));
    other = await endpointOf(stack, "other");
    expect(other.token).not.toBe(ep.token);
    // Paced under the refused-request rate limit (~50 a second), so each answer is the case's own,
    // not 429. Not a race: a slower machine only sends them further apart.
    for (const c of ALL) {
      results.set(c.name, await rawRequest(ep.port, c.request(ep, other)));
      await sleep(40);
    }
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  for (const [group, cases] of Object.entries(GROUPS)) {
    describe(group, () => {
      it.each(cases.map((c) => [c.name, c] as const))("%s → refused", (_name, c) => {
        const r = results.get(c.name)!;
        // The message names the case and status only: a wrongly served body would print credentials.
        expect(c.status, `${c.name}: got ${r.status}`).toContain(r.status);
        expect(r.status).not.toBe(200);
        if (c.code) expect(JSON.parse(r.body).code).toBe(c.code);
        // Nothing of the token is echoed back.
        expect(r.raw).not.toContain(ep.token);
        expect(r.raw).not.toContain(other.token);
      });
    });
  }

  it("answers every token refusal with byte-identical bodies (no oracle)", () => {
    const bodies = new Set(TOKEN_CASES.filter((c) => c.code === "Unauthorized").map((c) => results.get(c.name)!.body));
    expect(bodies.size).toBe(1);
    expect(JSON.parse([...bodies][0]!)).toMatchObject({ code: "Unauthorized", Code: "Unauthorized" });
  });

  it("never sends an Access-Control-* header", () => {
    for (const [name, r] of results) {
      expect(Object.keys(r.headers).filter((h) => h.startsWith("access-control-")), name).toEqual([]);
    }
  });

  it(`ran ${ALL.length} attack cases, none served`, () => {
    expect(ALL.length).toBeGreaterThanOrEqual(80);
    expect([...results].filter(([, r]) => r.status === 200).map(([name]) => name)).toEqual([]);
  });

  it("still serves a valid request, over HTTP/1.1, HTTP/1.0, and pipelined with a body on GET", async () => {
    const ok = await rawRequest(ep.port, get(ep));
    expect(ok.status).toBe(200);
    expect(ok.headers["content-type"]).toBe("application/json");
    expect(ok.headers["cache-control"]).toBe("no-store");
    expect(JSON.parse(ok.body)).toHaveProperty("AccessKeyId");
    expect((await rawRequest(ep.port, get(ep, { version: "1.0" }))).status).toBe(200);
    const localhost = await rawRequest(ep.port, get(ep, { host: `localhost:${ep.port}` }));
    expect(localhost.status).toBe(200);
    // Two requests in one write: two answers, in order; the body of a GET is not read as a request.
    const keep = (extra: string[] = []) => [`GET ${P} HTTP/1.1`, `Host: ${host(ep)}`, `Authorization: ${ep.token}`, ...extra, "", ""].join("\r\n");
    const piped = await rawRequest(ep.port, keep(["Content-Length: 5"]) + "hello" + get(ep));
    expect(piped.raw.match(/HTTP\/1\.1 200/g)?.length).toBe(2);
    expect(piped.raw).not.toMatch(/HTTP\/1\.1 [45]\d\d/);
  });
});
