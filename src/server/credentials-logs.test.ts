import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import net from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { WindowClosedError } from "../errors.js";
import { createCredentialsServer, type CredentialsServer } from "./credentials.js";
import { EndpointTokens } from "./tokens.js";

/**
 * What the endpoint writes to its own log (only unexpected errors, with the error's type and an
 * errno-like code, never free text), that it runs with no event listeners at all, and that close()
 * really stops it.
 */

const PROFILES = ["closed", "errno", "textcode", "plain", "nullerr"];

function fail(profile: string): never {
  switch (profile) {
    case "closed":
      throw new WindowClosedError(profile);
    case "errno":
      throw Object.assign(new Error("write EPIPE secret-1"), { code: "EPIPE" });
    case "textcode":
      throw Object.assign(new Error("boom secret-2"), { code: "not a code secret-3" });
    case "nullerr":
      throw null;
    default:
      throw new TypeError("boom secret-4");
  }
}

function get(port: number, profile: string, headers: Record<string, string>, method = "GET"): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: `/v1/credentials/${profile}`, method, headers, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("credentials endpoint: its log and its life", () => {
  let root: string;
  let tokens: EndpointTokens;
  let server: CredentialsServer;
  const lines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "s3jit-endpoint-log-"));
    tokens = await EndpointTokens.open(path.join(root, "tokens"), PROFILES);
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    // No events: refusals and answers must not need a listener.
    server = await createCredentialsServer({ source: { credentials: async (p) => fail(p) }, tokens, port: 0, logger: pino({ level: "trace" }, sink), rateLimit: { limit: 100_000 } });
  });

  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  const ask = (profile: string) => get(server.port, profile, { authorization: tokens.token(profile) });

  it("logs an unexpected error once, with its type and errno code and none of its text", async () => {
    lines.length = 0;
    expect((await ask("errno")).status).toBe(500);
    expect(lines.map(({ msg, error, code }) => ({ msg, error, code }))).toEqual([{ msg: "credentials endpoint: unexpected error", error: "Error", code: "EPIPE" }]);
  });

  it("leaves out a code that is free text, and logs the type of other errors", async () => {
    lines.length = 0;
    expect((await ask("textcode")).status).toBe(500);
    expect((await ask("plain")).status).toBe(500);
    expect((await ask("nullerr")).status).toBe(500);
    expect(lines.map(({ msg, error, code }) => ({ msg, error, code }))).toEqual([
      { msg: "credentials endpoint: unexpected error", error: "Error", code: undefined },
      { msg: "credentials endpoint: unexpected error", error: "TypeError", code: undefined },
      { msg: "credentials endpoint: unexpected error", error: undefined, code: undefined },
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/secret-/);
  });

  it("logs nothing for a refusal: the broker's, a wrong token, a bad method", async () => {
    lines.length = 0;
    const closed = await ask("closed");
    expect(closed.status).toBe(403);
    expect(closed.headers.allow).toBeUndefined();
    const wrong = await get(server.port, "closed", { authorization: "x" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.allow).toBeUndefined();
    expect((await get(server.port, "closed", {}, "POST")).headers.allow).toBe("GET");
    expect(lines).toEqual([]);
  });

  it("close() stops listening", async () => {
    const other = await createCredentialsServer({ source: { credentials: async (p) => fail(p) }, tokens, port: 0 });
    const port = other.port;
    await other.close();
    const refused = await new Promise<string>((resolve) => {
      const sock = net.connect(port, "127.0.0.1");
      sock.on("connect", () => {
        sock.destroy();
        resolve("connected");
      });
      sock.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
    });
    expect(refused).toBe("ECONNREFUSED");
  });
});
