import http from "node:http";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { controlClient } from "../control/client.js";
import type { ControlApi, ControlEvent } from "../control/contract.js";
import { S3jitError } from "../errors.js";
import { createControlServer } from "./control.js";
import { until } from "../../test/helpers/wait.js";

/** A ControlApi that records each call's arguments and answers with them. */
function fakeApi() {
  const calls: Array<[string, ...unknown[]]> = [];
  const listeners = new Set<(e: ControlEvent) => void>();
  let held: { release(): void; arrived: Promise<void> } | undefined;
  const record =
    (name: string) =>
    (...args: unknown[]) => {
      calls.push([name, ...args]);
      return { called: name, args };
    };
  const api = {
    status: record("status"),
    login: async (...args: unknown[]) => record("login")(...args),
    waitLogin: async (...args: unknown[]) => record("waitLogin")(...args),
    logout: async () => void record("logout")(),
    grant: (profile: string, req: unknown) => {
      if (profile === "refused") throw new S3jitError("WindowClosed", "no window for refused: run `s3jit grant refused`");
      if (profile === "broken") throw new Error("token abc123 leaked in a foreign error");
      return record("grant")(profile, req);
    },
    revoke: async (profile: string) => void record("revoke")(profile),
    env: record("env"),
    accounts: async (...args: unknown[]) => record("accounts")(...args),
    // A credential-process waiting on a mint: answered when the test releases it.
    credentials: async (profile: string) => {
      if (profile !== "slow") return record("credentials")(profile);
      let release = () => {};
      let arrive = () => {};
      const arrived = new Promise<void>((r) => (arrive = r));
      const answer = new Promise<void>((r) => (release = r));
      held = { release: () => release(), arrived };
      arrive();
      await answer;
      return { AccessKeyId: "ASIASLOW" };
    },
    subscribe: (listener: (e: ControlEvent) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as ControlApi;
  return {
    api,
    calls,
    listeners,
    emit: (e: ControlEvent) => listeners.forEach((l) => l(e)),
    held: () => held,
  };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

describe("the control server (node:http on a unix socket)", () => {
  let dir: string;
  let socket: string;
  let fake: ReturnType<typeof fakeApi>;
  let server: { close(): Promise<void> } | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "s3jit-ctl-"));
    socket = path.join(dir, "control.sock");
    fake = fakeApi();
    server = await createControlServer(fake.api, socket);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function request(method: string, urlPath: string, body?: string | Buffer, headers: http.OutgoingHttpHeaders = {}, agent: http.Agent | false = false): Promise<Answer> {
    return new Promise((resolve, reject) => {
      // Framed as the CLI frames it: Node sends a GET's body unframed otherwise.
      const framed = body === undefined || headers["transfer-encoding"] ? headers : { "content-length": Buffer.byteLength(body), ...headers };
      const req = http.request({ socketPath: socket, path: urlPath, method, headers: framed, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
        });
      });
      req.on("error", reject);
      req.end(body);
    });
  }
  const post = (urlPath: string, body: unknown) => request("POST", urlPath, JSON.stringify(body), { "content-type": "application/json" });

  it("listens on an owner-only socket, replacing a stale socket file", async () => {
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    await server!.close();
    writeFileSync(socket, "left by a crashed daemon");
    server = await createControlServer(fake.api, socket);
    expect(statSync(socket).isSocket()).toBe(true);
    expect((await request("GET", "/v1/status")).status).toBe(200);
  });

  it.each([
    ["GET", "/v1/status", undefined, ["status"]],
    ["GET", "/v1/status?ignored=1", undefined, ["status"]],
    ["POST", "/v1/login", { sso: "corp", force: true, flow: "pkce" }, ["login", "corp", true, "pkce"]],
    ["POST", "/v1/login", {}, ["login", undefined, false, "device"]],
    ["POST", "/v1/login/wait", { sso: "corp" }, ["waitLogin", "corp"]],
    ["POST", "/v1/logout", {}, ["logout"]],
    ["POST", "/v1/grant", { profile: "audit", for: "30m", reason: "ticket 1", who: "ann", extra: 1 }, ["grant", "audit", { for: "30m", reason: "ticket 1", who: "ann" }]],
    ["POST", "/v1/grant", { profile: 7, for: "" }, ["grant", "", { for: undefined, reason: undefined, who: undefined }]],
    ["POST", "/v1/revoke", { profile: "audit" }, ["revoke", "audit"]],
    ["GET", "/v1/env/audit", undefined, ["env", "audit"]],
    ["GET", "/v1/sso/corp/accounts", undefined, ["accounts", "corp"]],
    ["GET", "/v1/credentials/audit", undefined, ["credentials", "audit"]],
  ] as const)("%s %s reaches the API with what the CLI sent", async (method, urlPath, body, call) => {
    const a = method === "GET" ? await request("GET", urlPath) : await post(urlPath, body);
    expect(a.status).toBe(200);
    expect(a.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(fake.calls).toEqual([call]);
  });

  it("logout and revoke answer {ok: true}", async () => {
    expect((await post("/v1/logout", {})).body).toEqual({ ok: true });
    expect((await post("/v1/revoke", { profile: "audit" })).body).toEqual({ ok: true });
  });

  it("decodes path parameters (an encoded slash stays inside the parameter)", async () => {
    await request("GET", "/v1/env/my%20profile");
    await request("GET", "/v1/sso/a%2Fb/accounts");
    await request("GET", "/v1/credentials/p%C3%A9");
    expect(fake.calls).toEqual([
      ["env", "my profile"],
      ["accounts", "a/b"],
      ["credentials", "pé"],
    ]);
  });

  it("answers a parameter that is not valid percent-encoding 400 Malformed, without calling the API", async () => {
    const a = await request("GET", "/v1/env/%zz");
    expect(a.status).toBe(400);
    expect(a.body.code).toBe("Malformed");
    expect(fake.calls).toEqual([]);
  });

  it("answers a body that is not JSON 400 Malformed", async () => {
    const a = await request("POST", "/v1/grant", "{profile:", { "content-type": "application/json" });
    expect(a.status).toBe(400);
    expect(a.body).toMatchObject({ code: "Malformed", message: expect.stringContaining("not JSON") });
    expect(fake.calls).toEqual([]);
  });

  it("reads no body, an array or null as no fields", async () => {
    await request("POST", "/v1/login/wait");
    await request("POST", "/v1/login/wait", "[1]", { "content-type": "application/json" });
    await request("POST", "/v1/login/wait", "null", { "content-type": "application/json" });
    expect(fake.calls).toEqual([
      ["waitLogin", ""],
      ["waitLogin", ""],
      ["waitLogin", ""],
    ]);
  });

  it("takes a body of 16 KiB and refuses one byte more with 413, declared or streamed", async () => {
    const sized = (n: number) => {
      const base = JSON.stringify({ profile: "audit", pad: "" });
      return JSON.stringify({ profile: "audit", pad: "x".repeat(n - base.length) });
    };
    expect(Buffer.byteLength(sized(16 * 1024))).toBe(16 * 1024);
    expect((await request("POST", "/v1/grant", sized(16 * 1024), { "content-type": "application/json" })).status).toBe(200);

    const declared = await request("POST", "/v1/grant", sized(16 * 1024 + 1), { "content-type": "application/json" });
    expect(declared.status).toBe(413);
    expect(declared.body).toMatchObject({ code: "BodyTooLarge", message: expect.stringContaining("16384 bytes") });
    // No Content-Length: the size is only known as the body arrives.
    const streamed = await request("POST", "/v1/grant", Buffer.alloc(64 * 1024, "x"), { "transfer-encoding": "chunked" });
    expect(streamed.status).toBe(413);
    expect(fake.calls).toHaveLength(1);
  });

  it("the CLI's client gets the 413 as a typed error, not a broken connection", async () => {
    const reason = "x".repeat(1024 * 1024);
    await expect(controlClient(socket).post("/v1/grant", { profile: "audit", reason })).rejects.toMatchObject({ code: "BodyTooLarge" });
  });

  it.each([
    ["GET", "/v1/nope"],
    ["GET", "/"],
    ["GET", "/v1/status/"],
    ["GET", "/V1/STATUS"],
    ["GET", "/v1/env/a/b"],
    ["POST", "/v1/events/x"],
  ])("answers %s %s 404 NotFound", async (method, urlPath) => {
    const a = await request(method, urlPath);
    expect(a.status).toBe(404);
    expect(a.body.code).toBe("NotFound");
  });

  it.each([
    ["POST", "/v1/status", "GET"],
    ["HEAD", "/v1/status", "GET"],
    ["GET", "/v1/grant", "POST"],
    ["DELETE", "/v1/revoke", "POST"],
    ["POST", "/v1/env/audit", "GET"],
    ["POST", "/v1/events", "GET"],
  ])("answers %s %s 405 with Allow: %s, before reading a body", async (method, urlPath, allow) => {
    const a = await request(method, urlPath, method === "HEAD" ? undefined : "{not json");
    expect(a.status).toBe(405);
    expect(a.headers.allow).toBe(allow);
    if (method !== "HEAD") expect(a.body.code).toBe("MethodNotAllowed");
    expect(fake.calls).toEqual([]);
  });

  it("the CLI's client gets unknown routes and wrong methods as typed errors", async () => {
    const client = controlClient(socket);
    await expect(client.get("/v1/nope")).rejects.toMatchObject({ code: "NotFound" });
    await expect(client.get("/v1/grant")).rejects.toMatchObject({ code: "MethodNotAllowed" });
  });

  it("answers an S3jitError with its code's status and its message, anything else with a generic 500", async () => {
    const refused = await post("/v1/grant", { profile: "refused" });
    expect(refused).toMatchObject({ status: 403, body: { code: "WindowClosed", message: "no window for refused: run `s3jit grant refused`" } });
    const broken = await post("/v1/grant", { profile: "broken" });
    expect(broken.status).toBe(500);
    // A foreign error's text may carry anything: it stays in the daemon.
    expect(broken.body).toEqual({ code: "InternalError", message: "internal error; see the daemon's log" });
  });

  it("tells the daemon's log what the 500 points at: the request line and the error's type and code, never its text", async () => {
    await server!.close();
    const reported: unknown[] = [];
    server = await createControlServer(fake.api, socket, { onError: (what) => reported.push(what) });
    expect((await post("/v1/grant?x=1", { profile: "broken" })).status).toBe(500);
    // An S3jitError is the caller's answer, not the log's.
    expect((await post("/v1/grant", { profile: "refused" })).status).toBe(403);
    expect(reported).toEqual([{ method: "POST", path: "/v1/grant", error: "Error" }]);
    expect(JSON.stringify(reported)).not.toContain("abc123");
  });

  it("streams events as text/event-stream until the client leaves", async () => {
    const chunks: string[] = [];
    const res = await new Promise<http.IncomingMessage>((resolve) => http.get({ socketPath: socket, path: "/v1/events", agent: false }, resolve));
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/event-stream");
    const got = new Promise<void>((resolve) =>
      res.on("data", (d: Buffer) => {
        chunks.push(d.toString());
        if (chunks.join("").includes("data: ")) resolve();
      }),
    );
    await until("the stream to subscribe", () => fake.listeners.size === 1);
    fake.emit({ type: "granted", profile: "audit" } as unknown as ControlEvent);
    await got;
    expect(chunks.join("")).toBe(': s3jit events\n\nevent: granted\ndata: {"type":"granted","profile":"audit"}\n\n');
    res.destroy();
    await until("the closed stream to unsubscribe", () => fake.listeners.size === 0);
  });

  it("close(): ends event streams, closes idle connections at once, lets a request under way finish", async () => {
    // An event stream (a tray), an idle kept-alive connection (a client between requests), and a
    // request waiting on a mint (a credential-process).
    const stream = await new Promise<http.IncomingMessage>((resolve) => http.get({ socketPath: socket, path: "/v1/events", agent: false }, resolve));
    const streamEnded = new Promise<boolean>((resolve) => {
      stream.on("end", () => resolve(true));
      stream.on("error", () => resolve(false));
      stream.resume();
    });
    const agent = new http.Agent({ keepAlive: true });
    expect((await request("GET", "/v1/status", undefined, {}, agent)).status).toBe(200);
    const idle = Object.values(agent.freeSockets).flat()[0]!;
    const idleClosed = new Promise<void>((resolve) => idle.once("close", () => resolve()));
    const slow = request("GET", "/v1/credentials/slow");
    await (await until("the slow request to reach the API", () => fake.held())).arrived;

    let closed = false;
    const closing = server!.close().then(() => (closed = true));
    await idleClosed;
    expect(await streamEnded).toBe(true);
    expect(closed).toBe(false);

    fake.held()!.release();
    const a = await slow;
    expect(a).toMatchObject({ status: 200, body: { AccessKeyId: "ASIASLOW" } });
    // The answered connection is closed too: nothing is left to wait for.
    expect(a.headers.connection).toBe("close");
    await closing;
    expect(closed).toBe(true);
    server = undefined;
    agent.destroy();
  });

  it("close(): a request that never finishes is cut after the 5 s grace", async () => {
    const slow = request("GET", "/v1/credentials/slow");
    slow.catch(() => {}); // looked at below
    await (await until("the slow request to reach the API", () => fake.held())).arrived;
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let closed = false;
    const closing = server!.close().then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(4_900);
    expect(closed).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    vi.useRealTimers();
    await closing;
    await expect(slow).rejects.toThrow();
    server = undefined;
    fake.held()!.release();
  });
});
