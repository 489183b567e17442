import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { chmodSync, existsSync, unlinkSync } from "node:fs";
import type { ControlApi } from "../control/contract.js";
import { S3jitError } from "../errors.js";
import { errnoCode, statusOf } from "./errors.js";

/** How long shutdown waits for control requests under way before it drops them. */
const CLOSE_GRACE_MS = 5000;
/** The largest request body: a grant's reason is the longest thing the CLI sends. */
const BODY_LIMIT = 16 * 1024;
const JSON_TYPE = "application/json; charset=utf-8";
const INTERNAL = { code: "InternalError", message: "internal error; see the daemon's log" };

type Body = Record<string, unknown>;

interface Route {
  method: "GET" | "POST";
  /** Split on "/"; a segment starting with ":" is a parameter. */
  segments: string[];
  handle(params: string[], body: Body): unknown;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function routesOf(api: ControlApi): Route[] {
  const route = (method: Route["method"], path: string, handle: Route["handle"]): Route => ({ method, segments: path.split("/"), handle });
  return [
    route("GET", "/v1/status", () => api.status()),
    route("POST", "/v1/login", (_, b) => api.login(str(b.sso), b.force === true, b.flow === "pkce" ? "pkce" : "device")),
    route("POST", "/v1/login/wait", (_, b) => api.waitLogin(str(b.sso) ?? "")),
    route("POST", "/v1/logout", async () => {
      await api.logout();
      return { ok: true };
    }),
    route("POST", "/v1/grant", (_, b) => api.grant(str(b.profile) ?? "", { for: str(b.for), reason: str(b.reason), who: str(b.who) })),
    route("POST", "/v1/revoke", async (_, b) => {
      await api.revoke(str(b.profile) ?? "");
      return { ok: true };
    }),
    route("GET", "/v1/env/:profile", ([profile]) => api.env(profile!)),
    route("GET", "/v1/sso/:sso/accounts", ([sso]) => api.accounts(sso!)),
    route("GET", "/v1/credentials/:profile", ([profile]) => api.credentials(profile!)),
  ];
}

/** The route's parameters, still encoded, where the path fits its segments; undefined where not. */
function match(route: Route, segments: string[]): string[] | undefined {
  if (route.segments.length !== segments.length) return undefined;
  const params: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const want = route.segments[i]!;
    if (want.startsWith(":")) params.push(segments[i]!);
    else if (want !== segments[i]) return undefined;
  }
  return params;
}

function decode(param: string): string {
  try {
    return decodeURIComponent(param);
  } catch {
    throw new S3jitError("Malformed", `malformed request: ${JSON.stringify(param)} is not a valid URL component`);
  }
}

/**
 * The body as an object. Any content type is read as JSON: the socket is owner-only, so no
 * browser form can reach it and the type guards nothing. What is not an object (no body, an
 * array, null) reads as no fields, which each handler answers as a missing argument.
 */
function readBody(req: IncomingMessage): Promise<Body> {
  if (Number(req.headers["content-length"]) > BODY_LIMIT) return Promise.reject(tooLarge());
  return new Promise<Body>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      // Once refused, the rest is still read (and dropped), so the 413 reaches a client that is still writing.
      if (size > BODY_LIMIT) return;
      size += chunk.length;
      if (size <= BODY_LIMIT) chunks.push(chunk);
      else {
        chunks.length = 0;
        reject(tooLarge());
      }
    });
    req.on("error", reject);
    req.on("end", () => {
      if (size > BODY_LIMIT) return;
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return resolve({});
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        return reject(new S3jitError("Malformed", `malformed request: the body is not JSON (${(err as Error).message})`));
      }
      resolve(parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Body) : {});
    });
  });
}

/** The request target without its query string. */
function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "";
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}

function tooLarge(): S3jitError {
  return new S3jitError("BodyTooLarge", `request body too large: the control API takes at most ${BODY_LIMIT} bytes`);
}

/**
 * The control API on a unix socket, on plain node:http: ten fixed routes need no framework, and
 * fastify (with ajv) was a large part of the daemon's memory and start time. The socket
 * file is 0600 inside a 0700 folder, so only the owner can connect; messages here may be
 * detailed because only the owner reads them.
 */
export interface ControlServerOptions {
  /**
   * A request failed with something other than an S3jitError (the caller got a bare 500): told
   * the request line and the error's type and code, never its text, which may quote anything.
   */
  onError?: (what: { method: string; path: string; error: string; code?: string }) => void;
}

export async function createControlServer(api: ControlApi, socketPath: string, opts: ControlServerOptions = {}): Promise<{ close(): Promise<void> }> {
  const routes = routesOf(api);
  const streams = new Set<ServerResponse>();
  let closing = false;

  function send(res: ServerResponse, status: number, value: unknown): void {
    if (res.headersSent || res.destroyed) return;
    const body = JSON.stringify(value ?? {});
    // Once shutdown has begun, a connection that has had its answer is closed rather than kept
    // for a next request that would never come: server.close() waits for every connection.
    res.writeHead(status, { "content-type": JSON_TYPE, "content-length": Buffer.byteLength(body), ...(closing ? { connection: "close" } : {}) });
    res.end(body);
  }

  // The one status table (server/errors.ts); the message in full: only the owner reads this socket.
  function fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    if (err instanceof S3jitError) return send(res, statusOf(err.code), { code: err.code, message: err.message });
    send(res, 500, INTERNAL);
    const code = errnoCode(err);
    opts.onError?.({
      method: req.method ?? "",
      path: pathOf(req).slice(0, 200),
      error: err instanceof Error ? err.name : typeof err,
      ...(code !== undefined ? { code } : {}),
    });
  }

  function events(res: ServerResponse): void {
    // Connection: close: a stream's connection is never reused, and when shutdown ends the
    // stream the connection closes with it instead of idling on.
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", Connection: "close" });
    res.write(": s3jit events\n\n");
    const unsubscribe = api.subscribe((event) => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
    streams.add(res);
    res.on("close", () => {
      unsubscribe();
      streams.delete(res);
    });
    // Asked for on a kept-alive connection after close() ended the others: ended at once too.
    if (closing) res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req);
    const segments = path.split("/");
    if (path === "/v1/events") {
      if (req.method === "GET") return events(res);
      throw notAllowed(res, "GET");
    }
    let allowed: string | undefined;
    for (const route of routes) {
      const params = match(route, segments);
      if (params === undefined) continue;
      // Answered before a body is read: a wrong method is refused whatever it sends.
      if (route.method !== req.method) {
        allowed = route.method;
        continue;
      }
      const decoded = params.map(decode);
      const body = route.method === "POST" ? await readBody(req) : {};
      return send(res, 200, await route.handle(decoded, body));
    }
    if (allowed !== undefined) throw notAllowed(res, allowed);
    throw new S3jitError("NotFound", `not found: the control API has no ${req.method} ${path}`);
  }

  function notAllowed(res: ServerResponse, allow: string): S3jitError {
    res.setHeader("allow", allow);
    return new S3jitError("MethodNotAllowed", `method not allowed: ${allow} only`);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => fail(req, res, err));
  });

  // A stale socket from a crashed daemon blocks listen(); the caller has checked nobody answers on it.
  if (existsSync(socketPath)) unlinkSync(socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
  return {
    // Idle connections close at once and requests under way finish (a `grant`, a
    // credential-process waiting on a mint). Event streams never finish: they are ended.
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        // A request that never ends (a login nobody completes) must not hold the daemon up for ever.
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close((err?: NodeJS.ErrnoException) => {
          clearTimeout(force);
          if (err && err.code !== "ERR_SERVER_NOT_RUNNING") reject(err);
          else resolve();
        });
        server.closeIdleConnections();
        // After the idle sweep, which would cut a just-ended stream before its last bytes went out.
        for (const res of streams) res.end();
      }),
  };
}
