import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import http from "node:http";
import net from "node:net";
import { rawUntil } from "../../test/hardening/raw.js";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { ManualClock, ManualTimers } from "../clock.js";
import { LoginRequiredError, MintPendingError, OutsideHoursError, UpstreamError, WindowClosedError } from "../errors.js";
import type { Session } from "../types.js";
import { createCredentialsServer, type CredentialSource, type CredentialsServer, type Peer } from "./credentials.js";
import { EndpointTokens } from "./tokens.js";

// Expiration carries milliseconds on purpose: the endpoint must cut them.
const EXPIRATION = Date.UTC(2026, 10, 28, 11, 30, 15, 987);

function session(profile: string): Session {
  return {
    profile,
    accessKeyId: "ASIAEXAMPLEKEY",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    sessionToken: "FwoGZXIvYXdzEXAMPLESESSIONTOKEN",
    expiration: EXPIRATION,
    accountId: "123456789012",
    roleArn: "arn:aws:sts::123456789012:assumed-role/S3JitBase/alice",
    windowEnd: EXPIRATION + 1000,
    policyHash: "0".repeat(64),
  };
}

const SECRET_IN_ERROR = "s3jit-secret-in-error-text-4711";

/** The broker's place: a fixed session, or the typed refusals the broker throws. */
const fakeSource: CredentialSource = {
  async credentials(profile) {
    switch (profile) {
      case "closed":
        throw new WindowClosedError(profile);
      case "login":
        throw new LoginRequiredError("corp");
      case "hours":
        throw new OutsideHoursError(profile, "Mon-Fri 08:00-19:00");
      case "upstream":
        throw new UpstreamError("STS answered Throttling", 3);
      case "pending":
        throw new MintPendingError(profile);
      case "boom":
        throw new Error(`socket hang up while sending ${SECRET_IN_ERROR}`);
      default:
        return session(profile);
    }
  },
};

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: Record<string, unknown>;
}

function parse(status: number, headers: http.IncomingHttpHeaders, text: string): Answer {
  // No CORS headers, ever: checked on every answer any test receives.
  expect(Object.keys(headers).filter((h) => h.startsWith("access-control-"))).toEqual([]);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON (a HEAD answer): the test looks at text.
  }
  return { status, headers, text, json };
}

function request(port: number, urlPath: string, headers: Record<string, string> = {}, method = "GET", agent: http.Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: urlPath, method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        try {
          resolve(parse(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString("utf8")));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on("error", reject);
    req.end();
  });
}


const PROFILES = ["dev", "prod", "closed", "login", "hours", "upstream", "pending", "boom"];

describe("credentials endpoint", () => {
  let root: string;
  let tokens: EndpointTokens;
  let server: CredentialsServer;
  let port: number;
  const served: Array<{ profile: string; peer: Peer }> = [];
  const refused: Array<{ profile: string | null; code: string; peer: Peer }> = [];
  const logged: string[] = [];

  const get = (profile: string, headers: Record<string, string> = {}, method = "GET") => request(port, `/v1/credentials/${profile}`, headers, method);
  const auth = (profile: string) => ({ authorization: tokens.token(profile) });

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "s3jit-endpoint-"));
    tokens = await EndpointTokens.open(path.join(root, "tokens"), PROFILES);
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(chunk.toString("utf8"));
        done();
      },
    });
    server = await createCredentialsServer({
      source: fakeSource,
      tokens,
      port: 0,
      events: {
        served: (profile, _s, peer) => served.push({ profile, peer }),
        refused: (profile, code, peer) => refused.push({ profile, code, peer }),
      },
      logger: pino({ level: "trace" }, sink),
      // These tests send dozens of refusals in a row; the lockout has its own server below.
      rateLimit: { limit: 100_000 },
    });
    port = server.port;
  });

  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it("advertises the literal 127.0.0.1", () => {
    expect(server.url("dev")).toBe(`http://127.0.0.1:${port}/v1/credentials/dev`);
  });

  it("serves the container-credentials body, exactly, with no-store", async () => {
    const r = await get("dev", auth("dev"));
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(r.headers["cache-control"]).toBe("no-store");
    expect(r.json).toEqual({
      AccessKeyId: "ASIAEXAMPLEKEY",
      SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      Token: "FwoGZXIvYXdzEXAMPLESESSIONTOKEN",
      Expiration: "2026-11-28T11:30:15Z",
      AccountId: "123456789012",
      RoleArn: "arn:aws:sts::123456789012:assumed-role/S3JitBase/alice",
    });
    expect(r.json.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const last = served.at(-1);
    expect(last?.profile).toBe("dev");
    expect(last?.peer.address).toBe("127.0.0.1");
    expect(last?.peer.port).toBeGreaterThan(0);
  });

  it("accepts Host localhost:<port>, a query string, and Node fetch's Sec-Fetch-Mode alone", async () => {
    expect((await get("dev", { ...auth("dev"), host: `localhost:${port}` })).status).toBe(200);
    expect((await request(port, "/v1/credentials/dev?x=1", auth("dev"))).status).toBe(200);
    expect((await get("dev", { ...auth("dev"), "sec-fetch-mode": "cors" })).status).toBe(200);
    // Other four-letter headers are not a second Host.
    expect((await get("dev", { ...auth("dev"), from: "me@example.com", date: "Mon, 23 Nov 2026 10:00:00 GMT" })).status).toBe(200);
    const viaFetch = await fetch(server.url("dev"), { headers: auth("dev") });
    expect(viaFetch.status).toBe(200);
    expect(viaFetch.headers.get("access-control-allow-origin")).toBeNull();
  });

  describe("refuses without a valid token for the profile: 401, one body for every case", () => {
    let wrongTokenBody = "";
    beforeAll(async () => {
      wrongTokenBody = (await get("dev", { authorization: "A".repeat(43) })).text;
    });

    it.each([
      ["no Authorization header", "dev", () => ({})],
      ["a wrong token", "dev", () => ({ authorization: "A".repeat(43) })],
      ["an empty token", "dev", () => ({ authorization: "" })],
      ["profile prod's token on dev", "dev", () => auth("prod")],
      ["an unknown profile", "nosuchprofile", () => auth("dev")],
      ["a Bearer prefix", "dev", () => ({ authorization: `Bearer ${tokens.token("dev")}` })],
    ])("%s", async (_what, profile, headers) => {
      const r = await get(profile, headers());
      expect(r.status).toBe(401);
      expect(r.json.code).toBe("Unauthorized");
      expect(r.json.Code).toBe("Unauthorized");
      expect(r.text).toBe(wrongTokenBody);
      expect(r.headers["content-type"]).toBe("application/json");
    });
  });

  describe("refuses browsers, proxies and DNS rebinding outright: 403 RequestRefused", () => {
    it.each([
      ["Host evil.example", () => ({ host: "evil.example" })],
      ["Host 127.0.0.1.evil.example:<port>", () => ({ host: `127.0.0.1.evil.example:${port}` })],
      ["Host on another port", () => ({ host: `127.0.0.1:${port + 1}` })],
      ["Host without a port", () => ({ host: "127.0.0.1" })],
      ["Origin", () => ({ origin: "https://evil.example" })],
      ["Origin null", () => ({ origin: "null" })],
      ["Sec-Fetch-Site", () => ({ "sec-fetch-site": "cross-site" })],
      ["X-Forwarded-For", () => ({ "x-forwarded-for": "10.0.0.1" })],
    ])("%s", async (_what, headers) => {
      // With the right token: the check does not depend on it.
      const r = await get("dev", { ...auth("dev"), ...headers() });
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({ code: "RequestRefused", Code: "RequestRefused" });
      expect(r.text).not.toContain(tokens.token("dev"));
    });

    it("a request without any Host (HTTP/1.0)", async () => {
      const text = await rawUntil(port, `GET /v1/credentials/dev HTTP/1.0\r\nAuthorization: ${tokens.token("dev")}\r\n\r\n`, () => false);
      expect(text).toMatch(/^HTTP\/1\.1 403 /);
      expect(text).toContain('"code":"RequestRefused"');
      expect(text.toLowerCase()).not.toContain("access-control-");
    });

    // Node keeps only the first Host; the second could be the name a rebinding page meant.
    it.each([
      ["two Host headers, the second foreign", () => [`127.0.0.1:${port}`, "evil.example"]],
      ["two Host headers, both the endpoint's", () => [`127.0.0.1:${port}`, `127.0.0.1:${port}`]],
    ])("a request with %s", async (_what, hosts) => {
      const lines = hosts().map((h) => `Host: ${h}\r\n`).join("");
      const text = await rawUntil(port, `GET /v1/credentials/dev HTTP/1.1\r\n${lines}Authorization: ${tokens.token("dev")}\r\nConnection: close\r\n\r\n`, () => false);
      expect(text).toMatch(/^HTTP\/1\.1 403 /);
      expect(text).toContain('"code":"RequestRefused"');
      expect(text).not.toContain("ASIAEXAMPLEKEY");
    });

    it("an absolute-form target naming another authority", async () => {
      const text = await rawUntil(
        port,
        `GET http://evil.example/v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${tokens.token("dev")}\r\nConnection: close\r\n\r\n`,
        () => false,
      );
      expect(text).toMatch(/^HTTP\/1\.1 403 /);
      expect(text).toContain('"code":"RequestRefused"');
    });
  });

  it.each([
    ["..", "/v1/credentials/.."],
    ["encoded ..", "/v1/credentials/%2E%2E"],
    ["an encoded slash", "/v1/credentials/dev%2Fx"],
    ["65 characters", `/v1/credentials/${"a".repeat(65)}`],
    ["200 characters", `/v1/credentials/${"a".repeat(200)}`],
    ["a space", "/v1/credentials/de%20v"],
    ["broken percent-encoding", "/v1/credentials/%zz"],
  ])("answers a malformed profile name (%s) 400 Malformed", async (_what, urlPath) => {
    const r = await request(port, urlPath, auth("dev"));
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: "Malformed", Code: "Malformed" });
  });

  it("a 64-character well-formed name is not malformed, just unknown", async () => {
    expect((await get("a".repeat(64), auth("dev"))).status).toBe(401);
  });

  it.each(["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])("answers %s 405 with Allow: GET", async (method) => {
    const r = await get("dev", { ...auth("dev"), origin: "https://evil.example", "access-control-request-method": "GET" }, method);
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe("GET");
    expect(r.json).toMatchObject({ code: "MethodNotAllowed" });
  });

  it("answers HEAD 405 too (it would run the whole GET)", async () => {
    const r = await get("dev", auth("dev"), "HEAD");
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe("GET");
  });

  it("answers 405 before reading a body fastify could not parse", async () => {
    const r = await rawUntil(
      port,
      `POST /v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-weird\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc`,
      () => false,
    );
    expect(r).toMatch(/^HTTP\/1\.1 405 /);
  });

  it("answers unknown paths 404 with the JSON error body", async () => {
    for (const p of ["/", "/v1/credentials", "/v1/credentials/dev/extra", "/latest/meta-data/"]) {
      const r = await request(port, p, auth("dev"));
      expect(r.status).toBe(404);
      expect(r.json).toMatchObject({ code: "NotFound", Code: "NotFound" });
    }
  });

  it.each([
    ["closed", 403, "WindowClosed", "s3jit grant closed"],
    ["login", 403, "LoginRequired", "s3jit login corp"],
    ["hours", 403, "OutsideHours", "Mon-Fri 08:00-19:00"],
  ])("passes the broker's refusal for %s on: %i %s saying what to run", async (profile, status, code, hint) => {
    const r = await get(profile, auth(profile));
    expect(r.status).toBe(status);
    expect(r.json).toMatchObject({ code, Code: code });
    expect(r.json.message).toContain(hint);
    expect(r.json.Message).toBe(r.json.message);
    expect(r.headers["retry-after"]).toBeUndefined();
    expect(r.headers["cache-control"]).toBe("no-store");
  });

  it.each([
    ["upstream", "UpstreamError", "3"],
    ["pending", "MintPending", "1"],
  ])("answers %s 503 %s with Retry-After %s", async (profile, code, retryAfter) => {
    const r = await get(profile, auth(profile));
    expect(r.status).toBe(503);
    expect(r.json).toMatchObject({ code });
    expect(r.headers["retry-after"]).toBe(retryAfter);
  });

  it("answers an unexpected exception 500 without its text, and logs neither it nor the token", async () => {
    const r = await get("boom", auth("boom"));
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ code: "InternalError" });
    expect(r.text).not.toContain(SECRET_IN_ERROR);
    expect(r.text).not.toContain("hang up");
    expect(logged.length).toBeGreaterThan(0);
    const log = logged.join("");
    expect(log).not.toContain(SECRET_IN_ERROR);
    for (const p of PROFILES) expect(log).not.toContain(tokens.token(p));
  });

  it("reports refusals with the code and the profile only when well formed", async () => {
    refused.length = 0;
    await get("prod", { authorization: "wrong" });
    await request(port, "/v1/credentials/%2E%2E", auth("dev"));
    await get("closed", auth("closed"));
    await get("pending", auth("pending"));
    expect(refused.map(({ profile, code }) => ({ profile, code }))).toEqual([
      { profile: "prod", code: "Unauthorized" },
      { profile: null, code: "Malformed" },
      { profile: "closed", code: "WindowClosed" },
      // A mint still under way is no refusal.
    ]);
    expect(refused[0]?.peer.address).toBe("127.0.0.1");
  });

  it("refuses oversized headers (small maxHeaderSize)", async () => {
    const r = await rawUntil(port, `GET /v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Pad: ${"p".repeat(8000)}\r\n\r\n`, () => false);
    expect(r).toMatch(/^HTTP\/1\.1 431 /);
  });

  it("serves two requests on one kept-alive socket", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ports = new Set<number>();
      for (let i = 0; i < 2; i++) {
        const r = await request(port, "/v1/credentials/dev", auth("dev"), "GET", agent);
        expect(r.status).toBe(200);
        ports.add(served.at(-1)?.peer.port ?? -1);
      }
      expect(ports.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it("answers two pipelined requests in order on one socket", async () => {
    const one = `GET /v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${tokens.token("dev")}\r\n\r\n`;
    const two = `GET /v1/credentials/prod HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: wrong\r\n\r\n`;
    const text = await rawUntil(port, one + two, (t) => t.includes('"code":"Unauthorized"'));
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(["200", "401"]);
    expect(text).toContain('"AccessKeyId":"ASIAEXAMPLEKEY"');
  });
});

describe("credentials endpoint under a flood of refused requests", () => {
  let root: string;
  let tokens: EndpointTokens;
  let server: CredentialsServer;
  const clock = new ManualClock();
  const refused: string[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "s3jit-flood-"));
    tokens = await EndpointTokens.open(path.join(root, "tokens"), ["dev"]);
    server = await createCredentialsServer({
      source: fakeSource,
      tokens,
      port: 0,
      events: { refused: (_p, code) => refused.push(code) },
      // The default limits, on a clock the test holds still: the burst is "one second" however slow the machine.
      rateLimit: { now: () => clock.now() },
    });
  });

  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it("answers 429 to bad requests after ~50 refusals a second, while the right token still gets 200", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const r = await request(server.port, "/v1/credentials/dev", { authorization: `guess-${i}` });
      statuses.push(r.status);
      if (r.status === 429) {
        expect(r.json).toMatchObject({ code: "ThrottlingException", Code: "ThrottlingException" });
        expect(Number(r.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      }
    }
    expect(statuses.slice(0, 50).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(50).every((s) => s === 429)).toBe(true);

    // The user's own SDK holds the right token: it is not locked out.
    const good = await request(server.port, "/v1/credentials/dev", { authorization: tokens.token("dev") });
    expect(good.status).toBe(200);
    // Other refusals are 429 during the lockout too.
    expect((await request(server.port, "/v1/credentials/dev", { host: "evil.example" })).status).toBe(429);

    // The audit hears of the lockout once, not once per flooding request.
    expect(refused.filter((c) => c === "Unauthorized")).toHaveLength(50);
    expect(refused.filter((c) => c === "RateLimited")).toHaveLength(1);

    clock.advance(3000);
    expect((await request(server.port, "/v1/credentials/dev", { authorization: "guess" })).status).toBe(401);
  });
});

// The endpoint's header deadline (5 s, header-deadline.ts) on a faked clock and sweep interval;
// the sockets are real. A kept-alive connection that answers in time keeps being served; one that
// sends nothing more is closed once 5 s have passed since its last response.
describe("credentials endpoint: a connection gets 5 s to send each request head", () => {
  let root: string;
  let tokens: EndpointTokens;
  let server: CredentialsServer;

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
    root = await mkdtemp(path.join(os.tmpdir(), "s3jit-deadline-"));
    tokens = await EndpointTokens.open(path.join(root, "tokens"), ["dev"]);
    server = await createCredentialsServer({ source: fakeSource, tokens, port: 0 });
  });

  afterAll(async () => {
    vi.useRealTimers();
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  /** Lets the server's side of the socket finish its response (no time passes: timers are fake). */
  const settle = async () => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  };

  it("keeps serving a connection just inside the deadline, and closes it at the deadline", async () => {
    const sock = net.connect(server.port, "127.0.0.1");
    sock.on("error", () => {});
    let text = "";
    let closed = false;
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => (text += d));
    sock.on("close", () => (closed = true));
    const ask = async () => {
      const before = (text.match(/HTTP\/1\.1 200 /g) ?? []).length;
      sock.write(`GET /v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: ${tokens.token("dev")}\r\n\r\n`);
      while ((text.match(/HTTP\/1\.1 200 /g) ?? []).length === before && !closed) await new Promise((r) => sock.once("data", r).once("close", r));
      await settle();
      return (text.match(/HTTP\/1\.1 200 /g) ?? []).length - before;
    };
    expect(await ask()).toBe(1);
    vi.advanceTimersByTime(4999);
    await settle();
    // Still open 1 ms before the deadline: the next request on it is served.
    expect(closed).toBe(false);
    expect(await ask()).toBe(1);
    // Its deadline starts again at that response: 5 s of silence close it.
    vi.advanceTimersByTime(5000);
    if (!closed) await new Promise((r) => sock.once("close", r));
    expect(closed).toBe(true);
  });
});

describe("credentials endpoint: quiet-time work", () => {
  it("runs once 5 s after the last connection closed (the daemon's garbage collection), and a failure of it is logged by type only", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "s3jit-endpoint-quiet-"));
    const tokens = await EndpointTokens.open(path.join(root, "tokens"), ["dev"]);
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const logged: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(chunk.toString("utf8"));
        done();
      },
    });
    let quiet = 0;
    const server = await createCredentialsServer({
      source: fakeSource,
      tokens,
      port: 0,
      timers,
      logger: pino({ level: "trace" }, sink),
      onQuiet: () => {
        quiet++;
        throw new Error(`collector failed near ${SECRET_IN_ERROR}`);
      },
    });
    try {
      // agent: false asks the server to close the connection after its answer.
      const answer = await request(server.port, "/v1/credentials/dev", { authorization: tokens.token("dev") });
      expect(answer.status).toBe(200);
      // The server sees the close a moment after the client has its answer.
      for (let i = 0; i < 200 && timers.size === 0; i++) await new Promise((r) => setImmediate(r));
      expect(timers.size).toBe(1);
      timers.advance(4999);
      expect(quiet).toBe(0);
      timers.advance(1);
      expect(quiet).toBe(1);
      expect(logged.join("")).toContain("quiet-time work failed");
      expect(logged.join("")).not.toContain(SECRET_IN_ERROR);
    } finally {
      await server.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
