import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import { rawUntil } from "../hardening/raw.js";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { MintPendingError, WindowClosedError } from "../../src/errors.js";
import type { Session } from "../../src/types.js";
import { createCredentialsServer, type CredentialsServer } from "../../src/server/credentials.js";
import { EndpointTokens } from "../../src/server/tokens.js";

/**
 * The endpoint's events and routing at their edges, over real loopback HTTP: the served event once
 * per session and connection, a listener that throws (the answer unchanged, only its type logged),
 * percent-encoded and malformed names, query strings, absolute-form targets.
 */

const EXPIRATION = Date.UTC(2026, 10, 28, 11, 30, 15, 0);

function sessionOf(profile: string, key: string): Session {
  return {
    profile,
    accessKeyId: key,
    secretAccessKey: "not-a-real-secret-key",
    sessionToken: "not-a-real-session-token",
    expiration: EXPIRATION,
    accountId: "123456789012",
    roleArn: "arn:aws:sts::123456789012:assumed-role/S3JitBase/alice",
    windowEnd: EXPIRATION,
    policyHash: "0".repeat(64),
  };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: Record<string, unknown>;
}

function request(port: number, urlPath: string, headers: Record<string, string>, agent: http.Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: urlPath, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/** A pino destination that keeps each JSON line it is given, parsed, in `lines`. */
function jsonLines(lines: Array<Record<string, unknown>> = []): { lines: Array<Record<string, unknown>>; sink: Writable } {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, sink };
}

/** One raw request on its own socket; resolves with the status line's code. */
const rawStatus = async (port: number, bytes: string): Promise<string> => /^HTTP\/1\.1 (\d{3})/.exec(await rawUntil(port, bytes, (t) => /^HTTP\/1\.1 \d{3}/.test(t)))?.[1] ?? "";

describe("credentials endpoint: events and routing at the edges", () => {
  let root: string;
  let tokens: EndpointTokens;
  let server: CredentialsServer;
  const served: Array<{ profile: string; key: string; port: number }> = [];
  const refused: Array<{ profile: string | null; code: string }> = [];
  const logged: Array<Record<string, unknown>> = [];
  let current = sessionOf("dev", "ASIAFIRSTKEY");
  let throwing = false;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "s3jit-endpoint-kill-"));
    tokens = await EndpointTokens.open(path.join(root, "tokens"), ["dev", "pending"]);
    const sink = jsonLines(logged).sink;
    server = await createCredentialsServer({
      source: {
        credentials: async (p) => {
          if (p === "pending") throw new MintPendingError(p);
          return current;
        },
      },
      tokens,
      port: 0,
      events: {
        served: (profile, s, peer) => {
          if (throwing) throw new TypeError(`listener broke on ${s.secretAccessKey}`);
          served.push({ profile, key: s.accessKeyId, port: peer.port });
        },
        refused: (profile, code) => {
          if (throwing) throw new RangeError(`listener broke on ${code}`);
          refused.push({ profile, code });
        },
      },
      logger: pino({ level: "trace" }, sink),
      rateLimit: { limit: 100_000 },
    });
  });

  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  const auth = () => ({ authorization: tokens.token("dev") });

  it("the served event: once per session and connection; again for a new session or a new connection", async () => {
    served.length = 0;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 3; i++) expect((await request(server.port, "/v1/credentials/dev", auth(), agent)).status).toBe(200);
      expect(served.map((s) => s.key)).toEqual(["ASIAFIRSTKEY"]);
      current = sessionOf("dev", "ASIASECONDKEY");
      expect((await request(server.port, "/v1/credentials/dev", auth(), agent)).json.AccessKeyId).toBe("ASIASECONDKEY");
      expect((await request(server.port, "/v1/credentials/dev", auth(), agent)).status).toBe(200);
      expect(served.map((s) => s.key)).toEqual(["ASIAFIRSTKEY", "ASIASECONDKEY"]);
      expect(new Set(served.map((s) => s.port)).size).toBe(1);
    } finally {
      agent.destroy();
    }
    // A connection of its own: a hand-out of its own.
    await request(server.port, "/v1/credentials/dev", auth());
    expect(served.map((s) => s.key)).toEqual(["ASIAFIRSTKEY", "ASIASECONDKEY", "ASIASECONDKEY"]);
    expect(served.every((s) => s.profile === "dev")).toBe(true);
  });

  it("a listener that throws changes no answer; only its type is logged, once per failure", async () => {
    logged.length = 0;
    throwing = true;
    try {
      const ok = await request(server.port, "/v1/credentials/dev", auth());
      expect(ok.status).toBe(200);
      expect(ok.json.AccessKeyId).toBe("ASIASECONDKEY");
      const no = await request(server.port, "/v1/credentials/dev", { authorization: "wrong" });
      expect(no.status).toBe(401);
    } finally {
      throwing = false;
    }
    expect(logged.map((l) => ({ error: l.error, msg: l.msg, level: l.level }))).toEqual([
      { error: "TypeError", msg: "credentials endpoint: event listener failed", level: 50 },
      { error: "RangeError", msg: "credentials endpoint: event listener failed", level: 50 },
    ]);
    expect(JSON.stringify(logged)).not.toContain("not-a-real-secret-key");
  });

  it("a percent-encoded name is decoded; one that does not decode is Malformed, with no profile", async () => {
    refused.length = 0;
    expect((await request(server.port, "/v1/credentials/%64ev", auth())).status).toBe(200);
    const bad = await request(server.port, "/v1/credentials/de%E0%A4%A", auth());
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe("Malformed");
    expect(refused).toEqual([{ profile: null, code: "Malformed" }]);
  });

  it("a query string is not part of the name, even with a slash in it; a slash in the name is 404", async () => {
    expect((await request(server.port, "/v1/credentials/dev?x=1/2", auth())).status).toBe(200);
    expect((await request(server.port, "/v1/credentials/dev?", auth())).status).toBe(200);
    expect((await request(server.port, "/v1/credentials/dev/", auth())).status).toBe(404);
    expect((await request(server.port, "/v1/credentials/", auth())).status).toBe(400);
  });

  it("an absolute-form target is refused even when it names the endpoint itself; one for another path is 404", async () => {
    refused.length = 0;
    const host = `Host: 127.0.0.1:${server.port}\r\nAuthorization: ${tokens.token("dev")}\r\n\r\n`;
    expect(await rawStatus(server.port, `GET http://127.0.0.1:${server.port}/v1/credentials/dev HTTP/1.1\r\n${host}`)).toBe("403");
    expect(refused).toEqual([{ profile: "dev", code: "RequestRefused" }]);
    expect(await rawStatus(server.port, `GET http://127.0.0.1:${server.port}/elsewhere HTTP/1.1\r\n${host}`)).toBe("404");
  });

  it("a mint under way: 503 with Retry-After, and no refusal event", async () => {
    refused.length = 0;
    const r = await request(server.port, "/v1/credentials/pending", { authorization: tokens.token("pending") });
    expect(r.status).toBe(503);
    expect(r.headers["retry-after"]).toBe("1");
    expect(r.headers.allow).toBeUndefined();
    expect(refused).toEqual([]);
  });
});

describe("credentials endpoint: its start, its end, and failures without a logger", () => {
  let root: string;
  let tokens: EndpointTokens;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "s3jit-endpoint-life-"));
    tokens = await EndpointTokens.open(path.join(root, "tokens"), ["dev"]);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const failing = {
    credentials: async (): Promise<Session> => {
      throw Object.assign(new Error("not-a-code"), { code: 42 });
    },
  };

  it("an unexpected error is answered 500 even with no logger; a numeric code is not logged as one", async () => {
    const bare = await createCredentialsServer({ source: failing, tokens, port: 0 });
    try {
      const r = await request(bare.port, "/v1/credentials/dev", { authorization: tokens.token("dev") });
      expect(r.status).toBe(500);
    } finally {
      await bare.close();
    }
    const { lines, sink } = jsonLines();
    const logged = await createCredentialsServer({ source: failing, tokens, port: 0, logger: pino({ level: "trace" }, sink) });
    try {
      expect((await request(logged.port, "/v1/credentials/dev", { authorization: tokens.token("dev") })).status).toBe(500);
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toHaveProperty("code");
      expect(lines[0]!.error).toBe("Error");
    } finally {
      await logged.close();
    }
  });

  it("a source that throws at once (no rejected promise) is answered 500, logged by type and code, with or without a logger", async () => {
    // The broker decides a cached hit and a refusal in the same tick and throws the refusal at
    // once: an unexpected throw on that path must still be answered and log no free text.
    let thrown: unknown = null;
    const throwing = {
      credentials: (): Session => {
        throw thrown;
      },
    };
    const asked = (port: number) => request(port, "/v1/credentials/dev", { authorization: tokens.token("dev") });
    thrown = Object.assign(new Error("text that may quote a secret"), { code: "EPIPE" });
    const bare = await createCredentialsServer({ source: throwing, tokens, port: 0 });
    try {
      const r = await asked(bare.port);
      expect(r.status).toBe(500);
      expect(r.json.code).toBe("InternalError");
    } finally {
      await bare.close();
    }
    const { lines, sink } = jsonLines();
    const logged = await createCredentialsServer({ source: throwing, tokens, port: 0, logger: pino({ level: "trace" }, sink) });
    try {
      expect((await asked(logged.port)).status).toBe(500);
      // Not even an Error: nothing to name, and the handler must not trip over it.
      thrown = null;
      expect((await asked(logged.port)).status).toBe(500);
      expect(lines.map((l) => ({ level: l.level, msg: l.msg, error: l.error, code: l.code }))).toEqual([
        { level: 50, msg: "credentials endpoint: unexpected error", error: "Error", code: "EPIPE" },
        { level: 50, msg: "credentials endpoint: unexpected error", error: undefined, code: undefined },
      ]);
      expect(JSON.stringify(lines)).not.toContain("quote a secret");
    } finally {
      await logged.close();
    }
  });

  it("a session handed back at once (no promise) is served like a resolved one; a refusal thrown at once like a rejected one", async () => {
    const seen: Array<{ what: string; code?: string; key?: string }> = [];
    let answer: () => Session = () => sessionOf("dev", "ASIASYNCKEY");
    const server = await createCredentialsServer({
      source: { credentials: () => answer() },
      tokens,
      port: 0,
      events: { served: (_p, s) => seen.push({ what: "served", key: s.accessKeyId }), refused: (_p, code) => seen.push({ what: "refused", code }) },
    });
    try {
      const ok = await request(server.port, "/v1/credentials/dev", { authorization: tokens.token("dev") });
      expect(ok.status).toBe(200);
      expect(ok.json).toMatchObject({ AccessKeyId: "ASIASYNCKEY", Expiration: "2026-11-28T11:30:15Z" });
      answer = () => {
        throw new WindowClosedError("dev");
      };
      const closed = await request(server.port, "/v1/credentials/dev", { authorization: tokens.token("dev") });
      expect(closed.status).toBe(403);
      expect(closed.json.code).toBe("WindowClosed");
      answer = () => {
        throw new MintPendingError("dev");
      };
      const pending = await request(server.port, "/v1/credentials/dev", { authorization: tokens.token("dev") });
      expect(pending.status).toBe(503);
      // A mint under way is not a refusal: no audit line for it.
      expect(seen).toEqual([
        { what: "served", key: "ASIASYNCKEY" },
        { what: "refused", code: "WindowClosed" },
      ]);
    } finally {
      await server.close();
    }
  });

  it("a token check that throws is answered 500 by the handler's own catch, logged by type only", async () => {
    const { lines, sink } = jsonLines();
    const broken = {
      verify: (): boolean => {
        throw Object.assign(new TypeError("token store broke on a secret"), { code: "ENOENT" });
      },
    };
    const server = await createCredentialsServer({ source: { credentials: () => sessionOf("dev", "ASIANEVER") }, tokens: broken, port: 0, logger: pino({ level: "trace" }, sink) });
    try {
      const r = await request(server.port, "/v1/credentials/dev", { authorization: tokens.token("dev") });
      expect(r.status).toBe(500);
      expect(r.json.code).toBe("InternalError");
      expect(lines.map((l) => ({ msg: l.msg, error: l.error, code: l.code }))).toEqual([{ msg: "credentials endpoint: unexpected error", error: "TypeError", code: "ENOENT" }]);
      expect(JSON.stringify(lines)).not.toContain("secret");
    } finally {
      await server.close();
    }
  });

  it("an asterisk-form target (OPTIONS *) is 404, not an error", async () => {
    const server = await createCredentialsServer({ source: failing, tokens, port: 0 });
    try {
      expect(await rawStatus(server.port, `OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`)).toBe("404");
    } finally {
      await server.close();
    }
  });

  it("a port already taken fails the start; close() twice is fine", async () => {
    const first = await createCredentialsServer({ source: failing, tokens, port: 0 });
    await expect(createCredentialsServer({ source: failing, tokens, port: first.port })).rejects.toThrow(/EADDRINUSE/);
    await first.close();
    await expect(first.close()).resolves.toBeUndefined();
  });
});
